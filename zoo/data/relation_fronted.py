"""Subjects that are not right before their phrase: after a fronted phrase ("Below a castle, a knight ...",
"Behind him is a plane", "and beside it a clock ticked") or before asides between commas ("a refrigerator,
imposing and steadfast, stands in front of").

Phrases are token ranges [start, end) over tagged tokens (`zoo.data.tagging`).
"""

from __future__ import annotations

from zoo.data.noun_phrases import bare_quotes_after, head, noun_phrase_after, possessive_led
from zoo.data.relation_filters import OWN_SURFACES, negated_entity
from zoo.data.relation_lexicon import COPULAS, IRREGULAR_PARTICIPLES
from zoo.data.tagging import CONTENT, Tok

CLAUSE_WORDS = {"and", "while", "where", "whereas", "but", "then", "as", "whilst", "so"}
POSSESSIVES = {"its", "his", "her", "their", "my", "our", "your"}


def after_fronted_phrase(toks: list[Tok], comma: int) -> bool:
    """Whether token `comma` closes a verbless phrase that starts a sentence with a preposition ("On the right,
    placed on the floor, is a radio": the participle's subject comes after it)."""
    s = comma - 1
    while s >= 0 and toks[s].text not in (",", ".", ";", ":", "!", "?"):
        if toks[s].tag in ("VERB", "AUX"):
            return False
        s -= 1
    return toks[comma].text == "," and (s < 0 or toks[s].text != ",") and toks[s + 1].tag == "PREP"


def subject_phrase(toks: list[Tok], j: int, loose: bool = False) -> tuple[int, int] | None:
    """A phrase at j that can be a clause's subject: determiner- or number-led, a name, a subject pronoun, or
    (loose, or followed by a verb) a bare plural."""
    if j >= len(toks) or not toks[j].word:
        return None
    phrase = noun_phrase_after(toks, j)
    if phrase is None or possessive_led(toks, phrase):
        return None
    first = toks[phrase[0]]
    if first.tag == "PRON" and first.low not in ("he", "she", "they", "it", "we"):
        return None
    nxt = toks[phrase[1]] if phrase[1] < len(toks) else None
    if nxt is not None and nxt.low in ("and", "or") and (more := noun_phrase_after(toks, phrase[1] + 1)) is not None:
        nxt = toks[more[1]] if more[1] < len(toks) else None  # "warm blankets and two lanterns are visible"
    bare_plural = head(toks, phrase).low.endswith("s") and (loose or nxt is not None and nxt.tag in (
        "VERB", "AUX", "ADV"))
    bare_mass = (phrase[1] - phrase[0] == 1 and first.tag == "NOUN" and nxt is not None and nxt.low in ("is", "was")) or (
        phrase[1] - phrase[0] <= 4 and first.tag == "ADJ" and nxt is not None and nxt.tag == "VERB" and
        nxt.low.endswith("s") and not head(toks, phrase).low.endswith("s") and j > 0 and toks[j - 1].text == ",")
    # "On the wooden table, steam is rising", "Between the rocks, hot lava flows": a bare mass noun before its verb
    if first.tag in ("DET", "NUM", "PRON") or first.text[:1].isupper() or bare_plural or bare_mass or loose:
        return None if negated_entity(toks, phrase) else phrase
    return None


# a thing's own surfaces and parts: "On the table, its surface gleams" places nothing
OWN_PARTS = OWN_SURFACES | {"bodies", "base", "shadow", "shadows", "reflection", "reflections", "light", "glow",
                            "color", "colour", "texture", "shape"}


def _possessed_thing(toks: list[Tok], phrase: tuple[int, int]) -> bool:
    """ "its broken lid is shattered": a possessive-led phrase before its verb that names a thing of its own, not the
    owner's surface or look."""
    end = phrase[1]
    return end < len(toks) and toks[end].tag in ("AUX", "VERB") and head(toks, phrase).low not in OWN_PARTS and \
        toks[phrase[0]].low in ("its", "his", "her", "their")


