"""spaCy as the relation finder's tagger, when installed (`pip install 'zoo[nlp]'` and an English model, e.g.
`python -m spacy download en_core_web_sm`); otherwise the rule tagger, and the choice is reported.

The finder's phrase lexicon, closed word classes, listed words and noun-phrase rules stay; spaCy replaces the rule
tagger's guesses for open-class words it has no list for (unknown words default to nouns; -ing/-ed/-ly words are
guessed from their neighbours) with its statistical tags, aligned to the finder's tokens by character offset.
`get_finder("auto")` uses spaCy when a model loads, else the rules. No spaCy model could be installed where this
was built, so the spaCy path is tested with rule-built pipelines only and not measured on the gold file
(benchmarks/results/relations_gold.md scores the rules); "rules" is the default of `zoo data relations`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from zoo.data.relation_lexicon import ADJECTIVES, ADVERBS, IRREGULAR_PARTICIPLES, NOUNS
from zoo.data.relations import TextRelation, find_relations
from zoo.data.tagging import KNOWN_VERBS, Tok, rule_tag

OPEN_CLASS = {"NOUN", "ADJ", "VERB", "ADV"}
LISTED = NOUNS | ADJECTIVES | ADVERBS | KNOWN_VERBS | IRREGULAR_PARTICIPLES
Finder = Callable[[str], list[TextRelation]]


class NLPUnavailable(RuntimeError):
    """spaCy or its model cannot be used here (the message says what to install)."""


def _coarse(token: Any) -> str | None:
    """The finder's tag for a spaCy token (None: keep the rule tag)."""
    tag, dep = token.tag_, token.dep_
    if tag.startswith("NN"):
        return "NOUN"
    if tag.startswith("JJ"):
        return "ADJ"
    if tag in ("VBG", "VBN") and dep in ("amod", "compound", "nmod"):
        return "ADJ"  # "a sleeping cat", "a potted plant"
    if tag.startswith("VB") or tag == "MD":
        return "VERB"
    if tag.startswith("RB"):
        return "ADV"
    if tag == "CD":
        return "NUM"
    return None


class SpacyTagger:
    """The rule tagger with spaCy's tags for open-class words.

    Args:
        model: a spaCy pipeline name or path (e.g. en_core_web_sm), loaded with `spacy.load`.
        nlp: an already built pipeline instead (it must set token tags: a tagger or an attribute ruler).
    """

    def __init__(self, model: str = "en_core_web_sm", nlp: Any = None) -> None:
        if nlp is None:
            try:
                import spacy
            except ImportError as err:
                raise NLPUnavailable("spaCy is not installed: pip install 'zoo[nlp]'") from err
            try:
                nlp = spacy.load(model)
            except OSError as err:
                raise NLPUnavailable(f"spaCy model {model!r} is not installed: python -m spacy download {model} "
                                     "(or give a model folder)") from err
        if not {"tagger", "attribute_ruler"} & set(nlp.pipe_names):
            raise NLPUnavailable(f"spaCy pipeline {nlp.pipe_names} sets no part-of-speech tags")
        self.nlp = nlp

    def __call__(self, text: str, toks: list[Tok]) -> None:
        rule_tag(text, toks)
        doc = self.nlp(text)
        by_start = {t.idx: t for t in doc}
        for tok in toks:
            token = by_start.get(tok.start)
            coarse = _coarse(token) if token is not None and token.tag_ else None
            if coarse is not None and tok.tag in OPEN_CLASS | {"NUM"} and tok.low not in LISTED:
                tok.tag = coarse


def get_finder(name: str = "auto", model: str = "en_core_web_sm") -> tuple[Finder, str]:
    """A relation finder and what it is: "rules", "spacy" (error when unavailable) or "auto" (spaCy if it loads)."""
    if name == "rules":
        return find_relations, "rules"
    if name not in ("auto", "spacy"):
        raise ValueError(f"unknown finder {name!r}: choose auto, rules or spacy")
    try:
        tagger = SpacyTagger(model)
    except NLPUnavailable as err:
        if name == "spacy":
            raise
        return find_relations, f"rules (spaCy not used: {err})"
    return partial(find_relations, tagger=tagger), f"spacy ({model})"
