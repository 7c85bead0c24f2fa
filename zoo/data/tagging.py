"""Tokens with coarse part-of-speech tags for the relation finder: a rule tagger (word lists, suffixes, context),
or spaCy's tagger when `spacy` and an English model are installed (`pip install 'zoo[nlp]'`, see
`zoo.data.relations_nlp`).

Tags: DET, NUM, PRON, REL (which/who/that), PREP, CONJ, AUX, NEG, VERB, ADV, ADJ, NOUN, PUNCT. Tokens are in
`zoo.data.tokens`; -s words that are verbs are read in `zoo.data.plural_verbs`.
"""

from __future__ import annotations

from zoo.data.relation_lexicon import (
    ADJECTIVES,
    ADVERBS,
    ATTENTION_VERBS,
    AUXILIARIES,
    CONJUNCTIONS,
    COLOURS,
    CONTACT_VERBS,
    COPULAS,
    DETERMINERS,
    IRREGULAR_PARTICIPLES,
    IRREGULAR_PAST,
    MATERIAL_NOUNS,
    MORE_DETERMINERS,
    NEGATIONS,
    NOUNS,
    NUMBERS,
    POSTPOSITIVE,
    PREPOSITIONS,
    PRONOUNS,
    RELATIVES,
    SUBJECT_PRONOUNS,
    VERBS,
)
from zoo.data.plural_verbs import PARTICLES, plural_verbs, singular_led
from zoo.data.tokens import CONTENT, Tagger, Tok, adjective_like, tokenize

__all__ = ["CONTENT", "KNOWN_VERBS", "Tagger", "Tok", "adjective_like", "comparative", "fronted_object", "rule_tag",
           "tag", "tokenize"]

KNOWN_VERBS = (VERBS | IRREGULAR_PAST | {w for w in ATTENTION_VERBS | CONTACT_VERBS if not w.endswith(("ed", "ing"))}) - NOUNS - {
    "directly", "right", "up", "flat", "squarely", "firmly", "set", "center"}
BOUNDARY_TAGS = {"PREP", "CONJ", "REL", "AUX", "VERB", "PUNCT", "NEG", "PRON"}


MODALS = {"can", "will", "may", "must", "might", "could", "would", "should", "shall"}
# words that follow "can" the noun, never "can" the modal ("a watering can is", "a paint can sits")
CAN_NOUN_NEXT = {"is", "was", "are", "were", "has", "had", "sits", "sat", "stands", "stood", "rests", "lies", "lay",
                 "hangs", "hung", "and", "or"}


def _participle(low: str) -> bool:
    if low in NOUNS or low in ADJECTIVES:
        return False
    return low in IRREGULAR_PARTICIPLES or (len(low) > 4 and low.endswith("ing")) or (len(low) > 3 and low.endswith("ed"))


def comparative(low: str) -> bool:
    """ "smaller", "older", "bigger", "happiest": the -er/-est form of a known adjective."""
    for suffix in ("er", "est"):
        stem = low[:-len(suffix)]
        if low.endswith(suffix) and len(stem) > 2 and low not in NOUNS and (
                {stem, stem + "e"} & ADJECTIVES or (stem[-1] == stem[-2] and stem[:-1] in ADJECTIVES)
                or (stem.endswith("i") and stem[:-1] + "y" in ADJECTIVES)):
            return True
    return False


