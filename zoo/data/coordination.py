"""Coordinated entities of one spatial phrase: "in front of two chairs and a table", "next to a bowl, a ball, and a
leash", "Two dogs and a cat sit behind a fence", "On the left, two ships, two horses and two pears were adorned".

A list is "X and Y" (more "and"s allowed) or "X, Y, (and|or) Z" (commas closed by a conjunction). A lone ", and"
joins clauses, not entities ("a square below a circle, and the circle above a triangle"), and a list that is the
subject of a verb or of another spatial phrase is a new clause ("on a mat and a dog and a cow stand"), so neither
is read as a list. Phrases are token ranges [start, end) over tagged tokens (`zoo.data.tagging`).
"""

from __future__ import annotations

from collections.abc import Callable

from zoo.data.noun_phrases import bare_quotes_after, bare_quotes_before, noun_phrase_after, noun_phrase_before
from zoo.data.relation_lexicon import CARRIERS
from zoo.data.tagging import Tok

Phrase = tuple[int, int]
CLAUSE_END = {".", "!", "?", ";"}
HELD = CARRIERS - {"of", "on"}  # what is worn or held: "a boy in a red cap", "a girl holding a kite"


def _sep_after(toks: list[Tok], j: int) -> tuple[int, str] | None:
    """(width, kind) of a list separator at token j: "and" (and/or), "comma_and" (", and") or "comma"."""
    if j >= len(toks):
        return None
    if toks[j].low in ("and", "or"):
        return 1, "and"
    if toks[j].text == ",":
        return (2, "comma_and") if j + 1 < len(toks) and toks[j + 1].low in ("and", "or") else (1, "comma")
    return None


def _sep_before(toks: list[Tok], j: int) -> tuple[int, str] | None:
    """(width, kind) of a list separator ending at token j (inclusive)."""
    if j < 0:
        return None
    if toks[j].low in ("and", "or"):
        return (2, "comma_and") if j > 0 and toks[j - 1].text == "," else (1, "and")
    return (1, "comma") if toks[j].text == "," else None


def _alike(toks: list[Tok], items: list[Phrase], subject: Phrase) -> bool:
    """Conjuncts that are entities like the subject: led by a determiner or number, or a one-word name, when it is
    ("Two dogs and a cat", "Saturn and its rings", not "its huge horn and tonearm"), and not ending in an adjective
    ("a complete, intact artwork")."""
    led = toks[subject[0]].tag in ("DET", "NUM")
    return all((not led or toks[a].tag in ("DET", "NUM") or (b - a == 1 and toks[a].text[:1].isupper())) and
               toks[b - 1].tag != "ADJ" for a, b in items)  # a name is like a determiner-led phrase ("Saturn")


def _shared_possessor(toks: list[Tok], subject: Phrase, items: list[Phrase]) -> bool:
    """Bare nouns after a subject with a possessor share it ("a tree's branches and leaves are bare")."""
    return any(t.low.endswith(("'s", "\u2019s")) for t in toks[subject[0]:subject[1] - 1]) and all(
        toks[a].tag not in ("DET", "NUM", "PRON") and b - a <= 2 for a, b in items)


def _kept(seps: list[str]) -> int:
    """How many items of a list (in reading order, the first one given) form one coordination."""
    if not seps:
        return 1
    if seps[0] == "and":
        return 1 + next((k for k, s in enumerate(seps) if s != "and"), len(seps))
    if seps[0] == "comma":
        close = next((k for k, s in enumerate(seps) if s != "comma"), None)
        return close + 2 if close is not None else 1
    return 1


def object_list(toks: list[Tok], first: Phrase, find: Callable[[list[Tok], int], Phrase | None]) -> list[Phrase]:
    """The first object and those coordinated with it (`find` reads a noun phrase at a token)."""
    items, seps, at = [first], [], first[1]
    while (sep := _sep_after(toks, at)) is not None and (more := find(toks, at + sep[0])) is not None:
        items.append(more)
        seps.append(sep[1])
        at = more[1]
    keep = _kept(seps)
    last = toks[first[1] - 1]
    if keep > 1 and seps[0] == "and" and (last.tag == "ADJ" or last.low.endswith("ed")) and toks[
            items[1][0]].tag not in ("DET", "NUM", "PRON"):
        return [(first[0], items[1][1])]  # "beneath the aged and timeworn keyboard": one object, not two
    end = items[keep - 1][1]
    if keep > 1 and end < len(toks) and (toks[end].tag in ("VERB", "AUX") or toks[end].in_phrase):
        return [first]
    if keep > 1 and end < len(toks) and toks[end].low == "to" and items[keep - 1][1] - items[keep - 1][0] == 1 and \
            toks[items[keep - 1][0]].tag not in ("DET", "NUM", "PRON"):
        return [first]  # "in front of his workbench and prepare to place it": a verb, not a second object
    if "comma" in seps[:keep - 1] and (toks[first[0]].tag == "PRON" or not _alike(toks, items[1:keep], first)):
        return [first]  # "behind it, an old bench, its surface weathered and worn": asides, not a list
    return items[:keep]


