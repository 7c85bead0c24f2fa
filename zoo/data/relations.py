"""Spatial relations in free text: find "A <phrase> B" with its two entities, rule-based, no tagger.

`find_relations` reads a prompt such as "A cat is positioned to the left of a red chair, and a lamp
stands behind it." and returns one `TextRelation` per spatial phrase whose entities it can delimit:
the subject noun phrase before the phrase (skipping verbs such as "is positioned"), the object noun
phrase after it, both as character spans of the original text so that an edit can replace exactly
them. Fronted phrases ("Below a castle, a knight ...", "behind it is a plane") and absolute positions
("a planet on the left", "a forest in the background") are found too. `canonical` gives a relation's
meaning up to wording (B right of A == A left of B), which is how a perturbation is checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# phrase (lower-case words) -> predicate; longest phrases are matched first
PAIR_PHRASES: dict[str, str] = {
    **{f"{p} {side} of": f"{side}_of" for side in ("left", "right")
       for p in ("to the", "on the", "at the", "to the far", "on the far")},
    **{f"{p} {side} side of": f"{side}_of" for side in ("left", "right") for p in ("to the", "on the", "at the")},
    **{f"{side} of": f"{side}_of" for side in ("left", "right")},
    "above": "above", "over": "above", "on top of": "above", "atop": "above", "on the top of": "above",
    "below": "below", "beneath": "below", "under": "below", "underneath": "below", "at the bottom of": "below",
    "in front of": "in_front_of", "ahead of": "in_front_of",
    "behind": "behind", "in back of": "behind", "at the back of": "behind", "beyond": "behind",
    "next to": "next_to", "beside": "next_to", "besides": "next_to", "close to": "next_to", "near": "next_to",
    "alongside": "next_to", "adjacent to": "next_to", "by the side of": "next_to", "nearby": "next_to",
    "far from": "far_from", "far away from": "far_from", "away from": "far_from",
    "inside": "inside", "inside of": "inside", "within": "inside",
    "outside": "outside", "outside of": "outside",
    "on": "on", "upon": "on", "onto": "on", "against": "next_to",
    "in the middle of": "in_middle_of", "in the center of": "in_middle_of", "in the centre of": "in_middle_of",
    "at the edge of": "at_edge_of",
    "between": "between", "in between": "between",
    "hidden by": "behind", "partially hidden by": "behind", "obscured by": "behind", "partially obscured by": "behind",
    "hidden behind": "behind", "to the side of": "next_to", "across the top of": "on", "at the base of": "below",
}
ABSOLUTE_PHRASES: dict[str, str] = {
    **{f"{p} {side}": f"abs_{side}" for side in ("left", "right") for p in ("on the", "to the", "at the")},
    **{f"{p} {side} side": f"abs_{side}" for side in ("left", "right") for p in ("on the", "to the", "at the")},
    "in the background": "abs_background", "in the foreground": "abs_foreground",
    "at the top": "abs_top", "at the bottom": "abs_bottom", "in the center": "abs_center",
    "in the centre": "abs_center", "in the middle": "abs_center", "in the corner": "abs_corner",
}
INVERSE = {"left_of": "right_of", "above": "below", "in_front_of": "behind", "abs_left": "abs_right",
           "abs_top": "abs_bottom", "abs_background": "abs_foreground"}
INVERSE.update({v: k for k, v in list(INVERSE.items())})
SYMMETRIC = {"next_to", "far_from"}

DETERMINERS = {"a", "an", "the", "this", "that", "these", "those", "his", "her", "its", "their", "my", "your",
               "our", "some", "one", "two", "three", "four", "five", "several", "many", "another", "each", "every"}
PRONOUNS = {"it", "him", "her", "them", "us", "me", "you", "itself", "himself", "herself", "themselves"}
SKIP_BEFORE = {"is", "are", "was", "were", "be", "been", "being", "am", "sits", "sit", "stands", "stand", "lies",
               "lie", "rests", "rest", "hangs", "hang", "floats", "float", "appears", "appear", "remains", "remain",
               "perches", "leans", "lean", "sleeps", "waits", "hovers", "looms", "seems", "just", "also", "still",
               "stood", "sat", "lay", "hung", "floated", "hides", "hide", "hid", "flies", "fly", "swims", "grows",
               "grow", "twinkle", "twinkles", "walks", "runs", "plays", "sleep", "hover", "rises",
               "right", "directly", "slightly", "far", "somewhere", "placed", "set", "put", "made", "kept", "there"}
BOUNDARY = {"and", "or", "but", "while", "with", "which", "that", "who", "whose", "where", "when", "as", "is",
            "are", "was", "were", "in", "on", "at", "to", "from", "by", "for", "into", "of", "there", "here",
            "has", "have", "had", "its", "their", "his", "then", "so", "if", "than", "like", "not", "no", "all",
            "both", "whilst", "whereas", "because", "though", "although", "sits", "stands", "lies", "rests",
            "hangs", "floats", "appears", "looks", "gazes", "watches", "holds", "faces", "made", "be", "after",
            "before", "during", "across", "through", "toward", "towards", "around", "among", "amid", "amidst",
            "along", "about", "without", "since", "until", "because"}
OF_NOUNS = {"pile", "stack", "cup", "glass", "bowl", "plate", "group", "pair", "set", "row", "bunch", "herd",
            "flock", "couple", "jar", "box", "basket", "bottle", "piece", "slice", "loaf", "bouquet", "vase"}
TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-'][A-Za-z0-9]+)*|[^\sA-Za-z0-9]")
MAX_NP = 6
COPULAS = {"is", "are", "was", "were", "stands", "sits", "lies", "hangs", "floats", "stood", "sat", "lay", "hung",
           "rests", "looms", "appears", "remains"}
CARRIERS = {"wearing", "holding", "carrying", "with", "in", "of", "on", "riding", "hugging", "dressed"}


@dataclass(frozen=True)
class Span:
    """A piece of the prompt: [start, end) characters and its text."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class TextRelation:
    """One spatial relation found in a prompt: subject, phrase, object (and a second object for "between")."""

    subject: Span
    phrase: Span
    predicate: str
    object: Span | None = None
    object2: Span | None = None

    @property
    def absolute(self) -> bool:
        return self.object is None

    def entities(self) -> list[Span]:
        return [s for s in (self.subject, self.object, self.object2) if s is not None]

    def to_json(self) -> dict:
        return {"subject": self.subject.text, "phrase": self.phrase.text, "predicate": self.predicate,
                "object": self.object.text if self.object else None,
                **({"object2": self.object2.text} if self.object2 else {})}

    def sentence(self) -> str:
        """The relation alone, e.g. "a cat to the left of a dog" (for a judge's question)."""
        parts = [self.subject.text, self.phrase.text]
        if self.object is not None:
            parts.append(self.object.text + (f" and {self.object2.text}" if self.object2 else ""))
        return " ".join(parts)