def _base_tag(toks: list[Tok], i: int) -> str:
    low = toks[i].low
    if not toks[i].word:
        return "PUNCT"
    if low.isdigit() or low in NUMBERS - {"one"}:
        return "NUM"
    if low in DETERMINERS or low in MORE_DETERMINERS:
        return "DET"
    if low in RELATIVES:
        return "REL"
    if low in NEGATIONS:
        return "NEG"
    if low in PRONOUNS or low in SUBJECT_PRONOUNS:
        return "PRON"
    if low in AUXILIARIES:
        return "AUX"
    if low in PREPOSITIONS:
        return "PREP"
    if low in CONJUNCTIONS:
        return "CONJ"
    if low in NOUNS:
        return "NOUN"
    if low in KNOWN_VERBS:
        return "VERB"
    if low in ADJECTIVES or low in POSTPOSITIVE:
        return "ADJ"  # "asleep", "afloat": adjectives that never lead a noun phrase
    if low in ADVERBS or (len(low) > 4 and low.endswith("ly")):
        return "ADV"
    if _participle(low):
        return "PART"
    if comparative(low):
        return "ADJ"
    if "-" in low and (low.rsplit("-", 1)[1] in ADJECTIVES or low.endswith("-like")):
        return "ADJ"  # "off-white", "mirror-smooth", "mirror-like": a compound adjective
    return "NOUN"