DEPICTING = {"depicts", "shows", "features", "displays", "presents", "portrays", "captures", "showcases",
             "illustrates"}
PICTURE_WORDS = {"image", "picture", "photo", "photograph", "painting", "illustration", "scene", "shot", "artwork",
                 "poster", "frame", "composition"}
# participles that place what a picture shows ("The picture shows a teapot, positioned beside a plate")
PLACING_PARTICIPLES = {"positioned", "placed", "set", "situated", "located", "nestled", "perched", "seated",
                       "standing", "sitting", "lying", "resting", "arranged"}
DASHES = {"\u2014", "\u2013", "(", "-"}


def subject_after(toks: list[Tok], a: int, sentence_start: bool = False) -> tuple[int, int] | None:
    """The subject of a fronted phrase, after its object: ", a knight ...", "is a plane", ", which ..., the cup",
    ", crafted with ..., rests the rat"; at a sentence start any verb may come first ("Beneath it reposes a cat")."""
    n, j = len(toks), a
    dashed = False
    for _ in range(6):
        if j >= n or toks[j].text in (".", "!", "?", ";"):
            return None
        if toks[j].text in DASHES:  # an aside between dashes or brackets
            close = next((m for m in range(j + 1, min(n, j + 40)) if toks[m].text in DASHES | {")"}), None)
            if close is None:
                return None
            j, dashed = close + 1, True
            continue
        comma = toks[j].text in (",", ":")
        if comma:
            j += 1
        elif dashed:
            comma = True  # "In front of a tree—its canopy rustling—a hammock, woven with care, sways": the aside
            # closes the fronted phrase as a comma would
        dashed = False
        if sentence_start and not comma and j + 1 < n and toks[j].tag == "ADV" and toks[j + 1].in_phrase:
            j += 1  # "On the ground directly in front of it,"
        if sentence_start and not comma and j < n and toks[j].tag == "PREP" and toks[j].in_phrase:
            inner = noun_phrase_after(toks, _phrase_end(toks, j))  # "On the wall behind him hangs a map"
            if inner is not None:
                j = inner[1]
                continue
        inverted = sentence_start and j < n and toks[j].tag == "VERB" and \
            not toks[j].low.endswith(("ing", "ed")) and j + 1 < n and (toks[j + 1].tag in ("DET", "NUM") or (
                toks[j + 1].tag in CONTENT and noun_phrase_after(toks, j + 1) is not None))
        if j < n and (toks[j].low in COPULAS or toks[j].tag == "AUX" or toks[j].low == "there" or inverted):
            j += int(inverted)  # "At the heart glows the altar", "Behind the fence lies cracked, barren land"
            while j < n and (toks[j].low in COPULAS or toks[j].tag in ("AUX", "ADV") or toks[j].low == "there"):
                j += 1
            if j + 1 < n and toks[j].tag in ("VERB", "ADJ") and (toks[j].low.endswith("ed") or toks[
                    j].low in IRREGULAR_PARTICIPLES) and toks[j + 1].tag in ("DET", "NUM"):
                j += 1  # "in the very center is embedded a huge pearl": an inverted passive
            if j + 1 < n and toks[j].tag == "VERB" and toks[j].low.endswith("ing") and toks[j + 1].tag in CONTENT and (
                    phrase := subject_phrase(toks, j + 1, loose=True)) is not None and (
                    phrase[1] >= n or toks[phrase[1]].tag in ("PUNCT", "CONJ")):
                return (j, phrase[1])  # "on both sides of the road are blooming purple lavender fields,"
            return subject_phrase(toks, j, loose=True)
        if not comma and j < n and toks[j].tag in ("DET", "NUM") and (subject := subject_phrase(toks, j)) is not None \
                and subject[1] < n and toks[subject[1]].tag in ("VERB", "AUX"):
            return subject  # "and behind it another lamp floated": the subject before its verb, without a comma
        if not comma:
            participle = toks[j].tag == "VERB" and (toks[j].low.endswith(("ed", "ing")) or
                                                     toks[j].low in IRREGULAR_PARTICIPLES)
            # "In front of the pyramid late at night, ...", "Below an island made of clocks, ..."
            stop = _next_comma(toks, j + participle, limit=10 if participle else 6, verbs=False)
            if stop == j:
                return None
            j = stop
            continue
        if j < n and toks[j].tag == "PREP" and toks[j].low != "with":  # ", on the left side of the picture is X"
            inner = noun_phrase_after(toks, _phrase_end(toks, j))
            if inner is not None:
                j = inner[1]
                continue
        if j < n and toks[j].tag == "ADJ" and (stop := _next_comma(toks, j, limit=12, verbs=False)) > j and any(
                t.tag == "PREP" for t in toks[j:stop]):
            j = stop  # "Upon the table, aged and polished by time, lay a necklace": an aside on the object
            continue
        if j < n and toks[j].low in ("its", "his", "her", "their") and (owned := noun_phrase_after(toks, j)) and \
                _possessed_thing(toks, owned) and (toks[owned[1]].tag == "AUX" or (
                    toks[owned[1]].low.endswith("s") and not toks[owned[1]].low.endswith(("ed", "ing")))):
            return owned  # "On the tabletop next to it, its broken lid is shattered": a clause, not an aside
        if j < n and (toks[j].tag in ("REL", "PREP", "VERB", "ADV") or toks[j].low in POSSESSIVES | {"where", "when"}):
            stop = _next_comma(toks, j)  # an aside: ", which ...,", ", crafted with ...,", ", its hue ...,", ", where"
            if stop == j:
                return None
            j = stop
            continue
        if (quoted := bare_quotes_after(toks, j)) and quoted[-1][1] < n and toks[quoted[-1][1]].tag in ("VERB", "AUX"):
            return quoted[0]  # 'Directly beneath it, "COMPANY" appears'
        if j < n and (seen := _perceived(toks, (j, j + 1))) is not None:
            return seen  # "behind him, one cannot help but notice the clocks"
        subject = subject_phrase(toks, j)
        if subject is not None and (subject[1] >= n or toks[subject[1]].tag not in CONTENT):
            return subject
        return None
    return None


