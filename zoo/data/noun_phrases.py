"""Noun phrases over tagged tokens: determiner, modifiers (comma- and and-separated adjectives included), head noun,
and an "of" complement when the head counts, holds or is part of it ("a pile of books", "the rim of the bath").

Phrases are token ranges [start, end). A wrapper ("a photo of a dog", "the sleek form of a cat") gives the
wrapped phrase: the entity is what is depicted.
"""

from __future__ import annotations

from zoo.data.relation_lexicon import (
    ABSTRACT_NOUNS,
    ABSTRACT_SUFFIXES,
    CONCRETE_EXCEPTIONS,
    LIGHT_NOUNS,
    OF_NOUNS,
    POSTPOSITIVE,
    QUOTE_NOUNS,
    SCENE_NOUNS,
    WRAPPER_NOUNS,
)
from zoo.data.tagging import CONTENT, Tok, adjective_like, fronted_object

MAX_WORDS = 9
PEOPLE_WRAPPERS = {"model", "models", "figure", "figures"}  # wrapper nouns that are also people
POSSESSIVE = {"his", "her", "its", "their", "my", "your", "our"}


def _coordinated(toks: list[Tok], sep: int, last: int, first: int) -> int:
    """Tokens to skip at a separator inside a list of adjectives ("sleek, dark wooden", "small and delicate",
    "blue, green, and yellow"), or 0 when the phrase ends at the separator."""
    n = len(toks)
    width = 2 if toks[sep].text == "," and sep + 1 < n and toks[sep + 1].low in ("and", "or") else 1
    if toks[sep].text != "," and toks[sep].low not in ("and", "or", "but", "yet"):
        return 0
    if toks[sep].low in ("but", "yet") and not (adjective_like(toks[last]) and sep + 1 < n and adjective_like(toks[sep + 1])):
        return 0  # "a messy but sun-drenched kitchen", "a small yet sturdy box"
    nxt = sep + width
    while nxt < n and toks[nxt].tag == "ADV" and nxt - sep - width < 2:
        nxt += 1  # "solidified, irregularly edged", "smaller, more modestly sized"
    if nxt + 1 >= n or toks[nxt].tag not in CONTENT:
        return 0
    more = toks[nxt + 1].tag in CONTENT
    if not (adjective_like(toks[nxt]) or (toks[last].tag == "ADJ" and more)):
        return 0
    if not more and not (toks[nxt + 1].text == "," or toks[nxt + 1].low in ("and", "or")):
        return 0
    if not _ends_in_noun(toks, nxt):
        return 0
    short_start = width == 1 and (last == first or toks[last].tag == "ADJ") and last - first <= 1 and first > 0 and \
        toks[first - 1].tag in ("DET", "NUM") and toks[first - 1].low not in POSSESSIVE and not (
            width == 1 and first > 1 and toks[first - 2].low == "of" and not toks[first - 2].in_phrase and
            toks[sep].text == ",")
    # "a plump and adorable panda"; not "the black grid and smooth pearls", nor "his back, exuding authority", nor
    # "the hull of the airship, intricate gears are" (a one-word of-complement before a comma is a noun)
    if short_start and not adjective_like(toks[last]) and fronted_object(toks, last):
        end = nxt
        while end < n and toks[end].tag in CONTENT:
            end += 1
        short_start = end < n and toks[end].text == "," and any(
            toks[m].tag == "NOUN" and not adjective_like(toks[m]) for m in range(nxt, end))
        # "On a plump, soft cushion, a cat"; not "Under the counter, wooden boxes are stored", nor "Inside the circle,
        # delicate, intertwined lines form": the comma ends the fronted phrase
    return width if adjective_like(toks[last]) or short_start else 0