def rule_tag(text: str, toks: list[Tok]) -> None:
    """Tag tokens in place from word lists, suffixes and their neighbours."""
    for i, tok in enumerate(toks):
        tok.tag = _base_tag(toks, i)
    for i, tok in enumerate(toks):
        prev = toks[i - 1] if i else None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        after_det = prev is not None and prev.tag in ("DET", "NUM")
        if tok.low == "her":
            tok.tag = "DET" if nxt is not None and nxt.word and (nxt.tag in ("NOUN", "ADJ", "PART", "NUM") or (
                nxt.low == "back" and (i + 2 == len(toks) or toks[i + 2].tag in ("PREP", "PUNCT")))) else "PRON"
            # "lies on her back in", not "gives her back the key"
        elif tok.low == "that" and prev is not None and prev.tag == "PREP" and nxt is not None and nxt.tag in CONTENT:
            tok.tag = "DET"
        elif tok.low == "that" and prev is not None and prev.tag == "NOUN":
            tok.tag = "REL"  # "a mouse that hangs off the side"
        elif tok.low == "one" and (after_det or prev is not None and prev.tag == "ADJ" or (
                i > 1 and prev.tag == "NOUN" and toks[i - 2].tag == "DET" and not (nxt and nxt.tag in CONTENT))):
            tok.tag = "NOUN"  # "the one on the left"
        elif tok.low in ("one", "another") and tok.tag == "DET" and (prev is None or not prev.word) and \
                nxt is not None and nxt.tag in ("AUX", "VERB"):
            tok.tag = "NOUN"  # ". One is in the foreground": a determiner that stands for a noun phrase
        elif tok.low in ("more", "less", "most", "much", "far") and nxt is not None and (
                nxt.tag in ("ADV", "ADJ", "PART") or adjective_like(nxt)) and (tok.low not in ("much", "far") or (
                comparative(nxt.low) or nxt.low in ("more", "less"))):
            tok.tag = "ADV"  # "a smaller, more modestly sized lamp", "a carton much smaller than it"
        elif tok.low in ("both", "all", "each") and prev is not None and prev.tag == "PRON":
            tok.tag = "ADV"  # "They both stand"
        elif tok.tag == "ADJ" and tok.low.endswith(("ing", "ed")) and prev is not None and prev.tag == "NOUN" and \
                nxt is not None and (nxt.tag in ("PREP", "ADV") if tok.low.endswith("ing") else nxt.low in (
                    "with", "by")):
            tok.tag = "VERB"  # "silk fabric shimmering with a soft glow", "grasses dotted with flowers": a participle
            # after its noun
        elif tok.low in ING_NOUNS and prev is not None and prev.text == "," and nxt is not None and \
                nxt.tag == "PREP" and nxt.low != "of" and i > 1 and toks[i - 2].tag in ("NOUN", "ADV", "PRON"):
            tok.tag = "VERB"  # "Snowflakes drift through the air, landing on the turrets": a participle clause
        elif tok.low in ("set", "put", "laid") and prev is not None and prev.tag == "AUX" and nxt is not None and \
                nxt.tag in ("PREP", "ADV"):
            tok.tag = "VERB"  # "flags are set in a row above the gate": a participle after "are", not "a set of"
        elif tok.low in PARTICLES and tok.tag == "NOUN" and prev is not None and prev.low.endswith("ed") and \
                prev.tag in ("VERB", "ADJ", "PART"):
            tok.tag = "ADV"  # "curled up in a ball", "worn out": the particle of a participle, not a noun
        elif tok.tag == "ADJ" and tok.low in MATERIAL_NOUNS and nxt is not None and (
                nxt.tag == "PREP" or nxt.low in ("that", "which")) and prev is not None and \
                prev.tag not in ("AUX", "VERB"):
            tok.tag = "NOUN"  # "bending light around", "a beam of light from a window": the noun ends its phrase
        elif tok.tag == "NOUN" and tok.low not in NOUNS and prev is not None and prev.low in ("yet", "but") and \
                i > 1 and toks[i - 2].tag == "ADJ" and nxt is not None and nxt.tag in ("NOUN", "ADJ"):
            tok.tag = "ADJ"  # "a small yet distinct sign": "yet" and "but" join adjectives inside a noun phrase
        elif tok.low in NATIONALITIES and nxt is not None and nxt.tag in ("NOUN", "ADJ") and nxt.word:
            tok.tag = "ADJ"  # "golden English characters", "a Chinese vase": a nationality or language before its noun
        elif tok.tag == "VERB" and not tok.low.endswith(("s", "ed", "ing")) and tok.low not in IRREGULAR_PAST and \
                prev is not None and (prev.tag == "ADJ" or (prev.tag == "NOUN" and prev.low.endswith(
                    ("ic", "al", "ous", "ful")))) and _determiner_led(toks, i - 1) and nxt is not None and (
                nxt.tag in ("PREP", "PUNCT") or not nxt.word):
            tok.tag = "NOUN"  # "a modern digital electronic watch on his wrist": the head of the noun phrase
        elif tok.low in ("these", "those") and nxt is not None and (not nxt.word or nxt.tag in ("AUX", "VERB", "PREP")):
            tok.tag = "PRON"  # "Below these, the phrases are stacked": a determiner standing for its noun phrase
        elif tok.low in ("back", "forth") and ((nxt is not None and nxt.low == "and" and i + 2 < len(toks) and
                                                toks[i + 2].low == "forth") or (prev is not None and prev.low == "and"
                                                                                and tok.low == "forth")):
            tok.tag = "ADV"  # "shifts back and forth between"
        elif tok.low == "still" and nxt is not None and nxt.low in ("life", "lifes"):
            tok.tag = "ADJ"  # "a surrealist still life scene"
        elif tok.tag == "VERB" and prev is not None and prev.low == "at" and not tok.low.endswith("ing"):
            tok.tag = "NOUN"  # "at rest", "at play": "at" takes a noun
        elif tok.tag == "VERB" and _bare_plural_head(toks, i):
            tok.tag = "NOUN"  # ", intricate brass gear sets and a network of pipes are": a plural head in a list
        elif tok.low == "can" and prev is not None and nxt is not None and (
                nxt.low in CAN_NOUN_NEXT or nxt.tag == "PREP" or not nxt.word) and (
                prev.tag in CONTENT or (prev.tag in ("VERB", "PART") and prev.low.endswith("ing"))):
            tok.tag = "NOUN"  # "a watering can is tilted", "a trash can by the door": a modal takes a bare verb
            if prev.tag in ("VERB", "PART"):
                prev.tag = "ADJ"
        elif (tok.tag == "VERB" and _noun_use(toks, i)) or (
                tok.low in MODALS and prev is not None and prev.tag in ("DET", "ADJ")):
            tok.tag = "NOUN"  # "the waves", "the cylindrical can"
        elif tok.tag == "ADV" and tok.low in ("high", "low") and prev is not None and nxt is not None and (
                (prev.tag in ("ADJ", "NOUN") and nxt.tag == "NOUN" and (
                    _determiner_led(toks, i - 1) or _of_led(toks, i - 1))) or (
                prev.low == "of" and nxt.tag in ("NOUN", "VERB") and nxt.low.endswith("s"))):
            tok.tag, nxt.tag = "ADJ", "NOUN"  # "a pair of pointed-toe high heels", "a row of high towers": a modifier
            # inside the noun phrase
        elif tok.tag == "ADV" and not tok.low.endswith("ly") and (after_det or _possessed_head(toks, i)):
            # "a low, old-style building"; "his back,", "its broad back sits"
            possessed = _possessed_head(toks, i)
            tok.tag = "NOUN" if possessed and not (nxt is not None and nxt.tag in CONTENT) else "ADJ"  # "his back,"
        elif tok.tag == "ADV" and tok.low.endswith("ly") and after_det and nxt is not None and nxt.tag == "NOUN" and \
                not nxt.low.endswith("ed"):
            tok.tag = "ADJ"  # "the unlikely platform", "a ghostly figure": an -ly adjective between determiner and noun
        elif tok.tag == "ADV" and prev is not None and prev.tag in CONTENT and prev.low.endswith("'s") and \
                not tok.low.endswith("ly"):
            tok.tag = "NOUN"  # "on the whale's back": the possessed head
        elif tok.tag == "PART":
            tok.tag = _resolve_participle(tok, prev, nxt, toks[i + 2] if i + 2 < len(toks) else None,
                                          toks[i - 2] if i > 1 else None, toks[i - 3] if i > 2 else None)
    for i in range(len(toks) - 2):
        if toks[i].tag == "VERB" and toks[i].low.endswith("ed") and toks[i].text[:1].isupper() and (
                i == 0 or toks[i - 1].text in (".", "!", "?")) and toks[i + 1].low.endswith("s") and \
                toks[i + 1].tag in ("NOUN", "VERB") and toks[i + 2].tag in ("NOUN", "VERB") and \
                not toks[i + 2].low.endswith("s"):
            toks[i].tag, toks[i + 1].tag = "ADJ", "NOUN"  # "Textured waves curl gently around": an adjective leads
            # the sentence's plural subject, its bare verb follows
    for i in range(2, len(toks)):
        if toks[i].tag == "VERB" and toks[i].low.endswith("s") and not toks[i].low.endswith("ss") and \
                (toks[i - 1].tag == "ADJ" or toks[i - 1].low in COLOURS) and _adjectives_led(toks, i - 1):
            toks[i].tag = "NOUN"  # "the candles create soft glows around", "cyan and magenta glows": the -s word ends
            # the object's noun phrase, it is not a verb
        elif toks[i].tag == "VERB" and toks[i].low.endswith("s") and i + 1 < len(toks) and \
                toks[i + 1].low in POSTPOSITIVE and toks[i - 1].tag in ("ADJ", "DET"):
            toks[i].tag = "NOUN"  # "with their unique faces visible under": a noun before its adjective
    for i in range(1, len(toks) - 2):
        if toks[i].tag == "VERB" and toks[i].low.endswith("ed") and toks[i - 1].tag in ("PREP", "DET", "VERB") and \
                toks[i + 1].text == "," and toks[i + 2].tag in CONTENT:
            toks[i].tag = "ADJ"  # "with textured, flame-like leaves", "lies cracked, barren land": a participle in a
            # list of adjectives
        if toks[i].tag == "VERB" and toks[i].low.endswith("ing") and toks[i].text[:1].isupper() and \
                toks[i - 1].text in (".", "!", "?") and toks[i + 1].tag == "NOUN" and toks[i + 2].tag in CONTENT:
            toks[i].tag = "ADJ"  # "Towering pine trees rise": a sentence led by a noun phrase, not by a participle
        if toks[i].tag in ("NOUN", "VERB") and toks[i - 1].tag == "ADV" and toks[i - 1].low.endswith("ly") and \
                i > 1 and toks[i - 2].tag in ("DET", "NUM") and toks[i + 1].tag in CONTENT:
            toks[i].tag = "ADJ"  # "a neatly cut triangular piece": a participle after an adverb, before a noun
        if i + 3 < len(toks) and toks[i - 1].tag == "ADV" and toks[i - 1].low.endswith("ly") and toks[i + 1].low in (
                "and", "or") and all(t.tag == "NOUN" and t.low not in NOUNS for t in (toks[i], toks[i + 2])) and \
                toks[i + 3].tag in ("PREP", "PUNCT") and toks[i - 2].tag not in ("DET", "NUM"):
            toks[i].tag = toks[i + 2].tag = "VERB"  # "fish slowly circle and gather near": verbs after an adverb
        if toks[i].low in FORM_PARTICIPLES and toks[i - 1].tag == "ADV" and toks[i - 1].low.endswith("ly"):
            toks[i].tag = "ADJ"  # "modestly sized", "brightly colored"
        if toks[i].low in FORM_PARTICIPLES and toks[i - 1].tag in CONTENT and toks[i + 1].tag in CONTENT:
            toks[i].tag = "ADJ"  # "a heart shaped cookie": an open compound adjective ("heart-shaped")
    plural_verbs(toks)


