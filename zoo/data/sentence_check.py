"""Is a perturbed prompt still a well-formed sentence? A check by structure, not by finding relations again.

`sentence_problems(text, edits)` applies the edits (span -> new text) and looks at each replaced piece in the new
text with the tagger (`zoo.data.tagging`), never with the relation finder: a swapped entity must be a whole noun
phrase (it starts with a determiner, number, adjective, noun or pronoun and ends in a noun or pronoun) that no
word before it modifies and no word after it continues ("a dining a couch table": the entity was cut); a new
phrase must not double a preposition or leave one dangling; articles must agree ("a owl"); no word may be
doubled ("the the"). Each problem is one line naming the piece.
"""

from __future__ import annotations

from zoo.data.relation_lexicon import ADJECTIVES, DETERMINERS
from zoo.data.relations import mark_phrases
from zoo.data.tagging import CONTENT, Tagger, Tok, adjective_like, tag

Edit = tuple  # (Span, str)
ENTITY_START = {"DET", "NUM", "ADJ", "NOUN", "PRON"}
ENTITY_END = {"NOUN", "PRON", "ADJ"}
AN_EXCEPTIONS = ("uni", "use", "usu", "eu", "one", "once", "ufo", "uk", "us")
AN_CONSONANT_EXCEPTIONS = ("hour", "honest", "honor", "honour", "heir")


def applied(text: str, edits: list[Edit]) -> tuple[str, list[tuple[int, int, str, str]]]:
    """The edited text and, per edit, (start, end) of the new piece in it, the new piece and the old one."""
    out, pieces, shift = text, [], 0
    for span, new in sorted(edits, key=lambda e: e[0].start):
        start = span.start + shift
        pieces.append((start, start + len(new), new, span.text))
        shift += len(new) - (span.end - span.start)
    for span, new in sorted(edits, key=lambda e: -e[0].start):
        out = out[:span.start] + new + out[span.end:]
    return out, pieces


def _window(toks: list[Tok], start: int, end: int) -> tuple[int, int]:
    first = next((i for i, t in enumerate(toks) if t.start >= start), len(toks))
    last = next((i for i in range(len(toks) - 1, -1, -1) if toks[i].end <= end), -1)
    return first, last


def _article_problem(article: Tok, word: Tok) -> str | None:
    low = word.low
    vowel = low[:1] in "aeiou" and not low.startswith(AN_EXCEPTIONS) or low.startswith(AN_CONSONANT_EXCEPTIONS)
    if article.low == "a" and vowel:
        return f"article 'a' before '{word.text}'"
    if article.low == "an" and not vowel and low[:1].isalpha():
        return f"article 'an' before '{word.text}'"
    return None


def _entity_problems(toks: list[Tok], first: int, last: int, piece: str) -> list[str]:
    problems = []
    if toks[first].tag not in ENTITY_START:
        problems.append(f"entity '{piece}' starts with '{toks[first].text}'")
    if toks[last].tag not in ENTITY_END or toks[last].low in DETERMINERS:
        problems.append(f"entity '{piece}' ends with '{toks[last].text}'")
    inner = [toks[j] for j in range(first + 1, last + 1) if toks[j].low in ("a", "an", "the")
             and toks[j - 1].tag in CONTENT]
    if inner:
        problems.append(f"entity '{piece}' holds two noun phrases ('{inner[0].text}' inside)")
    before = toks[first - 1] if first > 0 else None
    after = toks[last + 1] if last + 1 < len(toks) else None
    if before is not None and toks[first].tag in ("DET", "NUM") and (
            before.tag in ("DET", "NUM") or (before.tag == "ADJ" and before.low in ADJECTIVES) or
            (before.tag == "NOUN" and before.low not in ("there",))):
        problems.append(f"'{before.text}' dangles before entity '{piece}'")
    if before is not None and before.text == "," and first > 1 and toks[first].tag == "DET" and (
            toks[first - 2].tag == "ADJ" or adjective_like(toks[first - 2])):
        problems.append(f"'{toks[first - 2].text},' dangles before entity '{piece}'")
    if after is not None and after.tag in CONTENT and after.low not in ("s",):
        problems.append(f"'{after.text}' continues entity '{piece}' (an entity was cut)")
    return problems


def _phrase_problems(toks: list[Tok], first: int, last: int, piece: str) -> list[str]:
    problems = []
    before = toks[first - 1] if first > 0 else None
    after = toks[last + 1] if last + 1 < len(toks) else None
    if before is not None and before.tag == "PREP" and before.low == toks[first].low:
        problems.append(f"'{before.text}' doubled before phrase '{piece}'")
    if toks[last].low in ("of", "to") and (after is None or not after.word or after.tag in ("PREP", "CONJ", "VERB")):
        problems.append(f"phrase '{piece}' dangles (nothing after '{toks[last].text}')")
    return problems


def sentence_problems(text: str, edits: list[Edit], entities: list[bool] | None = None,
                      tagger: Tagger | None = None) -> list[str]:
    """What is broken in the text once the edits are applied (empty when it reads as a sentence); `entities` says
    which edits put an entity (the others put a phrase), in the order of `edits` (default: guessed)."""
    new_text, pieces = applied(text, edits)
    toks = tag(new_text, tagger)
    mark_phrases(toks)
    order = sorted(range(len(edits)), key=lambda k: edits[k][0].start)
    problems: list[str] = []
    for k, (start, end, piece, old) in zip(order, pieces):
        first, last = _window(toks, start, end)
        if first > last:
            problems.append(f"piece '{piece}' is empty")
            continue
        entity = entities[k] if entities is not None else not toks[first].in_phrase
        problems += (_entity_problems if entity else _phrase_problems)(toks, first, last, piece)
        for i in range(max(first - 1, 0), min(last + 1, len(toks) - 1)):
            a, b = toks[i], toks[i + 1]
            if a.low in ("a", "an") and b.word and (problem := _article_problem(a, b)):
                problems.append(problem)
            if a.word and a.low == b.low and a.tag in ("DET", "PREP", "CONJ"):
                problems.append(f"'{a.text}' doubled")
    return problems
