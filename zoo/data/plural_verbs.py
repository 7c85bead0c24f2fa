"""Words ending in -s (and a few others) that are verbs, not plural nouns, read from their clause: "a river flows
below", ", birds outnumber trees", "while mist swells around"; and the bare verb of a plural subject ("Birds fly
above", "The children play beside") (part of the rule tagger, `zoo.data.tagging`)."""

from __future__ import annotations

from zoo.data.relation_lexicon import MATERIAL_NOUNS, NOUNS, VERBS
from zoo.data.tokens import CONTENT, Tok, adjective_like

SINGULAR_DETERMINERS = {"a", "an", "this", "that", "each", "every", "another", "one"}
# determiners that lead only plurals ("these birds", never "these bird")
PLURAL_DETERMINERS = {"these", "those", "many", "several", "few", "both", "various", "numerous", "multiple",
                      "countless"}


def clause_led(toks: list[Tok], k: int) -> bool:
    """Token k ends a run of modifiers and nouns that starts a clause ("Small birds", ", birds")."""
    while k >= 0 and (toks[k].tag in CONTENT or (toks[k].text == "," and k > 0 and toks[k - 1].tag == "ADJ") or (
            toks[k].low in ("and", "or") and k > 0 and adjective_like(toks[k - 1]))):
        k -= 1  # "a brand-new, gleaming red toy sports car on": a comma inside a list of adjectives; "symmetrical and
        # iconic golden lines erupt"
    return k < 0 or toks[k].text in (",", ".", ";", ":")


# plurals without -s: a head noun that takes a plural verb ("children play", "people walk")
IRREGULAR_PLURALS = {"children", "people", "men", "women", "geese", "mice", "teeth", "feet", "oxen"}
# nouns whose plural is the singular ("two fish", "several deer"): a plural head only after a number or a plural-only
# determiner
INVARIANT_PLURALS = {"fish", "jellyfish", "starfish", "sheep", "deer", "aircraft", "spacecraft", "bison", "moose",
                     "salmon", "trout", "shrimp", "squid", "cattle", "swine", "offspring", "reindeer", "elk"}


def plural_head(tok: Tok) -> bool:
    """A noun that reads as a plural head: an -s form that is not an adjective ("birds", not "glass", "bus",
    "famous") or an irregular plural ("children")."""
    if tok.tag != "NOUN":
        return False
    return tok.low in IRREGULAR_PLURALS or (tok.low.endswith("s") and not tok.low.endswith((
        "ss", "us", "is", "'s", "\u2019s")) and not adjective_like(tok))


def plural_subject_led(toks: list[Tok], k: int) -> str | None:
    """If token k, a plural head, ends a noun phrase that starts a clause (after a sentence start, a comma, ", and",
    ", but" or "while"), bare or after a determiner or number that can lead a plural ("Birds", "The birds", "Two
    small birds", ", and three children"; not after "a", "this", "each": "a sports car"), how it is led: "plural" (a
    number or a plural-only determiner: "two", "these"), "neutral" ("the", "our", none) or, where a noun comes before
    the head, "compound" unless led by "plural" ("the yellow sun splashes": the -s word may be the verb); else None."""
    j = k
    while j >= 0 and (toks[j].tag in CONTENT or (toks[j].text == "," and j > 0 and toks[j - 1].tag == "ADJ")):
        j -= 1
    lead = "neutral"
    if j >= 0 and toks[j].tag in ("DET", "NUM") and toks[j].low not in SINGULAR_DETERMINERS:
        lead = "plural" if toks[j].tag == "NUM" or toks[j].low in PLURAL_DETERMINERS else lead
        j -= 1
        if j >= 0 and toks[j].tag == "DET" and toks[j].low not in SINGULAR_DETERMINERS:
            j -= 1  # "the two birds", "all the children"
    if not (j < 0 or toks[j].text in (",", ".", "!", "?", ";", ":") or toks[j].low in SUBORDINATORS or (
            toks[j].low in ("and", "but") and j > 0 and toks[j - 1].text == ",")):
        return None
    return "compound" if lead == "neutral" and k > 0 and toks[k - 1].tag == "NOUN" else lead


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


def _phrase_follows(toks: list[Tok], k: int) -> bool:
    """Token k is a preposition other than "of", or an -ly adverb before one ("above", "gracefully over")."""
    if k < len(toks) and toks[k].tag == "ADV" and toks[k].low.endswith("ly"):
        k += 1
    return k < len(toks) and toks[k].tag == "PREP" and toks[k].low != "of"


def _bare_pair(toks: list[Tok], k: int) -> bool:
    """Token k is "and" or "or" before a bare unlisted word and a phrase ("peck and cluck at")."""
    return k + 2 < len(toks) and toks[k].low in ("and", "or") and toks[k + 1].tag == "NOUN" and \
        toks[k + 1].low not in NOUNS and not toks[k + 1].low.endswith("s") and _phrase_follows(toks, k + 2)


def _clause_led_by(toks: list[Tok], k: int, words: tuple[str, ...]) -> bool:
    """Token k ends a run of modifiers and nouns that one of `words` leads at a clause start (", an uncarved energy
    crystal"), not an object ("examining the muddy footprints")."""
    while k >= 0 and toks[k].tag in CONTENT:
        k -= 1
    return k >= 0 and toks[k].low in words and (k == 0 or toks[k - 1].text in (".", "!", "?", ";", ",", ":") or
                                                 toks[k - 1].low in SUBORDINATORS)


def _back_and_forth(toks: list[Tok], k: int) -> bool:
    return k + 2 < len(toks) and toks[k].low == "back" and toks[k + 1].low == "and" and toks[k + 2].low == "forth"