# quantifiers that stand for a noun phrase before a participle ("a few floating near", "others resting on")
QUANTIFIERS_ALONE = {"few", "some", "many", "several", "most", "others", "both", "all"}
# participles of casting light: ", casting long shadows" starts a clause, never a list of adjectives ("the glass,")
CASTING = {"casting", "throwing", "projecting", "shedding", "spilling"}
# participles that make a compound adjective with the noun before them ("heart shaped", "rose colored", "bite sized")
FORM_PARTICIPLES = {"shaped", "colored", "coloured", "sized", "themed", "styled", "toned", "tinted", "hued"}


def _adjectives_led(toks: list[Tok], k: int) -> bool:
    """Token k ends a run of adjectives (joined by "and" or commas) that are not also nouns, led by a verb that is not
    a copula ("create soft", "casting cyan and magenta"); not "The light reflects", "a giant looks"."""
    while k >= 0 and ((toks[k].tag == "ADJ" and toks[k].low not in NOUNS | NOUN_ADJECTIVES) or (
            toks[k].low in COLOURS and toks[k].tag in ("ADJ", "NOUN")) or (
            toks[k].low in ("and", ",") and k > 0 and (toks[k - 1].tag == "ADJ" or toks[k - 1].low in COLOURS))):
        k -= 1
    if k > 1 and toks[k].low == "and" and toks[k - 1].tag == "NOUN":
        k -= 1  # "creates delicate highlights and faint glows": a second object of the same verb
        while k >= 0 and toks[k].tag in CONTENT:
            k -= 1
    return k >= 0 and toks[k].tag == "VERB" and toks[k].low not in COPULAS