@dataclass(frozen=True)
class _Tok:
    text: str
    low: str
    start: int
    end: int

    @property
    def word(self) -> bool:
        return self.text[0].isalnum()


def tokenize(text: str) -> list[_Tok]:
    """Words and punctuation with their character offsets."""
    return [_Tok(m.group(), m.group().lower(), m.start(), m.end()) for m in TOKEN.finditer(text)]


def _lexicon() -> list[tuple[tuple[str, ...], str, bool]]:
    entries = [(tuple(p.split()), pred, False) for p, pred in PAIR_PHRASES.items()]
    entries += [(tuple(p.split()), pred, True) for p, pred in ABSOLUTE_PHRASES.items()]
    return sorted(entries, key=lambda e: -len(e[0]))


LEXICON = _lexicon()


def _verbish(low: str) -> bool:
    return low in SKIP_BEFORE or (len(low) > 4 and low.endswith(("ly", "ing", "ed")))


def _modifier(toks: list[_Tok], j: int) -> bool:
    """A participle inside a noun phrase ("a huge flying castle") is followed by more of the phrase."""
    nxt = toks[j + 1] if j + 1 < len(toks) else None
    return nxt is not None and nxt.word and nxt.low not in BOUNDARY and nxt.low not in DETERMINERS \
        and nxt.low not in PRONOUNS and not _verbish(nxt.low) and not any(w[0] == nxt.low for w, _, _ in LEXICON)


