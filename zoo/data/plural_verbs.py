"""Words ending in -s (and a few others) that are verbs, not plural nouns, read from their clause: "a river flows
below", ", birds outnumber trees", "while mist swells around" (part of the rule tagger, `zoo.data.tagging`)."""

from __future__ import annotations

from zoo.data.relation_lexicon import NOUNS
from zoo.data.tokens import CONTENT, Tok, adjective_like

SINGULAR_DETERMINERS = {"a", "an", "this", "that", "each", "every", "another", "one"}


def clause_led(toks: list[Tok], k: int) -> bool:
    """Token k ends a run of modifiers and nouns that starts a clause ("Small birds", ", birds")."""
    while k >= 0 and (toks[k].tag in CONTENT or (toks[k].text == "," and k > 0 and toks[k - 1].tag == "ADJ") or (
            toks[k].low in ("and", "or") and k > 0 and adjective_like(toks[k - 1]))):
        k -= 1  # "a brand-new, gleaming red toy sports car on": a comma inside a list of adjectives; "symmetrical and
        # iconic golden lines erupt"
    return k < 0 or toks[k].text in (",", ".", ";", ":")


def singular_led(toks: list[Tok], i: int) -> bool:
    """The words before token i are a noun phrase led by a singular determiner ("an artist" stands poised: the -s
    word after it is a verb, not a plural head)."""
    j = i - 1
    while j >= 0 and toks[j].tag in CONTENT:
        j -= 1
    return j >= 0 and toks[j].low in SINGULAR_DETERMINERS


def _verb_pair(toks: list[Tok], k: int) -> bool:
    """Token k, an -s word before "and", is a verb: tagged so, or an unlisted word after a singular noun ("the river
    bends and curls")."""
    tok, prev = toks[k], toks[k - 1]
    if not tok.low.endswith("s") or tok.low.endswith("ss"):
        return False
    return tok.tag == "VERB" or (tok.tag == "NOUN" and tok.low not in NOUNS and prev.tag == "NOUN" and
                                 not prev.low.endswith("s"))


def _after_subordinator(toks: list[Tok], k: int) -> bool:
    """Token k ends one to three nouns right after "while", "as", "where" ("as coal smoke")."""
    j = k
    while j > 0 and k - j < 3 and toks[j].tag == "NOUN":
        j -= 1
    return j < k and toks[j].low in SUBORDINATORS


def _aside_closed(toks: list[Tok], comma: int) -> bool:
    """The comma at `comma` closes an aside that a comma opened in the same sentence (", their caps scattered on
    the moss,")."""
    for m in range(comma - 1, max(-1, comma - 25), -1):
        if toks[m].text == ",":
            return True
        if toks[m].text in (".", "!", "?", ";", ":"):
            return False
    return False


PARTICLES = {"out", "up", "down", "off", "away"}
# count nouns whose of-complement is plural: "a pair of rubber boots", "a row of tea cups"
PLURAL_OF = {"pair", "pairs", "set", "sets", "row", "rows", "group", "groups", "bunch", "bunches", "couple", "cluster",
             "clusters", "handful", "pile", "piles", "stack", "stacks", "heap", "heaps", "collection", "series",
             "array", "assortment", "variety", "number", "dozen", "quartet", "trio", "duo", "myriad", "multitude"}
SUBORDINATORS = {"while", "whilst", "as", "where", "when", "whereas"}
COPULA_VERBS = {"lies", "lie", "lay", "stands", "stand", "stood", "sits", "sit", "sat", "hangs", "hang", "hung",
                "rests", "rest", "remains", "remain", "there"}