def _finite(tok: Tok) -> bool:
    """A verb that can end a subject list ("stand", "were"), not a participle ("reflecting")."""
    return tok.tag == "AUX" or (tok.tag == "VERB" and not tok.low.endswith(("ing", "ed")))


def _boundary_before(toks: list[Tok], start: int) -> bool:
    return start == 0 or toks[start - 1].text in CLAUSE_END | {",", ":"}


def _clause_ends(toks: list[Tok], j: int) -> bool:
    """The sentence ends at token j, or a participle phrase follows ("icons consisting of play and pause.")."""
    if j >= len(toks) or toks[j].text in CLAUSE_END:
        return True
    end = next((m for m in range(j, len(toks)) if toks[m].text in CLAUSE_END), len(toks))
    return toks[j].tag == "VERB" and toks[j].low.endswith(("ing", "ed")) and j + 1 < end and toks[j + 1].tag in (
        "PREP", "DET") and not any(_finite(t) for t in toks[j + 1:end])  # not "the overall healing style."


def _past_participle_phrase(toks: list[Tok], j: int) -> int:
    """The comma after a participle phrase at token j that ends a list item ("several rolls of silk shimmering with a
    soft glow, a pair of scissors"), else j."""
    if j >= len(toks) or toks[j].tag != "VERB" or not toks[j].low.endswith(("ing", "ed")):
        return j
    for m in range(j + 1, min(len(toks), j + 9)):
        if toks[m].text == ",":
            return m
        if toks[m].text in CLAUSE_END or _finite(toks[m]) or toks[m].in_phrase:
            return j
    return j


def subject_list(toks: list[Tok], subject: Phrase, fronted: bool, adjacent: bool = False,
                 absolute: bool = False) -> list[Phrase]:
    """The subject and the subjects coordinated with it, in reading order: before it ("Two dogs and a cat sit"), or
    after it when the phrase is fronted ("On the left, two ships and two horses were ..."); right before the phrase
    (adjacent), a list may also follow "with" ("with the buttons and pockets on the front") or, before an absolute
    position, a verb ("reflects a tree and a house in the distance"; not "illuminates the cups and the books next to
    them": there the phrase is the last object's)."""
    if fronted and (quoted := bare_quotes_after(toks, subject[0])) and quoted[0] == subject:
        return quoted  # 'At the base, "No" and "GUILT" are positioned side by side'
    if fronted:
        items, seps, at = [subject], [], _past_participle_phrase(toks, subject[1])
        while (sep := _sep_after(toks, at)) is not None and (more := noun_phrase_after(toks, at + sep[0])) is not None:
            items.append(more)
            seps.append(sep[1])
            at = _past_participle_phrase(toks, more[1])
        keep = _kept(seps)
        if keep == 1 and seps and seps[0] == "comma_and" and _clause_ends(toks, items[1][1]) and \
                toks[items[1][1] - 1].tag == "NOUN":
            return items[:2]  # "Below it is a progress bar, and control icons consisting of ...": no verb of its own
        end = items[keep - 1][1]
        if keep > 1 and not (end >= len(toks) or _finite(toks[end]) or toks[end].text in CLAUSE_END | {","}):
            return [subject]
        return items[:keep] if _alike(toks, items[1:keep], subject) or _shared_possessor(
            toks, subject, items[1:keep]) else [subject]
    if (quoted := bare_quotes_before(toks, subject[1] - 1)) and quoted[-1] == subject:
        return quoted  # '"Access," and "Exclusive" appear at the top'
    items, seps, at = [subject], [], subject[0] - 1
    while (sep := _sep_before(toks, at)) is not None and (more := noun_phrase_before(toks, at - sep[0])) is not None:
        while more[0] >= 2 and toks[more[0] - 1].low in HELD and toks[more[0] - 2].tag in ("NOUN", "ADJ") and (
                outer := noun_phrase_before(toks, more[0] - 2)) is not None:
            more = outer  # "A boy in a red cap and a dog with a collar stand": the boy, not the cap
        items.insert(0, more)
        seps.insert(0, sep[1])
        at = more[0] - 1
    for first in range(len(items) - 1):  # the longest list that ends at the subject and starts after a boundary
        tail = seps[first:]
        start = items[first][0]
        after_verb = adjacent and start > 0 and (toks[start - 1].low == "with" or (
            absolute and toks[start - 1].tag == "VERB"))
        if _kept(tail) == len(tail) + 1 and (_boundary_before(toks, start) or after_verb) and _alike(
                toks, items[first:-1], subject):
            return items[first:]
    return [subject]
