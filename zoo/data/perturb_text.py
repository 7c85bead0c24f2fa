"""Perturb the spatial relations of a free-text prompt: flip the phrase, swap the entities, or change the axis.

`perturb_prompt(text, count, rng)` changes exactly `count` different relations found by
`zoo.data.relations.find_relations` and checks the result by parsing it again: the perturbed prompt
must hold as many relations as the original, with exactly the chosen ones changed in meaning
(`canonical`), else another choice is tried and, failing all, None comes back. An optional
`Rewriter` (a causal LM told to rephrase, as the paper used an LLM) may rewrite the result; its
output is kept only if it parses to the same relations, otherwise the rule-based text stays.

Which relation is changed (`prefer="sure"`, the default): a relation the finder is surest is spatial first. Each
relation gets a tier from its phrase alone (`phrase_tier`): 0 for a phrase that names a direction or a region
("to the left of", "on top of", "in the background", "at the edge of") or is a preposition with (almost) only a
spatial sense ("above", "below", "beneath", "behind", "beside", "between", "next to", "inside", "opposite"); 2 for a
short preposition with common non-spatial senses ("on", "at", "over", "across", "around", "along", "against", "by",
"within", "among": "focusing on", "a glow on", "against a blue sky", "at dawn", "over the years"); 1 for the rest
("under", "near", "beyond", "surrounded by", "at the heart of": mostly spatial, with figurative uses such as "under
the sun"). A relation whose subject or object ends in a closed-class word (a pronoun, adverb, determiner: "them")
or has one word after its determiners that is an adjective or verb of the finder's lists ("the quaint", "both
sit") is put at least in tier 1: its entity may be cut, a wrong subject or a guessed referent. The random order of
the relations (`rng.permutation`, drawn as before) is sorted stably by tier, so the order within a tier stays random and a prompt whose relations share one tier (every SpatialShapes world prompt) is
perturbed exactly as with `prefer="random"`; where the tiers differ and every preferred attempt fails, the random
order gets the same number of attempts again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from zoo.data import relation_lexicon as lex
from zoo.data.llm_chat import CausalLMChat
from zoo.data.relations import (
    CARRIERS,
    DETERMINERS,
    PRONOUNS,
    SYMMETRIC,
    Span,
    TextRelation,
    canonical,
    entity_key,
    find_relations,
)
from zoo.data.sentence_check import sentence_problems

KINDS = ("flip", "swap", "axis")
# words naming a direction or a region of a thing: a phrase with one of them is spatial ("to the left of", "on top of")
REGION_WORDS = {"left", "right", "front", "back", "top", "bottom", "side", "sides", "middle", "center", "centre",
                "edge", "corner", "foreground", "background", "distance", "base", "foot", "feet", "upper", "lower"}
# prepositions (and fixed phrases) whose sense is (almost) only spatial
SURE_PHRASES = {"above", "below", "beneath", "underneath", "behind", "beside", "besides", "atop", "between",
                "in between", "opposite", "opposite to", "across from", "next to", "adjacent to", "alongside", "inside",
                "inside of", "outside", "outside of", "hidden behind", "from behind", "from beneath",
                "from underneath", "from inside"}
# short prepositions with common non-spatial senses ("focusing on", "at dawn", "over the years", "by hand")
POLYSEMOUS_PHRASES = {"on", "upon", "onto", "at", "in", "over", "across", "around", "all around", "along", "against",
                      "by", "with", "through", "within", "from within", "off", "off of", "before", "among", "amongst",
                      "amid", "amidst"}
PREFER = ("sure", "random")
# closed-class words (a pronoun, auxiliary, preposition, conjunction, adverb, determiner) as an entity's last word, or
# an entity whose only word after its determiners is an adjective or a verb of the finder's lists: the entity may be
# cut ("the quaint"), a wrong subject ("both sit") or a referent the finder guessed ("them")
CLOSED_CLASS = (lex.PRONOUNS | lex.SUBJECT_PRONOUNS | lex.AUXILIARIES | lex.PREPOSITIONS | lex.CONJUNCTIONS
                | lex.ADVERBS | lex.DETERMINERS | lex.MORE_DETERMINERS) - lex.NOUNS
NOT_ALONE = (lex.ADJECTIVES | lex.VERBS | lex.IRREGULAR_PAST) - lex.NOUNS
FLIP: dict[str, str] = {
    "above": "below", "over": "under", "on top of": "beneath", "atop": "beneath", "on the top of": "beneath",
    "below": "above", "beneath": "on top of", "under": "on top of", "underneath": "on top of",
    "at the bottom of": "on top of", "at the base of": "on top of", "in front of": "behind", "ahead of": "behind",
    "behind": "in front of", "in back of": "in front of", "at the back of": "in front of", "beyond": "in front of",
    "hidden by": "in front of", "partially hidden by": "in front of", "obscured by": "in front of",
    "partially obscured by": "in front of", "hidden behind": "in front of",
    "inside": "outside", "inside of": "outside of", "within": "outside", "outside": "inside", "outside of": "inside",
    "on": "under", "upon": "under", "onto": "under", "across the top of": "under",
    "in the middle of": "at the edge of", "in the center of": "at the edge of", "in the centre of": "at the edge of",
    "at the edge of": "in the middle of", "in the background": "in the foreground",
    "in the foreground": "in the background", "at the top": "at the bottom", "at the bottom": "at the top",
    "in the center": "in the corner", "in the centre": "in the corner", "in the middle": "in the corner",
    "in the corner": "in the center",
}
FLIP.update({
    "on the bottom of": "on the top of", "at the top of": "at the bottom of", "at the foot of": "at the top of",
    "on the front of": "behind", "partly hidden by": "in front of", "on the edge of": "in the middle of",
    "in the corner of": "in the middle of", "at the center of": "at the edge of", "at the centre of": "at the edge of",
    "in the very center of": "at the edge of", "in the distance": "in the foreground", "on the bottom": "on top",
    "on top": "at the bottom", "at the center": "in the corner", "in the far distance": "in the foreground",
})
FLIP_BY_PREDICATE = {
    "next_to": "far from", "far_from": "next to", "above": "below", "below": "above", "in_front_of": "behind",
    "behind": "in front of", "inside": "outside", "outside": "inside", "on": "under", "in_middle_of": "at the edge of",
    "at_edge_of": "in the middle of", "either_side_of": "far from", "surrounded_by": "far from", "around": "far from",
    "across": "far from", "opposite": "next to", "among": "far from", "along": "far from", "between": "far from",
    "abs_background": "in the foreground", "abs_foreground": "in the background", "abs_top": "at the bottom",
    "abs_bottom": "at the top", "abs_center": "in the corner", "abs_corner": "in the center", "abs_sides": "in the center",
    "off": "on",
}
AXIS_BY_PREDICATE = {
    "left_of": "above", "right_of": "below", "above": "to the left of", "below": "to the right of",
    "on": "next to", "in_front_of": "to the left of", "behind": "to the right of", "next_to": "on top of",
    "far_from": "above", "inside": "on top of", "outside": "below", "in_middle_of": "to the left of",
    "at_edge_of": "above", "abs_left": "at the top", "abs_right": "at the bottom", "abs_top": "on the left",
    "abs_bottom": "on the right", "abs_background": "on the left", "abs_foreground": "on the right",
    "abs_center": "on the left", "abs_corner": "at the top", "either_side_of": "above", "surrounded_by": "above",
    "around": "above", "across": "below", "opposite": "above", "among": "above", "along": "above",
    "abs_sides": "at the top", "between": "above", "top_left_of": "below", "top_right_of": "below", "bottom_left_of": "above",
    "bottom_right_of": "above", "off": "under",
}


@dataclass
class TextPerturbation:
    """A prompt with `count` relations changed, what was changed, and both relation lists."""

    original: str
    text: str
    count: int
    changes: list[dict] = field(default_factory=list)
    relations: list[TextRelation] = field(default_factory=list)
    perturbed_relations: list[TextRelation] = field(default_factory=list)
    rewritten: bool = False
    problems: list[str] = field(default_factory=list)


def _keep_case(new: str, old: str) -> str:
    return new[:1].upper() + new[1:] if old[:1].isupper() else new


def flipped_phrase(relation: TextRelation) -> str | None:
    """The opposite phrase in the same wording ("to the left of" -> "to the right of"), or None."""
    phrase = relation.phrase.text
    low = phrase.lower()
    if relation.object2 is not None:  # "between A and B" has no opposite phrase
        return None
    if {"left", "right"} & set(low.split()) and not {"left", "right"} <= set(low.split()):
        words = [{"left": "right", "right": "left"}.get(w.lower(), w) for w in phrase.split()]
        return _keep_case(" ".join(words), phrase)
    new = FLIP.get(low) or FLIP_BY_PREDICATE.get(relation.predicate)
    return _keep_case(new, phrase) if new else None


def axis_phrase(relation: TextRelation) -> str | None:
    """A phrase on another axis ("to the left of" -> "above", "behind" -> "to the right of"), or None."""
    new = AXIS_BY_PREDICATE.get(relation.predicate) if relation.object2 is None else None
    return _keep_case(new, relation.phrase.text) if new else None


def plural(span: Span) -> bool:
    """Whether a noun phrase reads as plural ("two cups", "the mountains")."""
    words = span.text.lower().split()
    return words[0] in ("two", "three", "four", "five", "several", "many", "some", "these", "those") or (
        words[-1].endswith("s") and not words[-1].endswith(("ss", "us", "is", "'s")))


def _gap_words(relation: TextRelation, text: str) -> set[str]:
    """Lower-case words between the subject and the phrase."""
    return set(text[relation.subject.end:relation.phrase.start].lower().split())


def swappable(relation: TextRelation, text: str | None = None) -> bool:
    """Swapping the entities changes the meaning (not absolute or symmetric, two different non-pronoun entities)."""
    if relation.object is None or relation.predicate in SYMMETRIC:
        return False
    a, b = relation.subject, relation.object
    if a.start > b.start:  # fronted ("Below a castle, a knight"): a swap would not read as a sentence
        return False
    if plural(a) != plural(b):  # "The mountains hangs above the moon"
        return False
    # "a boy in a red jacket stands ...": the subject is not all of the noun phrase before the relation
    if text is not None and _gap_words(relation, text) & CARRIERS:
        return False
    if a.text.lower() in PRONOUNS or b.text.lower() in PRONOUNS:
        return False
    return entity_key(a) != entity_key(b)


def edits_for(relation: TextRelation, kind: str, text: str | None = None) -> list[tuple[Span, str]] | None:
    """The text replacements that apply one perturbation to one relation, or None if it does not apply."""
    if kind == "swap":
        if not swappable(relation, text):
            return None
        return [(relation.subject, relation.object.text), (relation.object, relation.subject.text)]
    new = flipped_phrase(relation) if kind == "flip" else axis_phrase(relation)
    return None if new is None or new.lower() == relation.phrase.text.lower() else [(relation.phrase, new)]


def _sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip()
    return not before or before[-1] in ".!?:"


def apply_edits(text: str, edits: list[tuple[Span, str]]) -> str:
    """Replace spans (non-overlapping) right to left; an entity moved to or from a sentence start is re-cased."""
    out = text
    for span, new in sorted(edits, key=lambda e: -e[0].start):
        first = new.split()[0].lower() if new.split() else ""
        if _sentence_start(text, span.start):  # the case the sentence had: "A dog ..." or "a dog ..."
            new = (new[:1].upper() if span.text[:1].isupper() else new[:1].lower()) + new[1:]
        elif first in DETERMINERS and new[:1].isupper():
            new = new[:1].lower() + new[1:]
        out = out[:span.start] + new + out[span.end:]
    return out


def _overlaps(spans: list[Span], taken: list[Span]) -> bool:
    return any(a.start < b.end and b.start < a.end for a in spans for b in taken)


def _owner(relations: list[TextRelation], span: Span) -> TextRelation:
    return next(r for r in relations if span in (r.phrase, r.subject, r.object, r.object2))


def phrase_tier(relation: TextRelation) -> int:
    """0 if the relation's phrase is surely spatial (a direction or region word, or a spatial-only preposition), 2 if
    it is a short preposition with common non-spatial senses, 1 otherwise (see the module docstring)."""
    words = relation.phrase.text.lower().replace("-", " ").split()
    low = " ".join(w for w in words if w not in ("directly", "just", "partially", "partly"))
    if low in SURE_PHRASES or REGION_WORDS & set(words):
        return 0
    return 2 if low in POLYSEMOUS_PHRASES else 1


def doubtful_entity(span: Span) -> bool:
    """Whether the entity's last word is a closed-class word ("them", "it") or its only word after the determiners
    an adjective or a verb ("the quaint", "both sit", "takes") by the finder's word lists."""
    words = span.text.lower().strip(" ,.;:!?\"'").split()
    content = [w for w in words if w not in lex.DETERMINERS | lex.MORE_DETERMINERS]
    return not words or words[-1] in CLOSED_CLASS or (len(content) == 1 and content[0] in NOT_ALONE)