SINGULAR_AUXILIARIES = {"is", "was", "has", "does"}
PICTURE_SUBJECTS = {"scene", "image", "picture", "composition", "atmosphere", "air", "view"}


def _verb_follows(toks: list[Tok], k: int, singular: bool = False) -> bool:
    """A finite verb comes from token k to the end of the clause (punctuation, a conjunction, a relative or a
    subordinator ends it): any auxiliary or tagged verb not in -ing, or (singular) "is" or an -s verb."""
    for tok in toks[k:]:
        if tok.text in (",", ".", "!", "?", ";", ":") or tok.tag in ("CONJ", "REL") or tok.low in SUBORDINATORS:
            return False
        if singular and (tok.low in SINGULAR_AUXILIARIES or (tok.tag == "VERB" and tok.low.endswith("s") and
                                                             not tok.low.endswith("ss"))):
            return True
        if not singular and (tok.tag == "AUX" or (tok.tag == "VERB" and not tok.low.endswith("ing"))):
            return True
    return False


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
# -s nouns that modify the next noun of a compound ("sports car", "arts centre", "goods train"): the word after them is
# the head of the subject, not its verb, unless it is a listed verb
COMPOUND_PLURALS = {"sports", "arts", "goods", "sales", "news", "savings", "games", "crafts", "customs",
                    "electronics", "athletics", "systems"}  # not "glasses", "clothes": mostly plural heads themselves
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
                prev.low not in COMPOUND_PLURALS and clause_led(toks, i - 1) and \
                i + 1 < len(toks) and (toks[i + 1].tag in ("DET", "NUM", "PREP") or toks[i + 1].text in (
                    ".", "!", "?") or (
                    toks[i + 1].tag == "NOUN" and toks[i + 1].low.endswith("s"))):
            tok.tag = "VERB"  # ", birds outnumber trees", "Small birds flit between", ", golden lines erupt.": a bare
            # plural subject at a clause
            continue  # start, then its verb
        if tok.tag == "NOUN" and (tok.low not in NOUNS or tok.low in VERBS) and not tok.low.endswith("s") and \
                tok.low not in PARTICLES and not tok.text[:1].isupper() and (plural_head(prev) or (
                    prev.low in INVARIANT_PLURALS and prev.tag == "NOUN")) and \
                (prev.low not in COMPOUND_PLURALS or tok.low in VERBS) and \
                plural_subject_led(toks, i - 1) in (("plural",) if prev.low in INVARIANT_PLURALS else (
                    "plural", "neutral", "compound" if tok.low in VERBS else "")) and \
                (_phrase_follows(toks, i + 1) or _bare_pair(toks, i + 1)) and \
                not _verb_follows(toks, i + 1, singular=True):
            if _bare_pair(toks, i + 1):
                toks[i + 2].tag = "VERB"  # "four chickens peck and cluck at the base": two verbs of the subject
            tok.tag = "VERB"  # "Birds fly above the lake", "The children play beside", "Two birds fly gracefully
            # over": a bare word after a plural subject at a clause start, before a phrase, agrees with it as its
            # verb (a noun compound's first noun is singular: "bird cage"); not a particle ("lights up"), a name
            # ("the Arts Museum") or a listed noun, and after "the" with a noun before the -s word only a listed verb
            # ("the yellow sun splashes warmth across": "splashes" is the verb); a singular verb later in the clause
            # is the verb of a compound head ("The sports car beside the road is red")
            continue
        if tok.tag == "NOUN" and tok.low in NOUNS and tok.low.endswith("s") and prev.tag == "NOUN" and \
                i + 1 < len(toks) and ((toks[i + 1].tag == "ADV" and toks[i + 1].low.endswith("ly")) or
                                       _back_and_forth(toks, i + 1)) and singular_led(toks, i):
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
        if tok.tag == "NOUN" and tok.low in NOUNS and tok.low.endswith("s") and prev.tag == "NOUN" and \
                not prev.low.endswith("s") and i + 2 < len(toks) and toks[i + 1].low in ("the", "a", "an") and \
                toks[i + 2].word and singular_led(toks, i):
            tok.tag = "VERB"  # "a large window frames the scene": a listed noun form as a singular subject's verb
            continue
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
        if prev.low in PICTURE_SUBJECTS and i > 1 and toks[i - 2].low in ("the", "this") and nxt is not None and (
                nxt.tag in ("PREP", "ADV") or nxt.low == "with"):
            tok.tag = "VERB"  # "The scene pulses with energy": the picture's own words lead no compound
            continue
        if tok.tag == "NOUN" and tok.low not in NOUNS and tok.low.endswith("s") and not tok.low.endswith(
                ("ss", "us", "is", "'s", "ous")) and (prev.tag == "NOUN" or prev.low in MATERIAL_NOUNS) \
                and not prev.low.endswith("s") and _clause_led_by(toks, i - 1, ("the", "a", "an", "this", "that")) \
                and nxt is not None and (
                    nxt.tag == "PREP" and nxt.low != "of" or (nxt.tag == "ADV" and nxt.low.endswith("ly"))) and \
                not _verb_follows(toks, i + 1):
            tok.tag = "VERB"  # "The mist swirls around", "an energy crystal levitates above": with no other verb in
            # the clause, the -s word after a determiner and a singular noun is its verb ("the flower pots on the
            # shelf are red" has one)
            continue
        if _back_and_forth(toks, i + 1):
            tok.tag = "VERB"  # "his gaze shifts back and forth between"
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