# nationalities and languages, capitalised adjectives before their noun ("English characters", "a Chinese vase")
NATIONALITIES = {"english", "chinese", "japanese", "korean", "french", "german", "italian", "spanish", "portuguese",
                 "russian", "greek", "arabic", "egyptian", "indian", "african", "american", "european", "asian",
                 "mexican", "british", "irish", "scottish", "dutch", "swedish", "norwegian", "danish", "turkish",
                 "persian", "thai", "vietnamese", "roman", "latin", "nordic", "victorian", "gothic", "baroque",
                 "mediterranean", "moroccan", "tibetan", "mongolian", "hawaiian", "brazilian", "peruvian", "polish"}
# adjectives that are as often nouns ("the light reflects", "a giant looks", "the gold shines")
NOUN_ADJECTIVES = MATERIAL_NOUNS | {"dark", "white", "black", "red", "blue", "green"}


def _run_lead(toks: list[Tok], k: int, joins: tuple[str, ...] = ()) -> Tok | None:
    """The token before the run of adjectives and nouns (and `joins` words) that ends at token k, or None."""
    while k >= 0 and (toks[k].tag in ("ADJ", "NOUN") or toks[k].low in joins):
        k -= 1
    return toks[k] if k >= 0 else None


def _determiner_led(toks: list[Tok], k: int) -> bool:
    """Token k ends a run of modifiers (adjectives, nouns, "and", commas) that a determiner or number leads ("a modern
    digital electronic", "the old, rusty")."""
    lead = _run_lead(toks, k, ("and", ","))
    return lead is not None and lead.tag in ("DET", "NUM")


