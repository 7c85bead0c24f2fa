"""The subject of a spatial phrase: past verbs, adverbs and depictives ("is quietly positioned", "sits
motionless"), asides between commas or dashes, carriers ("a boy in a red jacket", "a girl wearing a hat"),
wrappers ("a photo of"), relative pronouns ("three clocks, which are near ..."), chains ("a car parked on the sand
in the foreground"); or, for a fronted phrase, after it ("Below a castle, a knight ...", "Behind him is a plane",
`zoo.data.relation_fronted`).

Phrases are token ranges [start, end) over tagged tokens (`zoo.data.tagging`).
"""

from __future__ import annotations


from zoo.data.noun_phrases import (
    bare_quotes_before,
    head,
    kind_complement,
    noun_phrase_before,
    quoted_phrase_before,
    part_or_amount,
    possessive_led,
    proper_complement,
)
from zoo.data.relation_filters import LYING_PARTS, LYING_VERBS, WATCH_NOUNS, footing, negated_entity
from zoo.data.relation_fronted import CLAUSE_WORDS, after_fronted_phrase, aside_subject, subject_after
from zoo.data.relation_lexicon import (
    ABSTRACT_NOUNS,
    ABSTRACT_SUFFIXES,
    CARRIERS,
    CONCRETE_EXCEPTIONS,
    IRREGULAR_PARTICIPLES,
    LIGHT_NOUNS,
    LOCATION_ADJUNCTS,
    MANNER_NOUNS,
    NOUNS,
    OF_NOUNS,
    POSTPOSITIVE,
    SCENE_NOUNS,
    WRAPPER_NOUNS,
)
from zoo.data.relation_types import TextRelation
from zoo.data.tagging import CONTENT, KNOWN_VERBS, QUANTIFIERS_ALONE, Tok, fronted_object

AMOUNT_WORDS = {"dozens", "hundreds", "thousands", "millions", "scores"}
RELATIVE_WORDS = {"which", "who", "that", "whom", "whose", "where", "while", "when", "as"}
SKIP_WORDS = {"right", "just", "directly", "far", "slightly", "all", "up", "further", "farther", "also", "still",
              "there", "itself", "himself", "herself", "themselves", "quietly", "partly", "partially", "half"}
PARTICIPLE_CARRIERS = CARRIERS - {"with", "in", "of", "on", "without"}
WEARING = {"in", "without"}  # not "with": "with a star floating behind him" is the star's
# "transformed into vessels on the sea": "into" names what something becomes, not where it is
CHANGE_VERBS = {"transformed", "turned", "changed", "converted", "morphed", "made", "shaped", "carved", "formed",
                "woven", "folded", "cut", "split", "divided", "broken", "grown", "sculpted", "molded", "moulded"}
# actions named as the object of a verb ("executes a pirouette atop", "takes a nap on"): the doer is placed
ACTION_NOUNS = {"pirouette", "pirouettes", "nap", "naps", "leap", "leaps", "jump", "jumps", "spin", "spins", "twirl",
                "twirls", "somersault", "somersaults", "stroll", "walk", "swim", "dive", "bow", "curtsy", "handstand",
                "cartwheel", "cartwheels", "backflip", "flip", "dance", "step", "steps", "stretch", "pose"}
# the shape a thing makes ("the pyramids form a black silhouette in the distance"): the thing is placed
OUTLINE_NOUNS = {"silhouette", "silhouettes", "outline", "outlines", "contour", "contours"}
FORMING_VERBS = {"form", "forms", "formed", "forming", "make", "makes", "made", "making", "create", "creates",
                 "created", "creating", "cut", "cuts", "cutting"}
# the place a thing takes ("the dividers find their place situated to the left of"): the thing is placed
PLACE_NOUNS = {"place", "places", "spot", "spots", "position", "positions", "seat", "seats", "station", "home"}
TAKING_VERBS = {"find", "finds", "found", "finding", "take", "takes", "took", "taking", "assume", "assumes",
                "assumed", "assuming", "hold", "holds", "held", "holding", "claim", "claims", "claimed"}
