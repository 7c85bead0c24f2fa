"""Words and punctuation of a prompt with their character offsets (`Tok`), before and after tagging."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from zoo.data.relation_lexicon import ADJECTIVE_SUFFIXES, NOUNS

TOKEN = re.compile(r"[A-Za-z0-9\u00C0-\u024F]+(?:[-'\u2019][A-Za-z0-9\u00C0-\u024F]+)*|[^\sA-Za-z0-9]")
CONTENT = {"NOUN", "ADJ"}


@dataclass
class Tok:
    """A word or punctuation mark with its character offsets and coarse tag."""

    text: str
    low: str
    start: int
    end: int
    tag: str = ""
    in_phrase: bool = False  # part of a spatial phrase (set by the relation finder)

    @property
    def word(self) -> bool:
        return self.text[0].isalnum() or self.text in ("'s", "\u2019s")  # "It's": "'s" is the verb


Tagger = Callable[[str, list[Tok]], None]


MARKUP = {"*", "#", "_"}  # Markdown emphasis and headings ("**Expanded Prompt:**"): not words nor punctuation


def tokenize(text: str) -> list[Tok]:
    """Words and punctuation with their character offsets (untagged), without Markdown markup; a pronoun's "'s"
    ("It's lying on") is its own token, read as "is"."""
    out = []
    for m in TOKEN.finditer(text):
        if m.group() in MARKUP:
            continue
        low = m.group().lower().replace("\u2019", "'")
        if low in CONTRACTED:
            cut = m.end() - 2
            out += [Tok(m.group()[:-2], low[:-2], m.start(), cut), Tok(m.group()[-2:], "is", cut, m.end())]
        else:
            out.append(Tok(m.group(), low, m.start(), m.end()))
    return out


# a pronoun and "is" or "has" in one word: split so that the pronoun is the entity ("It's lying on a suitcase")
CONTRACTED = {"it's", "he's", "she's", "that's", "there's", "here's", "who's", "what's"}


def adjective_like(tok: Tok) -> bool:
    """A word that can stand in a list of adjectives before a noun ("sleek, dark wooden cabinets")."""
    if tok.tag == "ADJ":
        return True
    return tok.tag == "NOUN" and tok.low not in NOUNS and len(tok.low) > 3 and \
        tok.low.endswith(ADJECTIVE_SUFFIXES) and (not tok.low.endswith("s") or tok.low.endswith(("less", "ous")))