def _of_led(toks: list[Tok], k: int) -> bool:
    """Token k ends a run of modifiers right after "of" ("a pair of pointed-toe")."""
    lead = _run_lead(toks, k)
    return lead is not None and lead.low == "of"


def _possessed_head(toks: list[Tok], i: int) -> bool:
    """Token i ends a phrase led by a possessive over modifiers ("its broad back", "his back")."""
    k = i - 1
    while k >= 0 and k > i - 4 and toks[k].tag in CONTENT:
        k -= 1
    return k >= 0 and toks[k].low in ("his", "her", "its", "their", "my", "your", "our")


def _noun_use(toks: list[Tok], i: int) -> bool:
    """ "the waves", "the golden glow", "a pocket watch seems", "above the bridge towers.": a verb form as a noun."""
    tok = toks[i]
    prev = toks[i - 1] if i else None
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    if prev is None:
        return False
    if (prev.low in ("both", "all") or (prev.tag == "NUM" and prev.low not in ("one", "1"))) and \
            not tok.low.endswith("s") and (nxt is None or nxt.tag in ("ADV", "PREP", "PUNCT") or nxt.low == "side") and \
            (i < 2 or toks[i - 2].tag not in CONTENT):
        return False  # "The two stand side by side on", "while both sit beneath": a plural pronoun and its verb (a
        # number takes a plural noun: "two stands")
    if prev.tag in ("DET", "NUM"):
        return True
    if nxt is not None and nxt.low == "of" and prev.tag in ("ADJ", "NOUN") and not tok.low.endswith(
            ("ed", "ing")) and tok.low not in OF_VERBS and i > 1 and toks[i - 2].tag in ("DET", "ADJ", "PUNCT", "NUM"):
        return True  # "the quaint, modest frame of the home": a verb form before "of" after its modifiers is a noun
    if tok.low in SPEECH_VERBS and nxt is not None and nxt.text in QUOTE_MARKS:
        return False  # 'a piece of paper says "..."': the verb of the quoted words
    if prev.tag in CONTENT and fronted_object(toks, i - 1):
        # "On a display stand for ...": the object's head; "Behind the fence lies cracked land": the inverted verb
        return nxt is None or nxt.tag in ("PREP", "PUNCT", "CONJ") or (
            nxt.tag in ("VERB", "NOUN") and not nxt.low.endswith(("ed", "ing")))
    if prev.tag in CONTENT and adjective_like(prev) and _comma_listed(toks, i - 1):
        return True  # "its warm, ambient glow": the head after a list of adjectives
    if (prev.tag == "ADJ" or (adjective_like(prev) and prev.low.endswith(("ous", "ful", "ic", "al")))) and i > 1 and \
            toks[i - 2].low in ("a", "an") and not tok.low.endswith(("s", "ed")) and tok.low not in IRREGULAR_PAST | {"stood", "sat", "lay", "hung"}:
        return True  # "a harmonious dance between"; not "a detective stood"
    if prev.tag == "ADJ" and prev.low in ADJECTIVES and (not tok.low.endswith("s") or nxt is not None and (nxt.tag in (
            "VERB", "AUX", "PART") or (nxt.tag == "PUNCT" and i > 1 and toks[i - 2].tag in ("DET", "NUM", "PREP")))):
        return True  # "the golden glow", "golden waves crash", "between wooden beams,"; not "soft light falls on"
    if prev.tag == "NOUN" and nxt is not None and nxt.tag in ("VERB", "AUX", "PART"):
        return not (tok.low.endswith("s") and not tok.low.endswith("ss") and singular_led(toks, i))
    if prev.tag != "NOUN" or nxt is None or nxt.tag != "PUNCT":
        return False
    in_object = i >= 3 and toks[i - 2].tag == "DET" and toks[i - 3].tag == "PREP"
    return in_object or (not tok.low.endswith("s") and not prev.low.endswith("s"))