def _span(text: str, toks: list[_Tok]) -> Span:
    return Span(toks[0].start, toks[-1].end, text[toks[0].start:toks[-1].end])


def noun_phrase_after(text: str, toks: list[_Tok], i: int) -> tuple[Span | None, int]:
    """The noun phrase starting at token i (determiner, modifiers, head), and the index after it."""
    if i >= len(toks) or not toks[i].word or _match(toks, i) is not None:
        return None, i
    if toks[i].low in PRONOUNS and not (toks[i].low == "her" and i + 1 < len(toks) and toks[i + 1].word
                                        and toks[i + 1].low not in BOUNDARY):
        return _span(text, toks[i:i + 1]), i + 1
    j = i + 1 if toks[i].low in DETERMINERS else i
    words = 0
    while j < len(toks) and toks[j].word and words < MAX_NP:
        low = toks[j].low
        if low == "of" and j > i and toks[j - 1].low in OF_NOUNS:
            j += 1
            continue
        if low in BOUNDARY or low in DETERMINERS or (words and (low in SKIP_BEFORE or _match(toks, j))):
            break
        if words and _verbish(low) and (low.endswith("ly") or not _modifier(toks, j)):
            break
        j, words = j + 1, words + 1
    if words == 0:
        return None, i
    span = _drop_verb(text, _span(text, toks[i:j]))
    return span, (j - 1 if span.end < toks[j - 1].end else j)


def _phrase_before(text: str, toks: list[_Tok], i: int) -> tuple[Span | None, int]:
    j = i - 1
    while j >= 0 and toks[j].word and _verbish(toks[j].low) and toks[j].low not in DETERMINERS:
        j -= 1
    end, words = j, 0
    while j >= 0 and toks[j].word and words < MAX_NP:
        low = toks[j].low
        if low in DETERMINERS:
            return (_span(text, toks[j:end + 1]), j) if words else (None, j)
        if low in PRONOUNS and words == 0:
            return _span(text, toks[j:j + 1]), j
        if low in BOUNDARY or (words and _verbish(low)):
            break
        j, words = j - 1, words + 1
    return (_span(text, toks[j + 1:end + 1]), j + 1) if words else (None, j + 1)


def _before_aside(text: str, toks: list[_Tok], k: int) -> tuple[Span | None, int]:
    """Past an aside between commas: "a refrigerator, imposing and steadfast, stands in front of ..."."""
    if k <= 0 or toks[k - 1].text != ",":
        return None, k
    for j in range(k - 2, max(k - 30, 0), -1):
        if toks[j].text in (".", ";", ":", "!", "?"):
            break
        if toks[j].text == ",":
            return _phrase_before(text, toks, j)
    return None, k


def noun_phrase_before(text: str, toks: list[_Tok], i: int) -> Span | None:
    """The noun phrase ending just before token i, skipping verbs and adverbs ("is quietly positioned"); past a
    carrier ("a cat wearing a hat", "a boy in a red jacket") it is the carrier's noun phrase."""
    span, start = _phrase_before(text, toks, i)
    if span is None:
        span, start = _before_aside(text, toks, start)
    for _ in range(2):
        if span is None or start < 2 or toks[start - 1].low not in CARRIERS:
            break
        carrier = toks[start - 1].low
        before, first = _phrase_before(text, toks, start if _verbish(carrier) else start - 1)
        if before is None:
            break
        if carrier == "of" and before.text.split()[-1].lower() in OF_NOUNS:  # "a pair of boots"
            before = Span(before.start, span.end, text[before.start:span.end])
        span, start = before, first
    return _drop_verb(text, span)


def _drop_verb(text: str, span: Span | None) -> Span | None:
    """ "a river flows" -> "a river": a singular phrase does not end in a plural-looking word."""
    if span is None:
        return None
    words = span.text.split()
    last = words[-1].lower()
    singular = words[0].lower() in ("a", "an", "the", "this", "that")
    if len(words) >= 3 and words[-2].lower() != "of" and singular and last.endswith("s") \
            and not last.endswith(("ss", "us", "is", "as", "os", "'s")):
        cut = span.text.rstrip()[:-len(words[-1])].rstrip()
        return Span(span.start, span.start + len(cut), cut)
    return span