VIEWERS = {"one", "you", "we", "i"}
PERCEIVE = {"notice", "notices", "see", "sees", "spot", "spots", "observe", "observes", "find", "finds", "glimpse",
            "glimpses", "discover", "discovers", "behold", "beholds"}
PERCEIVE_SKIP = {"cannot", "can", "could", "will", "would", "may", "might", "must", "should", "help", "but", "not",
                 "also", "then", "soon", "can't"}


def _perceived(toks: list[Tok], subject: tuple[int, int]) -> tuple[int, int] | None:
    """ "positioned behind him, one cannot help but notice the clocks": what the viewer sees is the thing placed."""
    text = " ".join(t.low for t in toks[subject[0]:subject[1]])
    if text not in VIEWERS:
        return None
    k = subject[1]
    while k < len(toks) and (toks[k].low in PERCEIVE_SKIP or toks[k].tag == "ADV"):
        k += 1
    if k + 1 < len(toks) and toks[k].low in PERCEIVE:
        return subject_phrase(toks, k + 1, loose=True)
    return None


def _phrase_end(toks: list[Tok], j: int) -> int:
    """The token after a spatial phrase starting at j (or after the preposition at j)."""
    m = j + 1
    while m < len(toks) and toks[m].in_phrase and not (toks[m].tag == "PREP" and toks[m - 1].low == "of"):
        m += 1
    return m if toks[j].in_phrase else j + 1