# places on a body where a thing is worn, and the verbs of wearing ("wearing a collar ... around its neck")
WORN_PLACES = {"neck", "necks", "wrist", "wrists", "waist", "head", "heads", "shoulder", "shoulders", "finger",
               "fingers", "ankle", "ankles", "arm", "arms", "chest", "back", "face", "ears", "nose"}
WEAR_VERBS = {"wearing", "wears", "wore", "wear", "worn", "sporting", "sports", "donning", "dons"}
# parts and finishes of a thing: "a clipboard with a metallic edge resting on": the clipboard rests, not its edge
PART_NOUNS = {"edge", "edges", "rim", "rims", "border", "borders", "trim", "handle", "handles", "lid", "lids", "finish",
              "texture", "pattern", "patterns", "design", "surface", "tip", "tips", "base", "corners", "frame"}


def _skip_verb_group(toks: list[Tok], k: int) -> tuple[int, bool, bool]:
    """Back from token k past adverbs, verbs, depictives ("sits motionless") and a manner phrase on the verb
    ("positioned with elegance"); the index reached, whether a negation and whether a verb was passed."""
    negated = verb = False
    start = k
    for _ in range(20):
        if k < 0:
            break
        tok = toks[k]
        if tok.tag in ("VERB", "AUX"):
            verb, k = True, k - 1
        elif tok.tag in CONTENT and k > 1 and toks[k - 1].low == "to" and not toks[k - 1].in_phrase and \
                (toks[k - 2].tag in ("VERB", "AUX") or toks[k - 2].low == "about"):  # "about to sink below"
            verb, k = True, k - 2  # "was forced to land next to": an infinitive, not a noun
        elif k == start and tok.tag in ("NOUN", "VERB") and k > 0 and toks[k - 1].tag == "VERB" and (
                tok.low in WATCH_NOUNS or (not toks[k - 1].low.endswith(("ing", "ed")) and tok.tag == "NOUN" and
                                           not tok.low.endswith("s") and tok.low not in NOUNS)):
            k -= 1  # "stand sentinel among", "keep watch over", "standing vigil on the right": a bare noun completing
            # the verb
        elif tok.tag == "ADV" or tok.low in SKIP_WORDS:
            k -= 1
        elif tok.tag == "NEG" and tok.low in ("not", "never", "n't"):
            negated = negated or not (tok.low == "not" and k + 1 < len(toks) and toks[k + 1].low in ("far", "only"))
            k -= 1  # "Not far behind him is": a distance, not a negation
        elif tok.low in ("to", "and") and k > 0 and toks[k - 1].tag in ("VERB", "AUX", "ADV"):
            k -= 1  # "seems to float", "prominently and proudly"
        elif k > 1 and tok.low == toks[k - 2].low and toks[k - 1].low in ("by", "to", "in"):
            k -= 3  # "side by side", "shoulder to shoulder"
        elif tok.tag in CONTENT and k > 0 and tok.low not in NOUNS and (
                (toks[k - 1].tag in ("VERB", "AUX") and _depictive(tok)) or toks[k - 1].tag == "ADV" or (
                tok.low in POSTPOSITIVE and toks[k - 1].tag == "NOUN") or (
                k == start and tok.tag == "ADJ" and tok.low in POSTPOSITIVE and toks[k - 1].text == ",")):
            k -= 1  # "sits motionless", "look especially spectacular", "lines visible in"
        elif k == start and k > 2 and tok.tag in CONTENT and toks[k - 1].low == "and" and \
                toks[k - 2].tag in CONTENT and "ADJ" in (tok.tag, toks[k - 2].tag) and \
                not {tok.low, toks[k - 2].low} & NOUNS and toks[k - 3].tag in ("VERB", "AUX"):
            k -= 3  # "The lake is calm and clear beside the mill": adjectives joined by "and" after the verb
        elif tok.tag in CONTENT and (start := _manner_start(toks, k)) is not None:
            k = start - 1
        elif tok.tag in CONTENT and (start := _simile_start(toks, k)) is not None:
            k = start - 1  # "a dress that cascades like liquid fire around her": a simile on the verb
        else:
            break
    return k, negated, verb


def _depictive(tok: Tok) -> bool:
    return tok.tag == "ADJ" or tok.low.endswith(("less", "ous", "ful", "ive", "able", "ible", "ic"))


