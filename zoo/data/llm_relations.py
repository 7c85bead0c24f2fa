"""The LLM path, as the paper did: a causal chat model extracts a prompt's spatial relations as JSON and proposes
perturbations; nothing it says is kept unless a second, independent method agrees.

- Extraction: the model's relations (subject, phrase, object with character spans) must be exactly the rule (or
  spaCy-tagged) finder's relations, span for span; otherwise the prompt's LLM output is rejected.
- Proposal: the model's perturbed text and its announced changes ({index, kind}) are accepted only when the text
  is the original with exactly those changes (a swap exchanges the two entities, a flip or an axis change
  rewrites only the phrase; nothing else may differ), the text passes the structural check (`zoo.data.sentence_check`), and
  the finder on the new text sees exactly the announced relations changed in meaning.

Every rejection is counted by reason and kept in `LLMReview.rows` (prompt, stage, reason, the model's answer)
for review; callers fall back to the rule-based perturbation. Nothing is dropped silently.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from zoo.data.perturb_text import TextPerturbation
from zoo.data.relation_lexicon import ABSOLUTE_PHRASES, PAIR_PHRASES
from zoo.data.relations import Span, TextRelation, canonical, find_relations
from zoo.data.sentence_check import sentence_problems

Chat = Callable[[str], str]
KINDS = ("flip", "swap", "axis")
EXTRACT = ("List every spatial relation in this image description as JSON: {\"relations\": [{\"subject\": text, "
           "\"subject_span\": [start, end], \"phrase\": text, \"phrase_span\": [start, end], \"object\": text or null, "
           "\"object_span\": [start, end] or null}]}. Spans are character offsets into the description; the subject "
           "and object are whole noun phrases (determiner, modifiers, head noun). Answer with the JSON only.\n"
           "Description: ")
PROPOSE = ("Change exactly {count} of the numbered spatial relations of this image description: flip the phrase to "
           "its opposite, swap the two entities, or move the relation to another axis. Change nothing else. Answer "
           "with JSON only: {{\"text\": the new description, \"changes\": [{{\"index\": number, \"kind\": \"flip\" or "
           "\"swap\" or \"axis\"}}]}}.\nRelations: {relations}\nDescription: {text}")


def parse_json(answer: str) -> Any | None:
    """The first JSON object in a model's answer (code fences allowed), or None."""
    match = re.search(r"\{.*\}", answer, flags=re.DOTALL)
    if match is None:
        return None
    try:
        return json.loads(match.group())
    except json.JSONDecodeError:
        return None


def _span(text: str, value: Any, stated: Any) -> Span | None:
    """A span the model gave; its offsets must cut out exactly the text it stated."""
    if not isinstance(stated, str) or not isinstance(value, list) or len(value) != 2:
        return None
    start, end = value
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        return None
    return Span(start, end, stated) if text[start:end] == stated else None