def _ends_in_noun(toks: list[Tok], j: int) -> bool:
    """The list of modifiers from j reaches a head noun ("dark wooden cabinets"), not only adjectives
    ("imposing and steadfast,")."""
    last, run, last_run = None, 0, 0
    while j < len(toks):
        tok = toks[j]
        if tok.tag in CONTENT:
            last, run = tok, run + 1
            last_run = run  # the words in a row that end at the last content word ("sun-drenched kitchen,")
        elif tok.text == "," or tok.low in ("and", "or", "but", "yet"):
            if tok.text == "," and last is not None and last.tag == "NOUN" and not adjective_like(last):
                return True  # "the small but purposeful white timer, steadfast in": the head comes before the comma
            run = 0
        elif not (tok.tag == "ADV" and j + 1 < len(toks) and toks[j + 1].tag == "ADJ"):
            break
        j += 1
    return last is not None and ((last.tag == "NOUN" and not adjective_like(last)) or last_run >= 2)


def _body_end(toks: list[Tok], j: int) -> int | None:
    """Index of the last content word of the modifiers-and-head run starting at j, or None."""
    n, first, last, words = len(toks), j, None, 0
    while j < n and words < MAX_WORDS:
        tok = toks[j]
        if tok.tag in CONTENT:
            if last is not None and tok.low in POSTPOSITIVE and toks[last].tag == "NOUN" and not (
                    j + 1 < n and toks[j + 1].tag in CONTENT):
                break  # "faint lines visible in the background": the adjective follows its noun
            last, words, j = j, words + 1, j + 1
            continue
        m = j + 1 if tok.tag == "ADV" and j + 1 < n and toks[j + 1].tag == "ADV" else j  # "more modestly sized"
        if tok.tag == "ADV" and m + 2 < n and toks[m + 1].tag == "ADJ" and (toks[m + 2].tag in CONTENT or (
                toks[m + 2].low in ("and", "or", ",") and _ends_in_noun(toks, m + 3))):
            j = m + 1  # "a delicately crafted vase", "brightly colored, less ornate", "more modestly sized and older"
            continue
        if tok.tag == "NUM" and last is None:
            j += 1
            continue
        if last is not None:
            skip = _coordinated(toks, j, last, first)
            if skip:
                j += skip
                continue
        break
    return last


def noun_phrase_after(toks: list[Tok], i: int, wrappers: bool = True) -> tuple[int, int] | None:
    """The noun phrase starting at token i: [start, end) token indices, or None."""
    n = len(toks)
    if i >= n or not toks[i].word:
        return None
    if toks[i].tag == "PRON":
        return (i, i + 1)
    j = i
    while j < n and toks[j].tag in ("DET", "NUM") and j - i < 3:
        j += 1
    last = _body_end(toks, j)
    if last is None:
        if j > i and toks[j - 1].low in ("one", "other"):  # "the other", "the one"
            return (i, j)
        if j > i and (toks[j - 1].tag == "NUM" or toks[j - 1].low == "both") and j < n and toks[j].tag in (
                "VERB", "AUX"):
            return (i, j)  # "The two stand side by side on", "both sit beneath": a number that stands for its nouns
        return None
    end = last + 1
    if (quoted := _quoted_name_end(toks, last)) is not None:
        return (i, quoted)  # 'the word "calm"': the quoted text names the entity
    if end + 1 < n and toks[end].low == "of" and toks[end + 1].word:
        head = toks[last].low
        if wrappers and head in WRAPPER_NOUNS:
            inner = noun_phrase_after(toks, end + 1)
            return inner if inner is not None else (i, end)
        inner = noun_phrase_after(toks, end + 1, wrappers=False)
        if inner is not None and toks[inner[0]].tag != "PRON" and not kind_complement(toks, inner) and (
                (head in OF_NOUNS and not {t.low for t in toks[inner[0]:inner[1]]} & {"same", "different", "similar"})
                or proper_complement(toks, end + 1) or part_or_amount(toks, i, last, inner)):
            return (i, inner[1])
    return (i, end)


QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019"}