def _abstract(word: str) -> bool:
    return word in ABSTRACT_NOUNS or (word.endswith(ABSTRACT_SUFFIXES) and word not in CONCRETE_EXCEPTIONS)


def _manner_start(toks: list[Tok], k: int) -> int | None:
    """The preposition of "with refined grace" / "in anticipation" / "at rest" when it hangs on a verb, else None."""
    j = k
    while j > 0 and (toks[j].tag in CONTENT or toks[j].tag == "DET" or toks[j].low in ("and", "of") or (
            toks[j].tag == "ADV" and toks[j + 1].tag in CONTENT) or (
            toks[j].text == "," and toks[j - 1].tag == "ADJ" and toks[j + 1].tag in CONTENT)) and k - j < 9:
        j -= 1  # "with refined grace", "in perfectly symmetrical postures"
    if toks[j].low == "with" and j > 1 and toks[j - 1].low in MANNER_NOUNS and (
            outer := _manner_start(toks, j - 1)) is not None:
        return outer  # '"Sale" appears in bold letters with a white outline near the top': the letters' outline
    if toks[j + 1].low in ("a", "an", "the") and not _abstract(toks[k].low) and toks[k].low not in LOCATION_ADJUNCTS \
            and toks[k].low not in MANNER_NOUNS:
        return None  # "stands with a key behind her": the key is behind her; not "hanging in the sky behind him"
    side_by_side = j > 3 and toks[j - 1].low == toks[j - 3].low and toks[j - 2].low in ("by", "to")
    at_rest = toks[j].low == "at" and (j + 1 == k or toks[k].low in MANNER_NOUNS)  # "at rest", "at a playful angle"
    if (toks[j].low in ("with", "in", "without") or at_rest) and j > 0 and (
            toks[j - 1].tag in ("VERB", "ADV", "AUX") or side_by_side) and (toks[j - 1].low not in SKIP_WORDS or at_rest):
        return j
    if toks[j].low == "in" and j > 1 and toks[j - 1].tag == "ADJ" and toks[j - 2].text == "," and \
            _abstract(toks[k].low):
        return j - 1  # "rests the timer, steadfast in its watchful silence behind the horse": an aside on the subject
    return None


def _simile_start(toks: list[Tok], k: int) -> int | None:
    """The "like" of a simile that ends at token k and hangs on a verb ("cascades like liquid fire"), else None."""
    j = k
    while j > 0 and (toks[j].tag in CONTENT or toks[j].tag == "DET") and k - j < 6:
        j -= 1
    return j if j > 0 and j < k and toks[j].low == "like" and toks[j - 1].tag in ("VERB", "ADV") else None


def _boundary(toks: list[Tok], k: int) -> bool:
    return k < 0 or not toks[k].word or toks[k].low in CLAUSE_WORDS


def _sentence_start(toks: list[Tok], k: int) -> bool:
    return k < 0 or toks[k].text in (".", "!", "?", ";", ":")


Subject = tuple[tuple[int, int], tuple[int, int]]  # (subject, the phrase right before the relation)