def plural_verbs(toks: list[Tok]) -> None:
    """ "a river flows below", "lifts a turkey", "refuses to open": words ending in -s that are verbs; and a word
    between a plural noun and a verb particle ("gold coins pour out")."""
    for i in range(1, len(toks)):
        tok, prev = toks[i], toks[i - 1]
        if tok.tag == "NOUN" and tok.low not in NOUNS and prev.tag == "NOUN" and prev.low.endswith("s") and \
                not prev.low.endswith("ss") and i + 1 < len(toks) and toks[i + 1].low in PARTICLES:
            tok.tag = "VERB"
            continue
        if tok.tag == "NOUN" and tok.low not in NOUNS and not tok.low.endswith("s") and prev.tag == "NOUN" and \
                prev.low.endswith("s") and not prev.low.endswith(("ss", "us", "is")) and not adjective_like(prev) and \
                clause_led(toks, i - 1) and \
                i + 1 < len(toks) and (toks[i + 1].tag in ("DET", "NUM", "PREP") or toks[i + 1].text in (
                    ".", "!", "?") or (
                    toks[i + 1].tag == "NOUN" and toks[i + 1].low.endswith("s"))):
            tok.tag = "VERB"  # ", birds outnumber trees", "Small birds flit between", ", golden lines erupt.": a bare
            # plural subject at a clause
            continue  # start, then its verb
        if tok.tag == "NOUN" and tok.low in NOUNS and tok.low.endswith("s") and prev.tag == "NOUN" and \
                i + 1 < len(toks) and toks[i + 1].tag == "ADV" and toks[i + 1].low.endswith("ly") and \
                singular_led(toks, i):
            tok.tag = "VERB"  # "a massive pendulum swings rhythmically": a noun form as the verb of a singular subject
            continue
        if tok.tag == "NOUN" and tok.low not in NOUNS and tok.low.endswith("s") and prev.low == "and" and i > 2 and \
                _verb_pair(toks, i - 2) and i + 1 < len(toks) and toks[i + 1].tag in ("PREP", "ADV"):
            tok.tag = toks[i - 2].tag = "VERB"  # "the wall meanders and coils atop", "the river bends and curls
            continue  # around": a second verb of the same subject
        if tok.tag == "NOUN" and tok.low not in NOUNS and not tok.low.endswith("s") and prev.text == "," and \
                i + 2 < len(toks) and toks[i + 1].tag == "ADV" and toks[i + 1].low.endswith("ly") and \
                toks[i + 2].tag == "PREP" and _aside_closed(toks, i - 1):
            tok.tag = "VERB"  # "mushrooms, their caps scattered across the moss, thrive quietly on": the plural verb
            continue  # after an aside, before an adverb and a phrase
        if tok.tag not in ("NOUN", "VERB") or not tok.low.endswith("s") or tok.low.endswith(("ss", "us", "is", "'s",
                                                                                          "ous")) or tok.low in NOUNS:
            continue
        if prev.text in ('"', "\u201d") and i > 1 and toks[i - 2].word and i + 1 < len(toks) and \
                toks[i + 1].tag in ("ADV", "PREP"):
            tok.tag = "VERB"  # '"nothing" curves dynamically to the right': the verb of quoted words
            continue
        if prev.low.endswith(("'s", "\u2019s")):
            tok.tag = "NOUN"  # "a pair of tailor's scissors": the possessed head
            continue
        if tok.tag != "NOUN":
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        after = toks[i + 2] if i + 2 < len(toks) else None
        if prev.tag in ("NOUN", "PUNCT", "PRON", "ADV") and nxt is not None and (nxt.tag in ("DET", "NUM", "PRON") or (
                nxt.low == "to" and after is not None and after.tag not in ("DET", "NUM", "PRON")) or (
                prev.text == "," and nxt.tag == "ADJ" and after is not None and after.tag == "NOUN")):
            # "lifts a turkey", "refuses to open", "the child, eyes wide, blows shimmering bubbles"
            tok.tag = "VERB"
            continue
        if nxt is not None and nxt.tag == "ADV" and nxt.low.endswith("ly") and after is not None and (
                after.tag == "PREP" or after.text in (",", ".")) and (prev.tag in ("NOUN", "PREP", "ADV") or prev.text == ","):
            tok.tag = "VERB"  # "the sky above transitions smoothly from", "a scroll, unfurled, reclines gracefully upon"
            continue
        if prev.tag == "REL" and prev.low in ("that", "which", "who") and nxt is not None and nxt.tag in (
                "PREP", "ADV", "DET"):
            tok.tag = "VERB"  # "copper piping that snakes along its surface"
            continue
        if prev.tag != "NOUN":
            continue
        if _after_subordinator(toks, i - 1) and not prev.low.endswith("s") and nxt is not None and (
                nxt.tag == "PREP" or (nxt.tag == "ADV" and nxt.low.endswith("ly"))):
            tok.tag = "VERB"  # "while mist swells subtly around", "as coal smoke trails behind": a bare mass noun
            # starts the clause, then its verb
            continue
        if nxt is not None and nxt.tag in CONTENT and not tok.low.endswith("as") and singular_led(toks, i):
            tok.tag = "VERB"  # "an old man feeds pigeons"
            continue
        if nxt is not None and nxt.tag not in ("PREP", "ADV", "PUNCT", "DET", "NEG"):
            continue
        j = i - 1
        if any(t.tag == "VERB" for t in toks[i + 1:i + 3]):
            continue  # "a herd of African elephants slowly marches"
        while j >= 0 and (toks[j].tag in CONTENT or toks[j].low in ("of", ",") or (
                toks[j].tag == "DET" and j > 0 and toks[j - 1].low == "of") or (
                toks[j].tag == "ADV" and toks[j + 1].tag == "ADJ")):
            j -= 1  # "a large patch of moss spreads out", "a much smaller, bright red gear meshes"
        of = [k for k in range(j + 1, i) if toks[k].low == "of"]
        if of and toks[of[-1] - 1].low in PLURAL_OF and not any(
                t.low.endswith("s") and t.tag == "NOUN" for t in toks[of[-1] + 1:i]):
            continue  # "a pair of yellow rubber boots, with ...": the plural head of a count noun's complement
        if j >= 0 and toks[j].low in ("a", "an", "this", "that", "one", "each", "every", "another") \
                and i - j >= 2 and not (j > 0 and (toks[j - 1].tag == "AUX" or toks[j - 1].low in COPULA_VERBS)):
            tok.tag = "VERB"  # not "on the right is a string of pearl necklaces,": a noun phrase after its verb