def _quoted_name_end(toks: list[Tok], last: int) -> int | None:
    """After a noun for text ("the word", "the letters", "the characters for"), the end of a quoted name right after
    it, else None."""
    q = last + 1
    if q + 1 < len(toks) and toks[q].low == "for" and toks[q + 1].text in QUOTES:
        q += 1  # 'the large characters for "LEAVE"'
    if toks[last].low not in QUOTE_NOUNS or q >= len(toks) or toks[q].text not in QUOTES:
        return None
    close = _closing_quote(toks, q)
    if close is None:
        return None
    while toks[last].low.endswith("s"):  # 'the phrases "Pure" and "Pleasure"': a plural names a list of quotes
        m = close + 1
        while m < len(toks) and toks[m].low in (",", "and", "or"):
            m += 1
        if m >= len(toks) or toks[m].text not in QUOTES or (nxt := _closing_quote(toks, m)) is None:
            break
        close = nxt
    return close + 1


def _closing_quote(toks: list[Tok], q: int) -> int | None:
    """The quote closing the one at token q, with at least one token between them, else None."""
    close = next((m for m in range(q + 1, min(len(toks), q + 16)) if toks[m].text == QUOTES[toks[q].text]), None)
    return close if close is not None and close > q + 1 else None


def quoted_phrase_before(toks: list[Tok], k: int) -> tuple[int, int] | None:
    """The phrase 'the words "Keep out"' whose closing quote is token k, else None."""
    if k < 2 or toks[k].text not in QUOTES.values():
        return None
    opening = next((m for m in range(k - 2, max(0, k - 16), -1) if QUOTES.get(toks[m].text) == toks[k].text), None)
    while opening is not None and opening > 2:  # 'the words "Wisdom," "Knowledge," and "Stories"': back to the first
        m = opening - 1
        while m > 0 and toks[m].low in (",", "and", "or"):
            m -= 1
        if toks[m].text not in QUOTES.values():
            break
        earlier = next((j for j in range(m - 2, max(0, m - 16), -1) if QUOTES.get(toks[j].text) == toks[m].text), None)
        if earlier is None:
            break
        opening = earlier
    before = opening - 1 - int(bool(opening) and toks[opening - 1].low == "for") if opening else 0
    phrase = noun_phrase_before(toks, before) if opening else None
    return (phrase[0], k + 1) if phrase is not None and _quoted_name_end(toks, before) == k + 1 else None


def bare_quotes_before(toks: list[Tok], k: int) -> list[tuple[int, int]]:
    """The quoted words whose closing quote is token k and those listed right before them ('"Gold," "Valid," and
    "Identity" are arranged'), each with its quotes, when no noun names them ('the words "Go"'); else []."""
    items: list[tuple[int, int]] = []
    while k >= 1 and toks[k].text in QUOTES.values():
        opening = next((m for m in range(k - 1, max(-1, k - 12), -1) if QUOTES.get(toks[m].text) == toks[k].text),
                       None)
        if opening is None or opening == k - 1:
            break
        items.insert(0, (opening, k + 1))
        k = opening - 1
        k -= int(k >= 0 and toks[k].low in ("and", "or"))
        k -= int(k >= 0 and toks[k].text == ",")
    start = items[0][0] if items else 0
    return items if items and (start == 0 or toks[start - 1].tag not in CONTENT) else []


def bare_quotes_after(toks: list[Tok], j: int) -> list[tuple[int, int]]:
    """The quoted words whose opening quote is token j and those listed right after them ('"Pure" and "Pleasure" are
    stacked'), each with its quotes; else []."""
    items: list[tuple[int, int]] = []
    while j < len(toks) and toks[j].text in QUOTES:
        close = next((m for m in range(j + 1, min(len(toks), j + 12)) if toks[m].text == QUOTES[toks[j].text]), None)
        if close is None or close == j + 1:
            break
        items.append((j, close + 1))
        j = close + 1
        j += int(j < len(toks) and toks[j].text == ",")
        j += int(j < len(toks) and toks[j].low in ("and", "or"))
    return items


NOT_OBJECTS = frozenset(ABSTRACT_NOUNS | LIGHT_NOUNS | SCENE_NOUNS | WRAPPER_NOUNS)


def not_an_object(low: str) -> bool:
    """A noun for a quality, light, the picture or an idea, not a thing in it ("poise", "glow", "scene", "harmony")."""
    return low in NOT_OBJECTS or (
        len(low) > 6 and low.endswith(ABSTRACT_SUFFIXES) and low not in CONCRETE_EXCEPTIONS)