def find_subject(toks: list[Tok], i: int, after: int, found: list[TextRelation],
                 absolute: bool = False) -> Subject | None:
    """The subject of the phrase at token i whose object ends before token `after`, and the nearest phrase."""
    if i > 1 and toks[i - 1].low in ("and", "or") and found and found[-1].phrase.end == toks[i - 2].end:
        shared = _rel_subject(toks, found[-1])  # "below and to the right of the moon"
        return shared, shared
    k, negated, verb = _skip_verb_group(toks, i - 1)
    if negated:
        return None
    if k == i - 1 and k > 0 and toks[k].text in ("\u2014", "\u2013"):
        opening = next((m for m in range(k - 1, max(-1, k - 40), -1) if toks[m].text == toks[k].text or
                        toks[m].text in (".", "!", "?")), None)
        lead = opening - 1 if opening is not None and toks[opening].text == toks[k].text else k - 1
        if lead >= 0 and toks[lead].tag in CONTENT and (dashed := _resolve(toks, lead, [])) is not None:
            return dashed, dashed  # "a microphone\u2014surrounded by two camels\u2014managed", "the London
            # Eye\u2014a towering structure\u2014at the center": the noun before the dashes
    if verb and k > 0 and toks[k].text in ("\u2014", "\u2013"):  # "the person in yellow—imbued with ...—is hidden"
        opening = next((m for m in range(k - 1, max(-1, k - 40), -1) if toks[m].text == toks[k].text), None)
        if opening is not None and opening > 0 and toks[opening - 1].tag in CONTENT:
            k = opening - 1
    if verb and (quoted := quoted_phrase_before(toks, k)) is not None:
        if quoted[0] > 1 and toks[quoted[0] - 1].low == "with" and toks[quoted[0] - 2].tag in CONTENT and (
                outer := _resolve(toks, quoted[0] - 2, [])) is not None:
            return outer, outer  # 'a map with the words "Go" hanging on the wall': the map, not the words on it
        return None if negated_entity(toks, quoted) else (quoted, quoted)  # 'The words "Keep out" are painted on'
    if verb and k > 0 and toks[k].low in ("and", "but") and toks[k + 1].tag in ("VERB", "AUX", "ADV") and (
            shared_subject := _coordinated_verb_subject(toks, k)) is not None:
        return shared_subject, shared_subject  # "wearing dresses and dancing on", "did not flow, but gathered in"
    if verb and (quoted_words := bare_quotes_before(toks, k)):
        return quoted_words[-1], quoted_words[-1]  # '"Exclusive" appears in navy blue at the top'
    if absolute and k == i - 1 and (quoted_words := bare_quotes_before(toks, k)) and quoted_words[0][0] > 0 and \
            toks[quoted_words[0][0] - 1].text in (":", ";", ","):
        return quoted_words[-1], quoted_words[-1]  # 'printed on the mug: "HOT" at the top, "COLD" below'
    if (toks[k].low in LOCATION_ADJUNCTS or _led_by_position(toks, k)) and fronted_object(toks, k) and \
            after < len(toks) and toks[after].text == "," and (fronted := subject_after(toks, after, True)) is not None:
        return fronted, fronted  # "In the pale sky behind him, a huge planet rises": the planet is behind him
    if _boundary(toks, k):
        fronted = subject_after(toks, after, _sentence_start(toks, k)) if not verb or _sentence_start(
            toks, k) or after_fronted_phrase(toks, k) else None
        if fronted is None and k >= 0 and toks[k].text == ",":
            fronted = aside_subject(toks, k)
        if fronted is None and verb and k > 0 and toks[k].low in ("while", "whilst", "when") and \
                toks[k + 1].tag == "VERB" and toks[k + 1].low.endswith(("ed", "ing")):
            fronted = _main_clause_subject(toks, k)  # "the umbrella stands resolute while perched before the chair"
        return (fronted, fronted) if fronted is not None else None
    if verb and (toks[k].tag == "NUM" or toks[k].low in QUANTIFIERS_ALONE) and toks[k].low not in ("one", "1"):
        start = k - 1 if k > 0 and toks[k - 1].tag == "DET" else k
        if start == 0 or toks[start - 1].tag in ("PUNCT", "CONJ"):
            return (start, k + 1), (start, k + 1)  # "The two stand side by side on", "while both sit beneath"
    if toks[k].tag not in CONTENT and toks[k].tag not in ("PRON", "REL"):
        return None
    near = noun_phrase_before(toks, k) or (k, k + 1)
    participle = verb and all(t.tag != "AUX" and (t.tag != "VERB" or t.low.endswith(("ed", "ing")) or t.low in
                                                  IRREGULAR_PARTICIPLES) for t in toks[k + 1:i])
    owned = not verb and k == i - 1 and after > i and (toks[after - 1].low in PART_NOUNS or any(
        t.low in ("its", "his", "their") or (t.low == "her" and t.tag == "DET") for t in toks[i:after]))
    owned = owned and not _worn_with(toks, near, after)
    participle = participle or owned  # "a bronze color with a patina on the surface": the patina, on a part
    plural = any(t.low in ("are", "were") or (t.tag == "VERB" and t.low in KNOWN_VERBS and not t.low.endswith(
        ("s", "ed", "ing"))) for t in toks[k + 1:i])
    worn = owned and toks[after - 1].low in WORN_PLACES  # "wearing a straw hat on her head"
    subject = _resolve(toks, k, found if k == i - 1 else [], adjacent=k == i - 1, participle=participle,
                       plural=plural, absolute=absolute, worn=worn)
    return (subject, near) if subject is not None else None


