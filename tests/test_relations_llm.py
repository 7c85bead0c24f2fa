"""The LLM path (`zoo.data.llm_relations`): a causal chat model's relations and perturbations are kept only when the
finder agrees; every rejection is counted and kept for review."""

from __future__ import annotations

import json

import torch
from test_construct_perturbed import _renderer, _seeds

from zoo.bench.spatialbench import load_spatialbench
from zoo.construct.judges import VerifierJudge
from zoo.construct.rules import perturbed_chunk
from zoo.data.llm_chat import CausalLMChat
from zoo.data.llm_relations import LLMRelations, check_proposal, parse_json, relations_from_json
from zoo.data.relations import TextRelation, find_relations

TEXT = "A cat is to the left of a dog."
PROMPTS = [TEXT, "A lamp is between a sofa and a bookcase.", "a photo of a dog right of a teddy bear",
           "A painting hangs above a butterfly, and a vase stands next to sleek, dark wooden cabinets."]


def _extraction(relations: list[TextRelation]) -> str:
    """The answer a faithful model gives to the extraction request (as JSON, in a code fence)."""
    rows = [{"subject": r.subject.text, "subject_span": [r.subject.start, r.subject.end], "phrase": r.phrase.text,
             "phrase_span": [r.phrase.start, r.phrase.end], "object": r.object.text,
             "object_span": [r.object.start, r.object.end]} for r in relations]
    return "```json\n" + json.dumps({"relations": rows}) + "\n```"


def test_a_tiny_random_chat_model_is_rejected_by_the_agreement_check_and_counted():
    torch.manual_seed(0)
    chat = CausalLMChat(None, max_new_tokens=24)
    path = LLMRelations(chat.chat)
    assert all(path.propose(text, 1) is None for text in PROMPTS)
    assert sum(path.review.counts.values()) == len(PROMPTS)
    assert not any(key.endswith(":accepted") for key in path.review.counts)
    assert all(key.startswith("extract:") for key in path.review.counts)  # rejected before any proposal is asked
    assert [row["prompt"] for row in path.review.rows] == PROMPTS
    assert all(row["reason"] in ("not_json", "disagrees") and row["answer"] for row in path.review.rows)


def test_construct_with_a_random_chat_model_counts_its_rejections_and_falls_back_to_the_rules(spatial_set):
    items = load_spatialbench(str(spatial_set / "prompts" / "train-*.tar"), 4)
    torch.manual_seed(0)
    llm = LLMRelations(CausalLMChat(None, max_new_tokens=16).chat)
    pairs, stats = perturbed_chunk(items, _renderer(items), VerifierJudge(), 2, _seeds, 0, llm=llm)
    assert sum(stats["llm"].values()) >= len(items) and not any(k.endswith(":accepted") for k in stats["llm"])
    assert len(stats["llm_review"]) == sum(stats["llm"].values())
    assert {row["prompt"] for row in stats["llm_review"]} == {item.prompt for item in items}
    assert stats["reasons"].get("kept", 0) >= 1 and all(
        all(c.get("source") != "llm" for c in p["meta"]["perturbations"]) for p in pairs)


def test_a_faithful_answer_is_accepted_and_a_wrong_one_is_rejected_with_its_reason():
    relations = find_relations(TEXT)
    answers = iter([_extraction(relations), json.dumps({"text": "A dog is to the left of a cat.",
                                                        "changes": [{"index": 0, "kind": "swap"}]})])
    path = LLMRelations(lambda message: next(answers))
    result = path.propose(TEXT, 1)
    assert result is not None and result.text == "A dog is to the left of a cat."
    assert result.changes[0]["source"] == "llm" and dict(path.review.counts) == {"extract:accepted": 1,
                                                                                  "propose:accepted": 1}
    wrong = [("A cow is to the right of a dog.", "flip", "not_the_announced_change"),  # changed more than announced
             ("A cat is to the left of a dog.", "flip", "finder_disagrees"),  # announced a change, made none
             ("A cat is on on a dog.", "flip", "broken_sentence"),  # the structural check
             ("A dog is to the left of a cat.", "flip", "not_the_announced_change")]  # a swap announced as a flip
    for new, kind, reason in wrong:
        assert check_proposal(TEXT, relations, {"text": new, "changes": [{"index": 0, "kind": kind}]}, 1) == (
            None, reason), new
    assert check_proposal(TEXT, relations, parse_json("no JSON here"), 1) == (None, "proposal_not_json")


def test_extracted_relations_must_match_the_finder_span_for_span():
    relations = find_relations(TEXT)
    cut = json.loads(_extraction(relations).strip("`json\n"))
    cut["relations"][0].update(subject="cat", subject_span=[2, 5])  # the head noun without its determiner
    answers = iter([json.dumps(cut)])
    path = LLMRelations(lambda message: next(answers))
    assert path.extract(TEXT) is None and dict(path.review.counts) == {"extract:disagrees": 1}
    bad_offsets = json.loads(json.dumps(cut))
    bad_offsets["relations"][0]["subject_span"] = [0, 3]  # offsets that do not cut out the stated text
    assert relations_from_json(bad_offsets, TEXT) is None


def test_zoo_data_relations_loads_a_chat_model_by_path_and_counts_every_rejection(tmp_path):
    from zoo.construct.relations_command import relations

    torch.manual_seed(0)
    tiny = CausalLMChat(None, max_new_tokens=8)
    tiny.model.save_pretrained(tmp_path / "llm")  # safetensors
    tiny.tokenizer.save_pretrained(tmp_path / "llm")
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("\n".join(PROMPTS[:2]) + "\n")
    out = relations(str(prompts), llm=str(tmp_path / "llm"), out=tmp_path / "found.json")
    counts = out["llm"]["counts"]
    assert sum(counts.values()) == 2 and not any(key.endswith(":accepted") for key in counts)
    assert [row["prompt"] for row in out["llm"]["rejected"]] == PROMPTS[:2]
    assert json.loads((tmp_path / "found.json").read_text())["llm"]["counts"] == counts