def relation_tier(relation: TextRelation) -> int:
    """The phrase's tier (`phrase_tier`), at least 1 when an entity's head is doubtful (`doubtful_entity`)."""
    tier = phrase_tier(relation)
    return max(tier, 1) if any(doubtful_entity(e) for e in relation.entities()) else tier


def _check(original: list[TextRelation], text: str, chosen: set[int]) -> list[TextRelation] | None:
    """The perturbed prompt's relations if exactly the chosen relations changed in meaning, else None."""
    after = find_relations(text)
    if len(after) != len(original):
        return None
    changed = {i for i, (a, b) in enumerate(zip(original, after)) if canonical(a) != canonical(b)}
    return after if changed == chosen else None


def perturb_prompt(text: str, count: int, rng: np.random.Generator, kinds: tuple[str, ...] = KINDS,
                   attempts: int = 12, relations: list[TextRelation] | None = None,
                   prefer: str = "sure") -> TextPerturbation | None:
    """Change exactly `count` different relations of the prompt (checked by re-parsing), or None if impossible.

    `prefer="sure"` tries the relations surest to be spatial first (`phrase_tier`; random within a tier),
    `prefer="random"` in a uniformly random order."""
    if prefer not in PREFER:
        raise ValueError(f"prefer must be one of {PREFER}, not {prefer!r}")
    relations = find_relations(text) if relations is None else relations
    if count < 1 or count > len(relations):
        return None
    tiers = [relation_tier(r) for r in relations] if prefer == "sure" else [0] * len(relations)
    result = _attempt(text, count, rng, kinds, attempts, relations, tiers)
    if result is None and len(set(tiers)) > 1:  # the preferred relations could not be changed: any relation
        result = _attempt(text, count, rng, kinds, attempts, relations, [0] * len(relations))
    return result