def _resolve(toks: list[Tok], k: int, found: list[TextRelation], adjacent: bool = False,
             participle: bool = False, plural: bool = False, relative: bool = False,
             absolute: bool = False, worn: bool = False) -> tuple[int, int] | None:
    """The entity whose phrase ends at token k: past "of", carriers and relative pronouns; right before the relation
    (adjacent), "the eye of the fox on the left" is the fox's; `worn`: the object is a place on the body ("on her
    head"), so a worn thing stays the subject."""
    if toks[k].tag == "PRON" and k > 1 and toks[k - 1].low == "than":  # "a carton much smaller than it was placed"
        j = k - 2
        while j > 0 and toks[j].tag in ("ADJ", "ADV"):
            j -= 1
        return _resolve(toks, j, []) if j < k - 2 and toks[j].tag in CONTENT else None
    if toks[k].tag == "REL":  # "three clocks, which are near two lamps"
        j = k - 1 if k > 0 and toks[k - 1].text != "," else k - 2
        return _resolve(toks, j, [], relative=True) if j >= 0 and toks[j].tag in CONTENT else None
    phrase = noun_phrase_before(toks, k)
    if phrase is None:
        return None
    if footing(toks, phrase) and phrase[0] > 1:
        return _clause_subject(toks, phrase[0] - 2)  # "a dog sits on its hind legs beside the table": the dog
    for prev in reversed(found[-2:]):  # "a car parked on the sand in the foreground": the car's, not the sand's
        first = toks[phrase[0]].start
        if (prev.object is not None and prev.object.start == first) or prev.phrase.start <= first < prev.phrase.end:
            return None if negated_entity(toks, phrase) else _rel_subject(toks, prev)
    if (head(toks, phrase).low in ACTION_NOUNS and phrase[0] > 0 and toks[phrase[0] - 1].tag in ("VERB", "AUX")) or (
            head(toks, phrase).low in OUTLINE_NOUNS and phrase[0] > 0 and toks[phrase[0] - 1].low in FORMING_VERBS) or (
            head(toks, phrase).low in PLACE_NOUNS and phrase[0] > 0 and toks[phrase[0]].low in (
                "its", "his", "her", "their") and toks[phrase[0] - 1].low in TAKING_VERBS):
        return _clause_subject(toks, phrase[0] - 1)  # "performs a pirouette atop a box": the dancer, not the pirouette
    for hop in range(4):
        start = phrase[0]
        if start < 2:
            break
        link, before = toks[start - 1], toks[start - 2]
        if link.low == "of" and before.low in AMOUNT_WORDS:
            phrase = (start - 2, phrase[1])  # "Dozens of brass gears float": an amount, kept
            break
        if link.low == "of" and before.tag in CONTENT:
            outer = noun_phrase_before(toks, start - 2)
            if outer is None or toks[outer[1] - 1].low in WRAPPER_NOUNS or _crosses_phrase(toks, outer):
                break
            if kind_complement(toks, phrase):
                phrase = outer  # "a box of pyramidal shape", "travelers of various species": a description
            elif toks[outer[1] - 1].low in OF_NOUNS or proper_complement(toks, start):
                phrase = (outer[0], phrase[1])
            elif adjacent and (toks[start].tag in ("DET", "NUM") or toks[start].text[:1].isupper()):
                break  # "the eye of the fox on the left"; not "footprints of varying depths on the sand"
            elif part_or_amount(toks, outer[0], outer[1] - 1, phrase):
                phrase = (outer[0], phrase[1])  # "a great number of lanterns hang above"
            else:
                phrase = outer
        elif link.low in ("and", "or") and relative and hop == 0 and toks[start].tag in ("DET", "NUM"):
            break  # "the folds of a long coat and a scarf that wraps around her": the scarf
        elif link.low in ("and", "or") and before.tag in CONTENT and not (plural and toks[start].tag in ("DET", "NUM")):
            # "with black feathers and alert eyes"; not "a boy in a cap and a dog with a collar stand" (a plural verb)
            outer = noun_phrase_before(toks, start - 2)
            if outer is not None and negated_entity(toks, outer) and (link.low == "or" or toks[start].tag not in (
                    "DET", "NUM")):
                return None  # "without any books or pens on it": none of them is there; not "no hat and a scarf on"
            if outer is None or outer[0] < 2 or toks[outer[0] - 1].low not in CARRIERS or \
                    toks[outer[0] - 2].tag not in CONTENT or _crosses_phrase(toks, (outer[0] - 1, outer[1])):
                break
            phrase = noun_phrase_before(toks, outer[0] - 2) or phrase
        elif link.low in CARRIERS and relative and hop == 0 and link.low != "of" and before.low not in LIGHT_NOUNS:
            break  # "dances in an oversized t-shirt that drapes over his frame": the t-shirt, what "that" follows;
            # not "the light in gleaming arcs that dance across": the light's arcs
        elif link.low in CARRIERS and (before.tag in CONTENT or before.low in ("dressed", "clad")):
            if link.low not in PARTICIPLE_CARRIERS and before.low not in ("dressed", "clad") and (
                    before.tag not in CONTENT or (participle and hop == 0 and link.low not in WEARING
                                                  and head(toks, phrase).low not in PART_NOUNS)):
                break  # "calligraphy on a scroll spread out on the sand", "with a star floating behind him": the
                # scroll, the star; but "a man in a robe sitting on": what is worn does not do the verb, nor "dark
                # hair in a ponytail" that is further from the verb
            outer = noun_phrase_before(toks, start - 2 if before.tag in CONTENT else start - 3)
            if worn and hop == 0 and link.low in WEAR_VERBS:
                break  # "a girl wearing a straw hat on her head": the hat is on her head
            if outer is None or _crosses_phrase(toks, outer) or (link.low == "with" and (
                    head(toks, outer).low in SCENE_NOUNS or (absolute and adjacent and hop == 0))):
                break  # "a diorama scene with a tower on the left", "a room with a window on the left": the tower,
                # the window is on the left
            phrase = outer
        elif link.low == "from" and before.tag == "NOUN" and not adjacent and (
                outer := noun_phrase_before(toks, start - 2)) is not None and not _crosses_phrase(toks, outer):
            phrase = outer  # "a man from the village stands beside", "a beam of light from a window cuts across": the
            # man, the beam, not where they come from
        elif (link.low == "in" or (link.low == "into" and before.low not in CHANGE_VERBS)) and (
                before.tag == "VERB" or (before.tag == "ADV" and toks[start - 3].tag == "VERB")) and \
                not possessive_led(toks, phrase) and not relative:
            return _clause_subject(toks, start - 2)  # "mushrooms growing in a forest on the left of a log", "poles
            # stuck into the snow beside them"
        elif link.low in ("of", "from") and (verb_at := start - 2 - int(
                before.tag == "ADV" and start > 3 and toks[start - 3].tag == "VERB")) > 0 and \
                toks[verb_at].tag == "VERB" and (toks[verb_at].low.endswith("ed") or toks[verb_at].low in
                                                 IRREGULAR_PARTICIPLES):
            outer = noun_phrase_before(toks, verb_at - 1)  # "a giant composed of huge rocks sits on", "a laptop crafted
            # from dark wood sits upon", "a sword forged entirely from lightning high above": the giant, the laptop
            if outer is None or toks[verb_at - 1].tag not in CONTENT or _crosses_phrase(toks, outer):
                break
            phrase = outer
        elif not adjacent and not participle and not relative and hop == 0 and link.tag == "PREP" and \
                link.low != "of" and before.tag == "VERB" and (
                    before.low.endswith(("ed", "ing")) or before.low in IRREGULAR_PARTICIPLES) \
                and start > 2 and toks[start - 3].tag == "NOUN":
            outer = noun_phrase_before(toks, start - 3)  # "A lamp placed on the table stands next to a vase", "a
            # bicycle propped against the hut stands next to": the reduced clause's noun does the finite verb
            if outer is None or _crosses_phrase(toks, outer):
                break
            phrase = outer
        elif link.low in ("on", "upon") and before.low in LYING_VERBS and head(toks, phrase).low in LYING_PARTS and \
                possessive_led(toks, phrase) and phrase[1] - phrase[0] == 2:
            return _clause_subject(toks, start - 2)  # "The dog sleeps on its stomach beside the sofa": the dog
        elif link.low == "as" and before.tag == "VERB" and toks[start].tag == "DET":
            return _clause_subject(toks, start - 2)  # "The fireplace, standing as a centerpiece within the room"
        elif link.tag == "VERB" and possessive_led(toks, phrase):
            return _clause_subject(toks, start - 1)  # "occupies its resting place behind": the clause's subject
        else:
            break
    return None if negated_entity(toks, phrase) else phrase