def relations_from_json(data: Any, text: str) -> list[TextRelation] | None:
    """The model's relations as `TextRelation`s, or None when the JSON does not follow the schema or a span is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("relations"), list):
        return None
    out = []
    for rel in data["relations"]:
        if not isinstance(rel, dict):
            return None
        subject = _span(text, rel.get("subject_span"), rel.get("subject"))
        phrase = _span(text, rel.get("phrase_span"), rel.get("phrase"))
        obj = _span(text, rel.get("object_span"), rel.get("object")) if rel.get("object") is not None else None
        if subject is None or phrase is None or (rel.get("object") is not None and obj is None):
            return None
        low = phrase.text.lower()
        predicate = PAIR_PHRASES.get(low) or ABSOLUTE_PHRASES.get(low) or "unknown"
        out.append(TextRelation(subject, phrase, predicate, obj))
    return out


def _key(relation: TextRelation) -> tuple:
    obj = relation.object
    return (relation.subject.start, relation.subject.end, relation.phrase.start, relation.phrase.end,
            (obj.start, obj.end) if obj else None)


def relations_agree(llm: list[TextRelation], finder: list[TextRelation]) -> bool:
    """The same relations, span for span (order free)."""
    return Counter(map(_key, llm)) == Counter(map(_key, finder))


def _regions(text: str, new: str, relations: list[TextRelation],
             changes: list[dict]) -> list[tuple[Span, str, bool]] | None:
    """What each announced piece became, as the announced kinds require: a swap puts each entity's text in the other's
    place, a flip or an axis change rewrites only the phrase; (piece, its new text, is an entity) for the changed
    pieces, or None when the new text is not the original with exactly those changes."""
    expected: dict[tuple[int, int], tuple[Span, str | None, bool]] = {}
    for change in changes:
        rel = relations[change["index"]]
        if change["kind"] == "swap":
            if rel.object is None:
                return None
            expected[(rel.subject.start, rel.subject.end)] = (rel.subject, rel.object.text, True)
            expected[(rel.object.start, rel.object.end)] = (rel.object, rel.subject.text, True)
        else:
            expected[(rel.phrase.start, rel.phrase.end)] = (rel.phrase, None, False)
    pieces = sorted(expected.values(), key=lambda p: p[0].start)
    if any(a[0].end > b[0].start for a, b in pairwise(pieces)):
        return None
    pattern, cursor = "", 0
    for piece, value, _ in pieces:
        group = "(.+?)" if value is None else "((?i:" + re.escape(value[:1]) + ")" + re.escape(value[1:]) + ")"
        pattern += re.escape(text[cursor:piece.start]) + group
        cursor = piece.end
    match = re.fullmatch(pattern + re.escape(text[cursor:]), new, flags=re.DOTALL)
    if match is None:
        return None
    return [(piece, got, entity) for (piece, _, entity), got in zip(pieces, match.groups()) if got != piece.text]


def check_proposal(text: str, relations: list[TextRelation], proposal: Any,
                   count: int) -> tuple[TextPerturbation | None, str]:
    """A model's proposal as a `TextPerturbation` when the finder and the structural check agree, else (None, why)."""
    if not isinstance(proposal, dict) or not isinstance(proposal.get("text"), str) or \
            not isinstance(proposal.get("changes"), list):
        return None, "proposal_not_json"
    changes = proposal["changes"]
    if len(changes) != count or not all(isinstance(c, dict) and isinstance(c.get("index"), int) and
                                        0 <= c["index"] < len(relations) and c.get("kind") in KINDS for c in changes):
        return None, "proposal_bad_changes"
    if len({c["index"] for c in changes}) != count:
        return None, "proposal_bad_changes"
    new = proposal["text"].strip()
    regions = _regions(text, new, relations, changes)
    if regions is None:
        return None, "not_the_announced_change"
    if sentence_problems(text, [(p, n) for p, n, _ in regions], [e for _, _, e in regions]):
        return None, "broken_sentence"
    after = find_relations(new)
    changed = {i for i, (a, b) in enumerate(zip(relations, after)) if canonical(a) != canonical(b)}
    if len(after) != len(relations) or changed != {c["index"] for c in changes}:
        return None, "finder_disagrees"
    kept = [{"index": c["index"], "kind": c["kind"], "before": relations[c["index"]].to_json(),
             "after": after[c["index"]].to_json(), "source": "llm"} for c in sorted(changes, key=lambda c: c["index"])]
    return TextPerturbation(text, new, count, kept, relations, after), "accepted"


@dataclass
class LLMReview:
    """Counts of accepted and rejected LLM outputs by stage and reason, and the rejected ones for review."""

    counts: Counter = field(default_factory=Counter)
    rows: list[dict] = field(default_factory=list)

    def record(self, stage: str, reason: str, prompt: str, answer: str = "") -> None:
        self.counts[f"{stage}:{reason}"] += 1
        if reason != "accepted":
            self.rows.append({"stage": stage, "reason": reason, "prompt": prompt, "answer": answer[:2000]})


class LLMRelations:
    """The LLM path over a chat callable (e.g. `CausalLMChat(...).chat`), checked against `finder`."""

    def __init__(self, chat: Chat, review: LLMReview | None = None,
                 finder: Callable[[str], list[TextRelation]] = find_relations) -> None:
        self.chat, self.review, self.finder = chat, review if review is not None else LLMReview(), finder

    def _ask(self, message: str) -> str:
        try:
            return self.chat(message)
        except Exception as err:  # noqa: BLE001 - a failing model is counted like a wrong answer
            return f"<error {type(err).__name__}: {err}>"

    def extract(self, text: str, relations: list[TextRelation] | None = None) -> list[TextRelation] | None:
        """The model's relations when they are exactly the finder's, else None (counted, kept for review)."""
        relations = self.finder(text) if relations is None else relations
        answer = self._ask(EXTRACT + text)
        found = relations_from_json(parse_json(answer), text)
        reason = "not_json" if found is None else ("accepted" if relations_agree(found, relations) else "disagrees")
        self.review.record("extract", reason, text, answer)
        return found if reason == "accepted" else None

    def propose(self, text: str, count: int, relations: list[TextRelation] | None = None) -> TextPerturbation | None:
        """A perturbation of `count` relations proposed by the model, or None when it is not accepted."""
        relations = self.finder(text) if relations is None else relations
        if not relations or count > len(relations) or self.extract(text, relations) is None:
            return None
        numbered = json.dumps([{"index": i, **r.to_json()} for i, r in enumerate(relations)])
        answer = self._ask(PROPOSE.format(count=count, relations=numbered, text=text))
        result, reason = check_proposal(text, relations, parse_json(answer), count)
        self.review.record("propose", reason, text, answer)
        return result
