"""Spatial relations in free text: find "A <phrase> B" with its two entities, from tagged tokens.

`find_relations` reads a prompt such as "A cat is positioned to the left of a red chair, and a lamp
stands behind it." and returns one `TextRelation` per spatial phrase whose entities it can delimit:
the subject noun phrase (found past verbs, adverbs, asides between commas, carriers such as "a boy in a
red jacket", wrappers such as "a photo of"), the object noun phrase after the phrase, both as character
spans of the original text so that an edit can replace exactly them. Fronted phrases ("Below a castle, a
knight ...", "Behind him is a plane"), absolute positions ("a planet on the left", "a forest in the
background", "a fox in the center of the picture"), coordinated phrases, subjects and objects ("Two dogs and a cat
sit next to a bowl, a ball, and a leash": one relation each, `zoo.data.coordination`) are found too; uses
that are not spatial ("against a blue sky", "under the sun", "gazing upon", "a glow on") and negated ones
are left out, and so is contact ("leans against a wall", `UNREPORTED`). Tokens are tagged by the rule tagger
(`zoo.data.tagging`) or, given `tagger`, by spaCy (`zoo.data.relations_nlp`). `canonical` gives a relation's meaning
up to wording (B right of A == A left of B).
"""

from __future__ import annotations

from zoo.data.coordination import object_list, subject_list
from zoo.data.noun_phrases import head, noun_phrase_after, noun_phrase_before
from zoo.data.relation_filters import spatial
from zoo.data.relation_lexicon import (
    ABSOLUTE_PHRASES,
    CARRIERS,
    DETERMINERS,
    FRAME_NOUNS,
    FRAME_PREDICATES,
    INVERSE,
    OF_NOUNS,
    PAIR_PHRASES,
    PRONOUNS,
    REGION_NOUNS,
    SYMMETRIC,
)
from zoo.data.relation_subjects import find_subject
from zoo.data.relation_types import Span, TextRelation
from zoo.data.plural_verbs import PARTICLES
from zoo.data.tagging import CONTENT, Tagger, Tok, tag, tokenize

__all__ = ["ABSOLUTE_PHRASES", "CARRIERS", "DETERMINERS", "INVERSE", "PAIR_PHRASES", "PRONOUNS", "SYMMETRIC", "Span",
           "TextRelation", "canonical", "entity_key", "find_relations", "mark_phrases", "tokenize"]


def _lexicon() -> list[tuple[tuple[str, ...], str, bool]]:
    entries = [(tuple(p.split()), pred, False) for p, pred in PAIR_PHRASES.items()]
    entries += [(tuple(p.split()), pred, True) for p, pred in ABSOLUTE_PHRASES.items()]
    return sorted(entries, key=lambda e: -len(e[0]))


LEXICON = _lexicon()


# phrases found (so that a phrase after them takes their subject: "a painting leaning against the wall on the floor"
# places the painting on the floor) but not reported: "against" is contact ("leans against a wall", "pressed against
# the glass"), touching rather than a side, and the gold file's convention never labels it (tests/data/README.md);
# its backdrop uses ("against a blue sky") are not spatial at all (`relation_filters.spatial`)
UNREPORTED = {"against"}
INTENSIFIERS = {"very", "extreme", "immediate"}
ABSOLUTE_ENDS = {"left", "right", "top", "bottom", "center", "centre", "middle", "foreground", "background", "distance"}
# position words that are also adjectives: before a noun they modify it ("the left wall", "the top shelf")
ADJECTIVE_ENDS = {"left", "right", "top", "bottom", "middle"}
POSITION_WORDS = {"left", "right", "top", "bottom", "center", "centre", "middle", "edge", "corner", "side", "upper",
                  "lower", "foreground", "background"}