def _worn_with(toks: list[Tok], near: tuple[int, int], after: int) -> bool:
    """ "wearing a collar with a light around its neck": a with-item on a worn thing before a place on the wearer's
    body; the worn thing is there, not only its part."""
    start = near[0]
    if start < 3 or toks[start - 1].low != "with" or toks[after - 1].low not in WORN_PLACES:
        return False
    outer = noun_phrase_before(toks, start - 2)
    return outer is not None and outer[0] > 0 and toks[outer[0] - 1].low in WEAR_VERBS


def _led_by_position(toks: list[Tok], k: int) -> bool:
    """The sentence of token k starts with a spatial phrase ("On the ground directly in front of it,"), not a bare
    "in" ("In the dome base on the lunar surface,")."""
    m = k
    while m > 0 and toks[m - 1].text not in (".", "!", "?", ";", ":"):
        m -= 1
    return toks[m].in_phrase and toks[k].low not in SCENE_NOUNS


def _coordinated_verb_subject(toks: list[Tok], conj: int) -> tuple[int, int] | None:
    """The subject of the verb before `conj` ("and", "but"), shared by the verb after it; a negation of the first verb
    is its own ("did not flow downward, but gathered in the center")."""
    m = conj - 1 if toks[conj - 1].text != "," else conj - 2
    for _ in range(15):
        if m < 0 or toks[m].text in (".", "!", "?", ";", ":") or toks[m].low in RELATIVE_WORDS:
            return None
        if toks[m].tag in ("VERB", "AUX"):
            break
        m -= 1
    else:
        return None
    k, _, _ = _skip_verb_group(toks, m)
    if k > 0 and toks[k].tag == "PREP" and toks[k].in_phrase and toks[k - 1].tag in CONTENT:
        k -= 1  # "The sand inside did not flow": a preposition without an object
    if k < 0 or (toks[k].tag not in CONTENT and toks[k].tag != "PRON"):
        return None
    return _resolve(toks, k, [])