def _match(toks: list[_Tok], i: int) -> tuple[int, str, bool] | None:
    for words, predicate, absolute in LEXICON:
        n = len(words)
        if tuple(t.low for t in toks[i:i + n]) == words:
            if absolute and i + n < len(toks) and toks[i + n].low == "of":
                continue
            return n, predicate, absolute
    return None


def _clause_start(toks: list[_Tok], i: int) -> bool:
    while i > 0 and toks[i - 1].word and (toks[i - 1].low in ("directly", "right", "far", "just", "slightly", "and")
                                          or _verbish(toks[i - 1].low)):
        i -= 1
    return i == 0 or not toks[i - 1].word or toks[i - 1].low in ("while", "with", "where", "then")


def _fronted(text: str, toks: list[_Tok], end: int) -> Span | None:
    """The subject of a fronted phrase: "Below X, a knight ...", "behind it is a plane", "In front of X lie Y"."""
    k, seen = end, 0
    while k < len(toks) and k < end + 30 and toks[k].text not in (".", "!", "?", ";"):
        if toks[k].text in (",", ":") or toks[k].low in COPULAS:
            m = k + 1
            while m < len(toks) and (toks[m].low in SKIP_BEFORE or toks[m].low in ("there", "is", "are")):
                m += 1
            if m < len(toks) and toks[m].low not in ("which", "who", "whose", "where", "while", "as"):
                subject = noun_phrase_after(text, toks, m)[0]
                if subject is not None:
                    return subject
            seen += 1
            if seen == 3:
                break
        k += 1
    return None


def find_relations(text: str) -> list[TextRelation]:
    """Every spatial relation of the prompt whose entities can be delimited, in reading order."""
    toks = tokenize(text)
    found: list[TextRelation] = []
    i = 0
    while i < len(toks):
        hit = _match(toks, i) if toks[i].word else None
        if hit is None:
            i += 1
            continue
        n, predicate, absolute = hit
        phrase = _span(text, toks[i:i + n])
        relation = _relation(text, toks, i, n, phrase, predicate, absolute)
        if relation is not None:
            found.append(relation)
            i += n
        else:
            i += 1
    return found


def _relation(text: str, toks: list[_Tok], i: int, n: int, phrase: Span, predicate: str,
              absolute: bool) -> TextRelation | None:
    subject = noun_phrase_before(text, toks, i)
    if absolute:
        if subject is None and _clause_start(toks, i):
            subject = _fronted(text, toks, i + n)
        return TextRelation(subject, phrase, predicate) if subject else None
    obj, after = noun_phrase_after(text, toks, i + n)
    if obj is None:
        return None
    obj2 = None
    if predicate == "between":
        if after < len(toks) and toks[after].low == "and":
            obj2, after = noun_phrase_after(text, toks, after + 1)
        if obj2 is None:
            return None
    if subject is None and _clause_start(toks, i):
        subject = _fronted(text, toks, after)
    if subject is None or subject.start == obj.start:
        return None
    return TextRelation(subject, phrase, predicate, obj, obj2)


def entity_key(span: Span | None) -> str | None:
    """An entity without its determiner, lower-case ("the Red cup" -> "red cup")."""
    if span is None:
        return None
    words = span.text.lower().split()
    return " ".join(words[1:] if len(words) > 1 and words[0] in DETERMINERS else words)


def canonical(relation: TextRelation) -> tuple:
    """The relation's meaning up to wording: inverse predicates and symmetric ones give the same tuple."""
    s, o, o2 = (entity_key(x) for x in (relation.subject, relation.object, relation.object2))
    p = relation.predicate
    if p in ("right_of", "below", "behind"):
        return (o, INVERSE[p], s, None)
    if p in SYMMETRIC:
        return (*sorted((s, o)), p, None)
    if p == "between":
        return (s, p, *sorted((o, o2)))
    return (s, p, o, None)