def _attempt(text: str, count: int, rng: np.random.Generator, kinds: tuple[str, ...], attempts: int,
             relations: list[TextRelation], tiers: list[int]) -> TextPerturbation | None:
    for _ in range(attempts):
        order = sorted(rng.permutation(len(relations)).tolist(), key=lambda i: tiers[i])  # stable: random in a tier
        edits: list[tuple[Span, str]] = []
        taken: list[Span] = []
        changes: list[dict] = []
        for index in order:
            if len(changes) == count:
                break
            for kind in rng.permutation(list(kinds)).tolist():
                planned = edits_for(relations[index], kind, text)
                if planned and not _overlaps([s for s, _ in planned], taken):
                    edits += planned
                    taken += [s for s, _ in planned]
                    changes.append({"index": index, "kind": kind, "before": relations[index].to_json()})
                    break
        if len(changes) < count:
            continue
        new_text = apply_edits(text, edits)
        if sentence_problems(text, edits, [span != _owner(relations, span).phrase for span, _ in edits]):
            continue  # not a well-formed sentence (checked by structure, not by finding relations)
        after = _check(relations, new_text, {c["index"] for c in changes})
        if after is not None:
            for change in changes:
                change["after"] = after[change["index"]].to_json()
            return TextPerturbation(text, new_text, count, sorted(changes, key=lambda c: c["index"]), relations, after)
    return None