def _crosses_phrase(toks: list[Tok], span: tuple[int, int]) -> bool:
    return any(t.in_phrase for t in toks[span[0]:span[1]])


def _clause_subject(toks: list[Tok], k: int) -> tuple[int, int] | None:
    k, _, _ = _skip_verb_group(toks, k)
    if k > 0 and toks[k].text in ("\u2014", "\u2013"):  # 'six words—"one," "two"—are arranged in an arc above'
        opening = next((m for m in range(k - 1, max(-1, k - 40), -1) if toks[m].text == toks[k].text), None)
        if opening is not None and opening > 0 and toks[opening - 1].tag in CONTENT:
            k = opening - 1
    if k >= 0 and toks[k].text == ",":
        return aside_subject(toks, k)
    if k >= 0 and (toks[k].tag in CONTENT or toks[k].tag == "REL"):
        return _resolve(toks, k, [])  # "poles that are stuck into the snow beside them": the poles
    return None


def _main_clause_subject(toks: list[Tok], k: int) -> tuple[int, int] | None:
    """The subject of the finite verb before token k in its sentence (a "while" + participle clause is its
    subject's), or None."""
    for m in range(k - 1, max(-1, k - 25), -1):
        if toks[m].text in (".", "!", "?", ";", ":"):
            return None
        if toks[m].tag == "VERB" and not toks[m].low.endswith(("ed", "ing")) and m > 0:
            return _clause_subject(toks, m)
    return None


def _rel_subject(toks: list[Tok], relation: TextRelation) -> tuple[int, int]:
    start = next(i for i, t in enumerate(toks) if t.start == relation.subject.start)
    end = next(i for i, t in enumerate(toks) if t.end == relation.subject.end)
    return (start, end + 1)