# verbs that take "of" ("smells of smoke", "consists of"): not nouns before it
OF_VERBS = {"consist", "consists", "smell", "smells", "reek", "reeks", "think", "thinks", "dream", "dreams", "speak",
            "speaks", "remind", "reminds", "tire", "tires", "approve", "approves", "partake", "partakes", "taste",
            "tastes"}
# -ing nouns that are also participles of verbs ("a landing", ", landing on the roof")
ING_NOUNS = {"landing", "crossing", "gathering", "carving", "drawing", "clearing", "opening", "setting", "serving",
             "filling", "lining", "swing"}
SPEECH_VERBS = {"says", "say", "said", "reads", "read", "states", "declares", "proclaims", "announces", "spells"}
QUOTE_MARKS = {'"', "'", "\u201c", "\u2018"}
FRONTED_WORDS = {"front", "back", "left", "right", "top", "bottom", "side", "middle", "center", "centre", "edge", "of",
                 "the", "far", "upper", "lower", "heart", "foot", "base", "corner", "rear"}


def fronted_object(toks: list[Tok], k: int) -> bool:
    """Token k ends the object of a sentence-initial preposition ("Behind the wire fence", "On a display stand",
    "To the left of the plate")."""
    j = k
    while j >= 0 and (toks[j].tag in CONTENT or (toks[j].text == "," and j > 0 and toks[j - 1].tag == "ADJ")) and \
            k - j < 8:
        j -= 1  # "In the thin, pale orange sky"
    if j < 0 or toks[j].tag not in ("DET", "NUM"):
        return False
    j -= 1
    while j > 0 and toks[j].low in FRONTED_WORDS:
        j -= 1
    return j >= 0 and toks[j].tag == "PREP" and (j == 0 or toks[j - 1].text in (".", "!", "?", ";", ":"))


def _bare_plural_head(toks: list[Tok], i: int) -> bool:
    """An -s verb form that ends a determiner-less noun phrase at a clause start and is followed by "and" and
    another noun phrase ("intricate brass gear sets and a network of pipes")."""
    tok = toks[i]
    if not tok.low.endswith("s") or tok.low.endswith("ss") or i + 2 >= len(toks) or toks[i + 1].low != "and" or \
            toks[i + 2].tag not in ("DET", "NUM", "ADJ"):
        return False
    j = i - 1
    while j >= 0 and toks[j].tag in CONTENT:
        j -= 1
    return i - j >= 3 and (j < 0 or toks[j].text in (",", ".", ";", ":"))


def _comma_listed(toks: list[Tok], k: int) -> bool:
    """Token k is the last of a comma-separated list of modifiers after a determiner ("its warm, ambient")."""
    j, comma = k, False
    while j > 0 and (toks[j - 1].tag in CONTENT or toks[j - 1].text == ",") and k - j < 6:
        comma = comma or toks[j - 1].text == ","
        j -= 1
    return comma and j > 0 and toks[j - 1].tag in ("DET", "NUM") and toks[j].tag == "ADJ"


def _verb_stem(tok: Tok) -> bool:
    low = tok.low
    if not low.endswith("ing"):
        return False
    stem = low[:-3]
    return bool({stem, stem + "e", stem[:-1], stem + "s", stem + "es", stem[:-1] + "ie"} & KNOWN_VERBS)  # "lying"