class Rewriter(Protocol):
    """Anything that rephrases a prompt (e.g. an instruction-following LM)."""

    def __call__(self, text: str) -> str: ...


def rewrite_checked(perturbation: TextPerturbation, rewriter: Rewriter) -> bool:
    """Let the rewriter rephrase the perturbed prompt; keep its text only if it parses to the same relations."""
    try:
        candidate = rewriter(perturbation.text).strip()
    except Exception:  # noqa: BLE001 - a failing rewriter leaves the rule-based text
        return False
    after = find_relations(candidate)
    if not candidate or [canonical(r) for r in after] != [canonical(r) for r in perturbation.perturbed_relations]:
        return False
    perturbation.text, perturbation.perturbed_relations, perturbation.rewritten = candidate, after, True
    return True


class CausalLMRewriter(CausalLMChat):
    """A transformers causal LM asked to rephrase a prompt without changing its spatial relations (greedy).

    Args:
        pretrained: local path or hub id (e.g. Qwen/Qwen2.5-7B-Instruct); None builds a tiny random one (tests).
        instruction: the request put before the prompt.
        max_new_tokens: length limit of the answer.
        trust_remote_code: off unless the checkpoint needs it.
    """

    INSTRUCTION = ("Rewrite this image description fluently. Keep every object and every spatial relation "
                   "exactly as stated; answer with the description only.\n")

    def __init__(self, pretrained: str | None = None, instruction: str | None = None, max_new_tokens: int = 96,
                 trust_remote_code: bool = False) -> None:
        super().__init__(pretrained, max_new_tokens=max_new_tokens, trust_remote_code=trust_remote_code)
        self.instruction = instruction or self.INSTRUCTION

    def __call__(self, text: str) -> str:
        return self.chat(self.instruction + text)