# what an "of" complement describes the head by ("travelers of various species", "cubes of varying sizes")
KIND_NOUNS = {"species", "kinds", "types", "sorts", "sizes", "shapes", "colors", "colours", "heights", "lengths",
              "styles", "shades", "forms", "breeds", "ages", "depths", "widths", "hues", "tones", "shape", "size",
              "color", "colour", "height", "length", "width", "hue", "origin", "make"}


def kind_complement(toks: list[Tok], inner: tuple[int, int]) -> bool:
    """ "of pyramidal shape", "of various species": an "of" complement that describes its head, not a thing."""
    return toks[inner[1] - 1].low in KIND_NOUNS


def part_or_amount(toks: list[Tok], start: int, last: int, inner: tuple[int, int]) -> bool:
    """ "the broad trunk of a towering tree", "a large amount of gold coins": an "of" complement that names the thing
    the head is a part or an amount of (a determiner-led phrase, or a bare plural after "a ... of"), not a quality
    ("a feline of elegant poise", "a lamp of the same shape")."""
    words = {t.low for t in toks[inner[0]:inner[1]]}
    inner_head = head(toks, inner).low
    if not_an_object(toks[last].low) or (not_an_object(inner_head) and inner_head not in PEOPLE_WRAPPERS) or \
            words & {"same", "different", "similar"} or inner_head in KIND_NOUNS:
        return False  # but "the skirt of a model": a person who wears it; "travelers of various species": a quality
    if toks[inner[0]].tag in ("DET", "NUM"):
        return True
    return toks[start].low in ("a", "an") and inner_head.endswith("s") and not inner_head.endswith("ss")


def proper_complement(toks: list[Tok], j: int) -> bool:
    """ "the desert of Mars", "the bricks of the Great Wall": an "of" complement that is a name."""
    if j < len(toks) and toks[j].low == "the":
        j += 1
    return j < len(toks) and toks[j].text[:1].isupper() and toks[j].tag in CONTENT


def noun_phrase_before(toks: list[Tok], k: int) -> tuple[int, int] | None:
    """The noun phrase whose last word is token k (no "of" rules): [start, end), or None."""
    if k < 0 or not toks[k].word:
        return None
    if toks[k].tag == "PRON":
        return (k, k + 1)
    if toks[k].tag not in CONTENT:
        return None
    j, words = k, 1
    while j > 0 and words < MAX_WORDS:
        prev = toks[j - 1]
        if prev.tag in CONTENT:
            j, words = j - 1, words + 1
            continue
        if prev.tag == "ADV" and toks[j].tag == "ADJ" and j < k:
            j -= 1
            continue
        if prev.tag in ("DET", "NUM"):
            j -= 1
            while j > 0 and toks[j - 1].tag in ("DET", "NUM") and k - j < MAX_WORDS + 2:
                j -= 1
            break
        if prev.text == "," or prev.low in ("and", "or", "but", "yet"):  # "the small but purposeful timer"
            width = 2 if prev.low in ("and", "or") and j >= 2 and toks[j - 2].text == "," else 1
            sep = j - width
            if sep > 0 and toks[sep - 1].tag in CONTENT and _coordinated(toks, sep, sep - 1, _run_start(toks, sep - 1)):
                j, words = sep - 1, words + 1
                continue
        break
    return (j, k + 1)


def _run_start(toks: list[Tok], k: int) -> int:
    while k > 0 and toks[k - 1].tag in CONTENT:
        k -= 1
    return k


def head(toks: list[Tok], span: tuple[int, int]) -> Tok:
    """The head word of a phrase: its last content word before any "of" complement."""
    start, end = span
    for j in range(start, end):
        if toks[j].low == "of" and j > start:
            return toks[j - 1]
    return toks[end - 1]


def possessive_led(toks: list[Tok], span: tuple[int, int]) -> bool:
    """ "its powerful structure", "her silhouette": a phrase that starts with a possessive."""
    return toks[span[0]].low in POSSESSIVE