def _resolve_participle(tok: Tok, prev: Tok | None, nxt: Tok | None, after: Tok | None,
                        prev2: Tok | None = None, prev3: Tok | None = None) -> str:
    """-ing/-ed words: a modifier before a noun ("a dining table"), a noun after a determiner ("a clearing"),
    otherwise a verb ("a cat sitting on")."""
    if nxt is not None and nxt.low in POSTPOSITIVE and prev is not None and prev.tag in ("AUX", "ADV", "NOUN"):
        return "VERB"  # "is comfortably lying asleep in": an adjective that never leads a noun phrase follows
    noun_next = nxt is not None and nxt.word and nxt.tag in ("NOUN", "ADJ", "PART")
    if nxt is not None and (nxt.text == "," or nxt.low == "and") and after is not None and (
            after.tag in ("ADJ", "PART", "ADV") or adjective_like(after)) and prev is not None and prev.tag in (
            "DET", "PREP", "PUNCT", "ADJ"):
        return "ADJ"  # "of solidified, irregularly edged oil"
    if tok.text[:1].isupper() and prev is not None and prev.tag in CONTENT:
        return "NOUN"  # "the Leaning Tower"
    if prev is not None and prev.text == "," and noun_next and prev2 is not None and prev2.low in ADJECTIVES and \
            prev3 is not None and prev3.tag in ("DET", "NUM", "ADJ") and tok.low not in CASTING:
        return "ADJ"  # "countless miniature, twinkling stars": the noun phrase before the comma has no head yet
    if prev is not None and prev.tag in ("PUNCT", "CONJ") and _verb_stem(tok):
        return "VERB"  # ", casting long shadows", "and holding a cup"
    if prev is not None and prev.low in ("and", "or", "but", "yet") and prev2 is not None and (
            prev2.tag == "ADJ" or tok.low.endswith("ing")) and noun_next:
        return "ADJ"  # "a serene and slumbering cat", "a grand but abandoned hall", "hazy steam and flashing lights"
    if "-" in tok.low and tok.low.endswith("ed"):
        return "ADJ"  # "a fair-faced concrete wall", "sun-drenched": a compound adjective
    before_ok = prev is None or prev.tag in ("DET", "NUM", "ADJ", "PREP", "PUNCT", "ADV") or (prev.tag == "PART") or (
        prev.low.endswith("'s")) or (adjective_like(prev) and prev.low.endswith(("al", "ous", "ful", "ic")))
    # "the armor's curved surfaces", "any additional diving equipment"
    clause_adverb = prev is not None and prev.tag == "ADV" and prev2 is not None and prev2.text == "," and \
        prev3 is not None and prev3.tag == "NOUN"  # "the posture, tightly gripping ski poles": a participle clause
    if noun_next and before_ok and not (prev is not None and prev.tag == "ADV" and prev.low in ADVERBS) and \
            not clause_adverb:
        return "ADJ"
    if prev is not None and prev.low in QUANTIFIERS_ALONE and not noun_next and nxt is not None and \
            nxt.tag in ("PREP", "ADV"):
        return "VERB"  # "a few floating near his shoulders", "some drifting above": the quantifier stands for its noun
    if prev is not None and prev.tag in ("DET", "NUM") and not noun_next:
        return "NOUN"  # "a clearing"
    if prev is not None and (prev.tag == "ADJ" or adjective_like(prev)) and not noun_next and not _verb_stem(tok) \
            and tok.low.endswith("ing"):
        return "NOUN"  # "illegible handwriting on", not "its light shining on", nor "an individual dressed in"
    return "VERB"


def tag(text: str, tagger: Tagger | None = None) -> list[Tok]:
    """Tokens of the text tagged by `tagger` (the rule tagger by default)."""
    toks = tokenize(text)
    (tagger or rule_tag)(text, toks)
    return toks