def _match(toks: list[Tok], i: int) -> tuple[int, str, bool] | None:
    """(tokens, predicate, absolute) of the longest phrase at token i ("the very center of" reads as "the center
    of"), or None."""
    lows = [t.low for t in toks[i:i + 8]]
    skipped = [k for k in range(1, len(lows) - 1) if lows[k] in INTENSIFIERS and lows[k - 1] == "the"]
    plain = tuple(w for k, w in enumerate(lows) if k not in skipped)
    for words, predicate, absolute in LEXICON:
        n = len(words)
        if plain[:n] == words:
            if words == ("surrounding",) and not _surrounding(toks, i):
                continue  # "the surrounding trees": an adjective
            width = n + sum(1 for k in skipped if k < n + len(skipped))
            if absolute and i + width + 1 < len(toks) and toks[i + width].low in REGION_NOUNS and \
                    toks[i + width + 1].low == "of" and (pair := PAIR_PHRASES.get(" ".join(words) + " of")):
                return width + 2, pair, False  # "at the center point of", "on the bottom edge of"
            if absolute and i + width < len(toks) and (toks[i + width].low == "of" or _noun_of(toks, i + width)):
                continue  # "on the bottom shelf of the cabinet": a noun phrase, not a position
            if absolute and words[-1] in ADJECTIVE_ENDS and i + width < len(toks) and toks[i + width].tag == "NOUN" \
                    and not (i + width + 1 < len(toks) and (toks[i + width + 1].tag in ("DET", "NUM") or
                                                            toks[i + width + 1].low in PARTICLES or (
                        toks[i + width].low.endswith("s") and toks[i + width + 1].low in ("to", "toward", "towards")))):
                continue  # "on the left wall": the position word modifies a noun; not "on the left counts the coins",
                # "the book on the left shot out light", "a soldier on the left bows to a king"
            if absolute and words[-1] in ("foreground", "background") and _modified_noun(toks, i + width):
                continue  # "in the foreground desert,": a noun phrase; not "in the background mountains rise"
            return width, predicate, absolute
    return None


def _surrounding(toks: list[Tok], i: int) -> bool:
    """ "Surrounding the motif, words are arranged", "pines surrounding the lake": a participle that places its
    subject around the next noun phrase; not "the surrounding trees", "illuminating the surrounding area"."""
    prev_ok = i == 0 or not toks[i - 1].word or toks[i - 1].tag == "NOUN"
    return prev_ok and i + 1 < len(toks) and toks[i + 1].tag in ("DET", "NUM")


def _modified_noun(toks: list[Tok], j: int) -> bool:
    """Nouns from token j that end at punctuation or a preposition ("the foreground storage box.")."""
    k = j
    while k < len(toks) and toks[k].tag == "NOUN":
        k += 1
    return k > j and (k == len(toks) or toks[k].tag in ("PUNCT", "PREP"))


def _noun_of(toks: list[Tok], j: int) -> bool:
    """A noun with an "of" complement at token j ("edge of the garden"), so the words before it modify it."""
    return toks[j].low in OF_NOUNS and toks[j].low not in ABSOLUTE_ENDS and j + 1 < len(toks) and toks[j + 1].low == "of"


def _span(text: str, toks: list[Tok], rng: tuple[int, int]) -> Span:
    return Span(toks[rng[0]].start, toks[rng[1] - 1].end, text[toks[rng[0]].start:toks[rng[1] - 1].end])


def mark_phrases(toks: list[Tok]) -> None:
    """Flag the tokens of spatial phrases; a phrase's first word ends the noun phrase before it ("the desk next to")."""
    for i, tok in enumerate(toks):
        hit = _match(toks, i) if tok.word else None
        if hit is not None:
            if tok.tag in CONTENT:
                tok.tag = "PREP"
            for t in toks[i:i + hit[0]]:
                t.in_phrase = True


def find_relations(text: str, tagger: Tagger | None = None) -> list[TextRelation]:
    """Every spatial relation of the prompt whose entities can be delimited, in reading order."""
    toks = tag(text, tagger)
    mark_phrases(toks)
    found: list[TextRelation] = []
    i = 0
    while i < len(toks):
        hit = _match(toks, i) if toks[i].word else None
        if hit is None:
            i += 1
            continue
        relations = _relations_at(text, toks, i, hit, found)
        found += relations
        i += hit[0] if relations else 1
    return [r for r in found if r.phrase.text.lower().split()[-1] not in UNREPORTED]


def _object(toks: list[Tok], at: int) -> tuple[int, int] | None:
    obj = noun_phrase_after(toks, at)
    if obj is None or toks[obj[0]].tag == "REL" or toks[obj[0]].low in ("which", "whom"):
        return None
    return obj