def _next_comma(toks: list[Tok], j: int, limit: int = 40, verbs: bool = True) -> int:
    """Index of the next comma within `limit` tokens (j when none, or when verbs=False and a verb comes first that is
    not in a relative clause: "Amidst a crowd clad in hoodies that caught the light, there stood a woman")."""
    m, end = j, min(len(toks), j + limit)
    while m < end:
        if toks[m].tag == "REL" and not verbs:
            verbs, end = True, min(len(toks), m + 40)
        if toks[m].text == "," and not (0 < m < len(toks) - 2 and toks[m - 1].tag == "ADJ" and toks[m + 1].tag == "ADJ"
                                        and toks[m + 2].tag in CONTENT):  # not "its sleek, polished surface"
            return m
        if toks[m].text in (".", "!", "?", ";") or (not verbs and toks[m].tag in ("VERB", "AUX")):
            return j
        m += 1
    return j


def _depicted_acting(toks: list[Tok], j: int, c: int) -> bool:
    """The noun phrase depicted at j is a thing (not "an illustration") followed by its participle before the comma
    at c ("depicts a woman dressed in a dress,"), what it wears before a participle after the comma ("features a man in
a suit, standing") or a placing participle after the comma ("shows a teapot, positioned beside")."""
    phrase = noun_phrase_after(toks, j)
    if phrase is None or head(toks, phrase).low in PICTURE_WORDS | {"drawing", "sketch", "design", "view"}:
        return False
    return any(t.tag == "VERB" and t.low.endswith(("ed", "ing")) for t in toks[phrase[1]:c]) or (
        phrase[1] < c and toks[phrase[1]].low in ("in", "wearing", "with") and c + 1 < len(toks) and
        toks[c + 1].tag == "VERB" and toks[c + 1].low.endswith("ing")) or (
        c + 1 < len(toks) and toks[c + 1].low in PLACING_PARTICIPLES)  # "features a man in a suit, standing at";
    # "shows a teapot, positioned beside a plate": the teapot is placed


def aside_subject(toks: list[Tok], comma: int) -> tuple[int, int] | None:
    """The subject before asides between commas: "a refrigerator, imposing and steadfast, stands in front of"."""
    c, with_list = comma, False
    for _ in range(8):
        s = c - 1
        while s >= 0 and toks[s].text not in (",", ".", ";", ":", "!", "?"):
            s -= 1
        starts = [s + 1] + [m + 1 for m in range(s + 1, c) if toks[m].tag == "AUX" or toks[m].low in COPULAS
                            or toks[m].low == "that"]
        starts = [m + 1 for m in range(s + 1, c) if toks[m].low in DEPICTING and m > s + 1 and toks[
            m - 1].low in PICTURE_WORDS and _depicted_acting(toks, m + 1, c)] + starts
        # "The image depicts two children standing in ..., surrounded by": the children, not the image
        if s >= 0 and toks[s].text == "," and toks[s + 1].low in ("and", "or") and any(
                t.low == "with" for t in toks[max(0, s - 12):s]):
            c, with_list = s, True  # "a man with white hair and a beard, and a wise face, wearing": the with-list
            continue
        if with_list and s >= 0 and toks[s].text == "," and not any(
                t.low == "with" or t.tag in ("VERB", "AUX") for t in toks[s + 1:c]):
            c = s  # "a boy with short hair, a round face, and eyes like beans, is standing": an earlier item
            continue
        for j in starts:
            while j < c and toks[j].low in CLAUSE_WORDS:
                j += 1
            subject = subject_phrase(toks, j) if j < c else None
            if subject is not None and s >= 0 and toks[s].text == "," and toks[subject[0]].tag not in (
                    "DET", "NUM", "PRON") and not toks[subject[0]].text[:1].isupper():
                subject = None  # after a comma, a bare plural starts an absolute phrase ("wings stretching wide")
            if subject is not None and subject[1] <= comma and (
                    toks[subject[1]].text == "," or toks[subject[1]].tag in ("VERB", "AUX", "ADV", "REL") or (
                    toks[subject[1]].tag == "PREP" and not any(t.tag in ("VERB", "AUX") for t in toks[subject[1]:c]))):
                return subject  # "The girl in overalls, partially hidden by ..."
        if s < 0 or toks[s].text != ",":
            return None
        c = s
    return None