def _relations_at(text: str, toks: list[Tok], i: int, hit: tuple[int, str, bool],
                  found: list[TextRelation]) -> list[TextRelation]:
    """The relations of the phrase at token i (one, or one per coordinated object), or none."""
    n, predicate, absolute = hit
    phrase = (i, i + n)
    objects: list[tuple[int, int]] = []
    after = i + n
    if not absolute:
        at = after
        nxt = _match(toks, at + 1) if at + 1 < len(toks) and toks[at].low in ("and", "or") else None
        if nxt is not None and not nxt[2]:  # "below and to the right of X"
            at += 1 + nxt[0]
        obj = _object(toks, at)
        if obj is None:
            return []
        if head(toks, obj).low in FRAME_NOUNS and predicate in FRAME_PREDICATES and POSITION_WORDS & {
                t.low for t in toks[i:i + n]}:
            phrase, predicate, absolute, after = (i, obj[1]), FRAME_PREDICATES[predicate], True, obj[1]
        else:
            objects = [obj] if predicate == "between" else object_list(toks, obj, _object)
            after = objects[-1][1]
    object2 = None
    if predicate == "between" and after + 1 < len(toks) and toks[after].low == "and":
        object2 = _object(toks, after + 1)
        if object2 is None and after + 2 < len(toks) and toks[after + 1].low.endswith("ing") and (
                rest := _object(toks, after + 2)) is not None:
            object2 = (after + 1, rest[1])  # "between it and surrounding skyscrapers": a modifier, not a verb
        after = object2[1] if object2 else after
    found_subject = find_subject(toks, i, after, found, absolute)
    if found_subject is None:
        return []
    subject, near = found_subject
    if objects and (other := _self_placed(toks, subject, i, objects[0])) is not None:
        subject, near = other, other
    out = []
    first = objects[0] if objects else None
    base = TextRelation(_span(text, toks, subject), _span(text, toks, phrase), predicate,
                        _span(text, toks, first) if first else None, _span(text, toks, object2) if object2 else None)
    # a list before the phrase after "with" or a verb only when its last item is placed ("with crisp lines and
    # harmonious spacing between elements": design qualities, none placed)
    adjacent = subject[1] == i and subject != first and spatial(toks, base, subject, phrase, first, near)
    for each in subject_list(toks, subject, fronted=subject[0] > i, adjacent=adjacent, absolute=absolute):
        for obj in objects or [None]:
            rel = TextRelation(_span(text, toks, each), _span(text, toks, phrase), predicate,
                               _span(text, toks, obj) if obj else None, _span(text, toks, object2) if object2 else None)
            if each != obj and spatial(toks, rel, each, phrase, obj, near):
                out.append(rel)
    return out


def _plural(toks: list[Tok], phrase: tuple[int, int]) -> bool:
    word = toks[phrase[1] - 1]
    return word.tag == "NUM" or word.low in ("both", "they") or (word.low.endswith("s") and not word.low.endswith("ss"))


def _self_placed(toks: list[Tok], subject: tuple[int, int], i: int, obj: tuple[int, int]) -> tuple[int, int] | None:
    """ "Both sit beneath a glass lamp, suspended above them": a plural subject is not placed relative to "them"; the
    participle aside is the singular noun phrase's before its comma. That noun phrase, else None."""
    if obj[1] - obj[0] != 1 or toks[obj[0]].low != "them" or not _plural(toks, subject):
        return None
    k = i - 1
    while k > subject[1] and (toks[k].tag == "ADV" or (toks[k].tag in ("VERB", "ADJ") and toks[k].low.endswith(
            ("ed", "ing")))):
        k -= 1
    if k <= subject[1] or k == i - 1 or toks[k].text != "," or toks[k - 1].tag not in CONTENT:
        return None
    before = noun_phrase_before(toks, k - 1)
    return before if before is not None and before[0] > subject[1] and not _plural(toks, before) else None


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
    if p in ("right_of", "below", "behind", "surrounded_by", "bottom_right_of", "bottom_left_of"):
        return (o, INVERSE[p], s, None)
    if p in SYMMETRIC:
        return (*sorted((s, o)), p, None)
    if p == "between":
        return (s, p, *sorted((o or "", o2 or "")))
    return (s, p, o, None)
