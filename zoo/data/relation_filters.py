"""Which found phrases are spatial relations: not light or attention ("a glow on", "gazing upon"), not a backdrop
("against a blue sky", "under the sun"), not an idiom ("on display", "over the years"), not negated."""

from __future__ import annotations


from zoo.data.noun_phrases import head, not_an_object, noun_phrase_after
from zoo.data.relation_lexicon import (
    ABSTRACT_NOUNS,
    ATTENTION_VERBS,
    BACKDROP_NOUNS,
    COLOURS,
    CONCRETE_EXCEPTIONS,
    CONTACT_VERBS,
    FRAME_NOUNS,
    COPULAS,
    FIXTURE_MODIFIERS,
    IDIOM_OBJECTS,
    LIGHT_NOUNS,
    MANNER_QUALITIES,
    MATERIALS,
    NOUNS,
    SCENE_NOUNS,
    SKY_NOUNS,
)
from zoo.data.relation_types import TextRelation
from zoo.data.tagging import Tok

UNDER = {"under", "beneath", "underneath"}
LIGHT_VERBS = {"cast", "casts", "casting", "shed", "sheds", "shedding", "throw", "throws", "throwing", "project",
               "projects", "projecting"}
GROUND_NOUNS = {"ground", "floor", "surface", "soil", "earth", "pavement"}
TEXT_NOUNS = {"text", "words", "caption", "slogan", "title", "lettering", "inscription", "writing", "letters"}
ON = {"on", "upon", "onto", "over", "at"}
OBJECT_FRAMES = {"frame", "painting", "poster", "photo", "photograph", "screen", "page", "interface"}  # also things
CELESTIAL = {"sun", "moon", "sky", "skies", "heavens", "firmament"}
QUALITY_SUFFIXES = ("ness", "ity", "ism", "tude")
NOT_THINGS = frozenset(LIGHT_NOUNS | ABSTRACT_NOUNS | SCENE_NOUNS)  # light, ideas, the scene: nothing to place


def _in_or_plural(word: str, words: frozenset[str] | set[str]) -> bool:
    """The word or its singular ("textures" for "texture") is one of `words`."""
    return word in words or (word.endswith("s") and word[:-1] in words)


LIGHTS = frozenset(LIGHT_NOUNS - {"light"})  # "lights" are often things ("LED lights on the circuit boards")


def _light_or_idea(word: str) -> bool:
    """A light or abstract noun, also in the plural ("textures", "contrasts", "effects"); not the scene nouns, whose
    plurals are things ("picture frames")."""
    return word in NOT_THINGS or _in_or_plural(word, LIGHTS | ABSTRACT_NOUNS)


POSTURE_VERBS = frozenset(COPULAS | {"perched", "positioned", "placed", "seated", "situated", "located",
                                     "kneel", "kneels", "kneeling", "knelt", "bow", "bows", "bowing", "bowed",
                                     "pray", "prays", "praying", "stretches", "stretching", "spreads", "spread",
                                     "sitting", "standing", "lying", "waiting", "resting", "stands", "sits"})
# verbs after which "to the left" is a direction: "tilted to the left", "turns to the right"
TURN_VERBS = {"tilted", "tilts", "tilt", "tilting", "turned", "turns", "turn", "turning", "leans", "leaning", "leaned",
              "bends", "bending", "bent", "slants", "slanting", "slanted", "slopes", "sloping", "veers", "veering",
              "swerves", "swerving", "points", "pointing", "pointed", "faces", "facing", "looks", "looking", "glances",
              "glancing", "heads", "heading", "moves", "moving", "walks", "walking", "runs", "running", "swings",
              "swinging", "sways", "swaying", "drifts", "drifting", "tipped", "tips", "tipping", "rotated", "rotates",
              "curves", "curving", "curved", "curls", "curling", "bends"}
HOLDING_NOUNS = {"embrace", "embraces", "grasp", "grip", "clutches", "caress"}
LIGHT_SOURCE_VERBS = {"shines", "shine", "shone", "glows", "beams", "streams", "pours", "falls", "radiates", "spills"}
# "kneeling on one knee", "the other leg is raised behind her": a posture of one's own body, not a relation
BODY_PARTS = {"knee", "knees", "foot", "feet", "leg", "legs", "hand", "hands", "arm", "arms", "elbow", "elbows",
              "toe", "toes", "heel", "heels", "hip", "hips", "tail", "paw", "paws", "wing", "wings", "head", "fingers"}
# "at" is spatial only before these ("rivets visible at the seams", "a boy stands at its edge", "hills at the horizon")
AT_PLACES = {"seam", "seams", "edge", "edges", "center", "centre", "horizon", "feet", "foot", "base", "corner",
             "corners", "rim", "tip", "end", "entrance", "doorway", "threshold", "joints", "junction", "peak",
             "summit", "top", "bottom"}
# "sleeping on its stomach", "lying on his back": how a body lies, not a relation
LYING_PARTS = {"stomach", "back", "belly", "tummy", "side", "sides"}
# "the crowd on their feet", "a knight on his knees": a posture of one's own body
FOOTING_PARTS = {"feet", "knees", "toes", "tiptoe", "tiptoes", "haunches", "legs", "fours"}
FOOTING_MODIFIERS = {"hind", "back", "front", "two", "four", "bare", "own"}  # "on its hind legs", "on his bare feet"
# a body's own markings: "white spots on their brown fur", "stripes on its back"
MARKINGS = {"spot", "spots", "stripe", "stripes", "marking", "markings", "freckles", "speckles", "dots", "patches"}
# past tenses that do not modify a noun: "the liquid contained within held secrets"
FINITE_PAST = {"held", "had", "kept", "gave", "took", "felt", "seemed", "became", "began", "went", "came", "said"}
# a thing's own surfaces: what is "with" a thing is on them, not the thing itself
OWN_SURFACES = {"surface", "surfaces", "face", "faces", "side", "sides", "top", "edge", "edges", "body", "exterior"}
# the eyes as a subject of "on"/"onto"/"at": "its eyes locked onto the feline" is attention
EYES = {"eye", "eyes", "gaze", "stare", "glance"}
FACE_LOOKS = {"expression", "expressions", "look", "looks", "smile", "frown", "grin", "scowl", "blush"}
# light made into spots: "casting light spots inside the cathedral", "sun patches on the floor"
SPOT_NOUNS = {"spot", "spots", "patch", "patches", "pool", "pools", "fleck", "flecks", "speck", "specks", "streak",
              "streaks", "dapples", "patterns"}
LYING_VERBS = {"lie", "lies", "lying", "lay", "sleep", "sleeps", "sleeping", "slept", "rests", "resting", "rolled",
               "rolls", "rolling", "sprawled", "sprawling", "curled", "flopped", "napping", "naps"}
UNITS = {"years", "year", "months", "days", "hours", "minutes", "seconds", "meters", "metres", "feet", "inches",
         "miles", "kilometers", "kilometres", "centimeters", "centimetres", "degrees", "percent"}
ABSENCE_VERBS = {"lack", "lacks", "lacked", "lacking"}
# idioms only without a determiner or modifier ("on board", "on display", "on foot"; "on a wooden board" is a place)
BARE_IDIOMS = {"board", "fire", "foot", "hold", "duty", "sale", "show", "guard", "track", "schedule",
               "demand", "alert", "purpose", "time"}
# nouns that complete a verb of keeping watch ("stands guard before the shrine", "standing vigil on the right")
WATCH_NOUNS = {"guard", "watch", "vigil", "sentinel", "sentry", "sentinels"}
# "a panda gnawing on the bamboo": eating or chewing on a thing, not a place
EATING_VERBS = {"gnawing", "gnaws", "gnaw", "chewing", "chews", "chew", "munching", "munches", "nibbling", "nibbles",
                "feeding", "feeds", "snacking", "pecking", "pecks", "nipping", "biting", "bites", "sucking", "licking"}
INTENT_WORDS = {"intent", "bent", "keen", "hell-bent", "fixated", "reliant", "dependent", "focused", "focussed"}
# "a tug-of-war over a hazelnut", "dogs fight over a bone": "over" means "about" after a contest
CONTESTS = {"tug-of-war", "fight", "fights", "fighting", "argue", "argues", "arguing", "argument", "arguments",
            "dispute", "disputes", "quarrel", "quarrels", "quarreling", "quarrelling", "squabble", "squabbles",
            "squabbling", "bickering", "debate", "debates", "debating", "struggle", "struggles", "struggling",
            "competing", "competition", "rivalry", "wrestle", "wrestles", "wrestling", "fuss", "fussing", "worry",
            "worries", "worrying"}
# what grows on a body: "all the fur on their bodies" is one body, not a thing placed on another
COVERINGS = {"fur", "feathers", "plumage", "skin", "scales", "hair", "mane", "coat", "wool", "bristles", "spines"}
# "takes on the form of", "took on a golden hue": "on" is a particle
TAKE_FORMS = {"take", "takes", "took", "taking", "taken"}
# times of day as a subject: "In the evening on the Seine", "the night over the city": a time, not a thing
TIMES = {"evening", "evenings", "morning", "mornings", "afternoon", "night", "nights", "midnight", "noon", "dusk",
         "dawn", "twilight", "nightfall", "daybreak", "daytime", "nighttime", "sunset", "sunrise", "weekend"}
# "a fox runs away from the car": a motion away, not a place
AWAY_MOTIONS = {"run", "runs", "running", "ran", "flee", "flees", "fleeing", "fled", "fly", "flies", "flying", "flew",
                "walk", "walks", "walking", "walked", "move", "moves", "moving", "moved", "swim", "swims", "swimming",
                "swam", "drift", "drifts", "drifting", "drifted", "escape", "escapes", "escaping", "hurry", "hurries",
                "hurrying", "rush", "rushes", "rushing", "dash", "dashes", "dashing", "dart", "darts", "darting",
                "scurry", "scurries", "scurrying", "race", "races", "racing", "sprint", "sprints", "sprinting",
                "gallop", "gallops", "galloping", "hop", "hops", "hopping", "jump", "jumps", "jumping", "leap", "leaps",
                "leaping", "retreat", "retreats", "retreating", "turn", "turns", "turning", "turned", "pull", "pulls",
                "pulling", "pulled", "speed", "speeds", "speeding", "sail", "sails", "sailing"}
# "fabrics phase between liquid metal and silk": a change from one state to another, not a place
CHANGES = {"phase", "phases", "phasing", "shift", "shifts", "shifting", "alternate", "alternates", "alternating",
           "oscillate", "oscillates", "oscillating", "switch", "switches", "switching", "transition", "transitions",
           "transitioning", "morph", "morphs", "morphing", "fluctuate", "fluctuates", "fluctuating", "waver", "wavers",
           "wavering", "vacillate", "vacillates"}
STARRY = {"starry", "star-filled", "star-studded", "starlit", "starry-eyed"}
WHOLE = {"entire", "whole", "overall"}
# the picture itself when it is the entire one: "The entire poster is surrounded by a border"
PICTURE_NOUNS = {"poster", "painting", "artwork", "illustration", "logo", "emblem", "card", "cover", "design",
                 "photo", "photograph", "print", "page", "sculpture"}
NEGATORS = frozenset({"without", "no", "not"} | ABSENCE_VERBS)  # words before an entity said not to be there


def footing(toks: list[Tok], phrase: tuple[int, int]) -> bool:
    """ "on its hind legs", "on one knee", "on all fours": a posture of the body after "on", not a place."""
    words = [t.low for t in toks[phrase[0]:phrase[1]]]
    return phrase[0] > 0 and toks[phrase[0] - 1].low == "on" and len(words) >= 2 and (
        words[-1] in FOOTING_PARTS | {"knee"}) and words[0] in ("its", "his", "her", "their", "one", "all") and all(
        w in FOOTING_MODIFIERS for w in words[1:-1])


def negated_entity(toks: list[Tok], phrase: tuple[int, int]) -> bool:
    """ "no moat", "without a hat", "lacks a cat": an entity that is said not to be there."""
    first, k = toks[phrase[0]].low, phrase[0] - 1
    return first == "no" or (k >= 0 and toks[k].low in NEGATORS)


def _head(toks: list[Tok], phrase: tuple[int, int]) -> str:
    """The head word, or "fixture" for a light fixture ("a traffic light")."""
    word = head(toks, phrase)
    k = toks.index(word)
    fixture = word.low.endswith(("light", "lights", "lamp", "lamps"))  # "a night light"; not "a night sky"
    if k > phrase[0] and word.low in ("beam", "beams") and toks[k - 1].low in MATERIALS:
        return "girder"  # "wooden beams": a thing, not light
    return "fixture" if fixture and k > phrase[0] and toks[k - 1].low in FIXTURE_MODIFIERS else word.low


def _light_source(toks: list[Tok], subject: tuple[int, int]) -> bool:
    """A light named by a light word that shines ("a soft spotlight shines down", "the moonlight falls"), not a
    fixture ("a desk lamp glows", "a street light stands")."""
    nxt = subject[1]
    while nxt < len(toks) and toks[nxt].tag == "ADV":
        nxt += 1
    word = _head(toks, subject)
    return word != "fixture" and word.endswith(("light", "lights")) and nxt < len(toks) and \
        toks[nxt].low in LIGHT_SOURCE_VERBS


def _sky(word: str) -> bool:
    """A sky, light or weather noun, also as the last part of a compound ("daylight", "candlelight", "sunshine")."""
    return word in SKY_NOUNS or word.endswith(("light", "lights", "shine"))


def _abstract_word(word: str) -> bool:
    """An idea or a quality by its suffix ("stability", "loneliness", "solitude"); not "-tion", "-ance" words, many of
    which are things ("a section", "a rock formation", "an ambulance")."""
    return len(word) > 6 and word.endswith(QUALITY_SUFFIXES) and word not in CONCRETE_EXCEPTIONS


def _verbs_before(toks: list[Tok], i: int, limit: int = 4) -> list[str]:
    out, k = [], i - 1
    while k >= 0 and len(out) < limit and toks[k].tag in ("VERB", "AUX", "ADV", "ADJ"):
        out.append(toks[k].low)
        k -= 1
    return out


def locative(toks: list[Tok], subject: tuple[int, int], phrase: tuple[int, int], obj: tuple[int, int]) -> bool:
    """ "by" and "off" as places, fronted or after a verb of position ("By the roadside, a station", "sits by the fire",
    "remains off the stump"), not an agent, a means, a particle or a motion ("lit by the lamp", "tied by ropes", "a
    painting by Monet", "turns off the light", "jumps off the wall", "side by side")."""
    before = phrase[0] - 1
    while before >= 0 and toks[before].tag == "ADV":
        before -= 1
    if before >= 0 and toks[before].low == toks[obj[0]].low:
        return False  # "side by side", "one by one"
    if toks[obj[0]].text[:1].isupper() or _head(toks, obj) in SKY_NOUNS:
        return False  # "a painting by Monet", "by night"
    if toks[obj[0]].low in ("his", "her", "its", "their") and _head(toks, obj) in ("feet", "foot", "side"):
        return True  # "a puddle by his feet", "a dog by her side"
    if subject[0] > phrase[0]:
        return before < 0 or not toks[before].word  # fronted; not "Startled by the noise, they ..."
    if subject[1] == phrase[0] and toks[phrase[0] - 1].tag == "NOUN" and obj[1] < len(toks) and \
            toks[obj[1]].tag == "VERB" and not toks[obj[1]].low.endswith(("ed", "ing")):
        return True  # "The white curtains by the window flutter": a place between the subject and its verb
    return before >= 0 and (toks[before].low in COPULAS or toks[before].tag == "AUX")


def spatial(toks: list[Tok], relation: TextRelation, subject: tuple[int, int], phrase: tuple[int, int],
            obj: tuple[int, int] | None, near: tuple[int, int] | None = None) -> bool:
    """Whether a found relation is a spatial one (see the module docstring); `near` is the phrase right before
    the relation ("casting a warm light on her": the light is on her, not the sunset that casts it)."""
    first = toks[phrase[0]].low
    words = relation.phrase.text.lower()
    subject_head = _head(toks, subject)
    if near is not None and subject[0] <= near[0] and near[1] <= subject[1]:
        near = None  # "a red ball of light floating in front of it": the ball, not the light
    if near is not None and near[0] - 1 == subject[1] and toks[near[0] - 1].low == "with" and any(
            t.tag in ("VERB", "AUX") for t in toks[near[1]:phrase[0]]):
        near = None  # "a card with a soft texture rests on the table": what the subject has, not what it casts
    a_thing = subject_head == "frame" and toks[subject[0]].low in ("a", "an")  # "a wooden frame hangs on"
    if (_light_or_idea(subject_head) and not a_thing) or (near is not None and _light_or_idea(_head(toks, near))) or \
            _abstract_word(subject_head) or subject_head in COLOURS | MANNER_QUALITIES or (
            subject_head.endswith("ed") and subject_head not in NOUNS and subject[1] - subject[0] > 1):
        return False  # "a warm glow on", "the scene behind", "casting a warm light on her"; a colour ("a deep navy
        # blue at the top", "dreamy pink dotted at the edges")
    last_word = toks[subject[1] - 1].low
    if (last_word.endswith("s") and last_word[:-1] in COLOURS) or (
            subject_head in TIMES and toks[subject[0]].low in ("the", "this", "that")) or (
            "of" in {t.low for t in toks[subject[0]:subject[1]]} and last_word in LIGHT_NOUNS - {"light"}):
        return False  # "a gradient of icy blues in the background"; "In the evening on the Seine River": a time;
        # "tiny arcs of electricity jumping around the edge": light
    if subject_head in FRAME_NOUNS | PICTURE_NOUNS and any(t.low in WHOLE for t in toks[subject[0]:subject[1]]):
        return False  # "The entire poster is surrounded by a border": the picture itself
    if subject[0] > 0 and toks[subject[0] - 1].low in ("like", "unlike"):
        return False  # "like a silent guardian stationed at the base of": a simile
    if words in ("on", "upon", "onto") and subject_head in CELESTIAL:
        return False  # "On the canal, the sun dyes the water gold": the sun or its light is not on a thing
    if relation.subject.text.lower() in ("the other", "each other", "one another", "one", "the one", "another"):
        # "one behind the other": reciprocal, no entity of its own; but "the other hides behind it" places one of two
        return relation.object is None or (toks[obj[0]].tag == "PRON" and obj[1] - obj[0] == 1)
    if relation.predicate.startswith("abs_") and first == "to" and set(_verbs_before(toks, phrase[0])) & TURN_VERBS:
        return False  # "the scale is tilted to the left", "he turns to the right": a direction, not a place
    if subject_head in SPOT_NOUNS and subject[1] - subject[0] >= 2 and (
            toks[subject[1] - 2].low in LIGHT_NOUNS or _sky(toks[subject[1] - 2].low)):
        return False  # "casting splendid light spots inside the cathedral", "sun patches on the floor": light
    if _light_source(toks, subject):
        return False  # "On the stand, a soft spotlight shines down": light, not a thing placed
    if subject_head in FRAME_NOUNS - OBJECT_FRAMES and toks[subject[0]].low in ("the", "this"):
        return False  # "The image ..., positioned beside a cake": the picture itself, not a thing in it
    if first in ("around", "on") and set(_verbs_before(toks, phrase[0], 2)) & {"centered", "centred", "focused"} and \
            not (subject_head in TEXT_NOUNS or relation.subject.text.endswith(('"', "\u201d", "'"))):
        return False  # "an illustration centered around a teacup": the composition
    if toks[subject[0]].tag == "NUM" and subject_head in UNITS:
        return False  # "bowing ninety degrees to the right": a measure, not a thing
    if obj is None:
        return True
    object_head = _head(toks, obj)
    if toks[obj[0]].tag == "NUM" and any(t.low in UNITS for t in toks[obj[0]:obj[1]]):
        return False  # "a designer around thirty years old", "about two meters"
    possessed = toks[obj[0]].low in ("its", "his", "her", "their")
    if subject_head in BODY_PARTS | COVERINGS and object_head in BODY_PARTS | {"body", "bodies"} and possessed:
        return False  # "with its long tail wrapped around its body", "all the fur on their bodies": one body
    if (toks[subject[0]].low in ("its", "his", "her", "their") and possessed and object_head in BODY_PARTS | {
            "body", "bodies", "shoulder", "shoulders", "back", "neck", "face"} and any(
            t.low in COVERINGS for t in toks[subject[0]:subject[1]])) or (
            subject_head in COVERINGS - {"coat"} and object_head in BODY_PARTS and not any(
                t.low.endswith("'s") or t.low == "other" for t in toks[obj[0]:obj[1]])) or (
            subject_head in MARKINGS and object_head in COVERINGS | BODY_PARTS | {"body", "bodies"}):
        return False  # "Her long hair cascades over her shoulders", "the scales on the wings", "their white spots on
        # their brown fur": one body and what grows on it; not "the feathers under the other sparrow's wing"
    if (toks[obj[0]].tag == "VERB" and toks[obj[0]].low.endswith("ing") and toks[obj[0]].low not in NOUNS) or (
            first == "on" and phrase[0] > 0 and toks[phrase[0] - 1].low in INTENT_WORDS | EATING_VERBS):
        return False  # "focuses on painting the fence", "intent on reaching new heights": an aim, not a place
    if toks[obj[0]].low in FINITE_PAST:
        return False  # "the liquid contained within held secrets": "within" without an object, then the verb
    if possessed and object_head in OWN_SURFACES and subject[1] < phrase[0] and any(
            t.low == "with" for t in toks[subject[1]:phrase[0]]):
        return False  # "gears with intricate patterns carved onto their surfaces": the owner is not on its own surface
    if words == "behind" and possessed and object_head == "back":
        return False  # "holding his hands behind his back": a posture
    if words == "on" and footing(toks, obj):
        return False  # "the crowd on their feet", "a knight on his knees": a posture
    if subject_head in FACE_LOOKS and object_head in ("face", "faces") and possessed:
        return False  # "a tense expression on his face", "a pensive look on his face": the face's own look
    if subject_head in EYES and first in ON:
        return False  # "its eyes locked onto the feline", "his gaze fixed on the door": attention
    before = toks[phrase[0] - 1].low if phrase[0] > 0 else ""
    if (words == "over" and before in CONTESTS) or (first in ON and before in TAKE_FORMS) or (
            words == "between" and before in CHANGES) or (
            words.startswith("away") and before in AWAY_MOTIONS) or (
            object_head == "nature" and obj[1] < len(toks) and toks[obj[1]].low == "of"):
        return False  # "a tug-of-war over a hazelnut", "takes on the form of", "runs away from the car", "the nature
        # of time"
    if (object_head in BODY_PARTS and toks[obj[0]].low in ("one", "both") and set(
            _verbs_before(toks, phrase[0])) & POSTURE_VERBS) or (
            subject_head in BODY_PARTS and toks[obj[0]].tag == "PRON" and obj[1] - obj[0] == 1):
        return False  # "kneeling on one knee", "the other leg is raised high behind her": a posture, one body
    if object_head in LYING_PARTS and obj[1] - obj[0] == 2 and toks[obj[0]].low in ("its", "his", "her", "their") and \
            set(_verbs_before(toks, phrase[0])) & LYING_VERBS:
        return False  # "a cat sleeping on its stomach", "a man lying on his back": a posture
    if obj[1] + 1 < len(toks) and toks[obj[1]].low == "of" and (light := noun_phrase_after(toks, obj[1] + 1)) and (
            _sky(_head(toks, light)) or _head(toks, light) in LIGHT_NOUNS):
        return False  # "under the gentle play of sunlight", "in the warm glow of the lamps": light
    last = toks[obj[1] - 1].low
    if "of" in {t.low for t in toks[obj[0]:obj[1]]} and (last == "sun" or last.endswith(("light", "shine"))) and \
            toks[obj[1] - 2].low not in FIXTURE_MODIFIERS:
        return False  # "under the gentle arc of a midday sun": the of-complement kept, still light; not "the surface
        # of the moon", "a sea of clouds", "the base of a street light"
    if relation.predicate == "among" and _sky(object_head):
        return False  # "Amidst the radiant sunshine": light
    if object_head in ABSTRACT_NOUNS - SCENE_NOUNS - {"composition"} and \
            relation.predicate in ("inside", "on", "among"):
        return False  # "its place within this peculiar tableau", "upon the story": an idea or the scene, not a thing
    if obj[1] - obj[0] > 1 and toks[obj[1] - 2].low in ("light", "lights", "laser", "lasers") and \
            object_head in ("show", "shows", "display", "displays", "play"):
        return False  # "twinkle under the celestial light show": light
    if object_head in HOLDING_NOUNS:
        return False  # "conceals within its ample embrace", "in the grasp of": holding, not a place
    if (relation.predicate in ("inside", "across", "on") and object_head in FRAME_NOUNS - OBJECT_FRAMES and
            toks[obj[0]].low in ("the", "this")) or object_head == "surroundings":
        return False  # "within the canvas", "scattered across the composition", "overlaid on the scene", "watchful
        # over its surroundings": the picture or the place itself, not a thing
    if _in_or_plural(object_head, LIGHTS):
        return False  # "obscured by the intertwining shadows", "upon the curious gaze"
    idiom = object_head in IDIOM_OBJECTS and relation.object.text.lower() != "the other" and not (
        object_head == "earth" and any(t.tag in ("ADJ", "NOUN") for t in toks[obj[0]:obj[1] - 1])) and not (
        object_head in BARE_IDIOMS and obj[1] - obj[0] > 1)  # "on fire", "on board"; "Beside the fire," "on a
    # rough wooden board": a thing
    # "hidden behind the other"; "on earth" is an idiom, "across the damp earth" the soil
    if idiom or relation.object.text.lower() in IDIOM_OBJECTS or toks[obj[0]].tag == "NUM" and obj[1] - obj[0] == 1:
        return False
    verbs = _verbs_before(toks, phrase[0])
    if relation.predicate == "among" and (not_an_object(object_head) or (
            object_head.endswith("ing") and object_head not in NOUNS)):
        return False  # "amid the scene", "amidst the gentle rustling of leaves": not among things
    if first in ON and subject[0] > phrase[0] and subject_head in GROUND_NOUNS and toks[subject[0]].low == "the":
        return False  # "On an old street, the ground is wet": the place itself, not a thing on it
    if object_head in ("background", "backdrop") and relation.predicate != "in_front_of":
        return False  # "a vase near a blue background": things are only in front of a backdrop
    if (first in ON and object_head in ("breeze", "wind", "air")) or (
            first in ON | {"across", "along", "around"} and set(_verbs_before(toks, subject[0])) & LIGHT_VERBS and
            not {subject_head, toks[subject[1] - 1].low} & TEXT_NOUNS):  # "projecting glowing words on": text
        return False  # "displayed on a dark background", "float on the breeze"; "the lamp casts a circle on the desk"
    if subject_head in TEXT_NOUNS and toks[obj[0]].tag == "PRON":
        return False  # 'a poster with the words on it: "..."': rendered text, not a thing placed on another
    if words in ("by", "off", "off of") and not locative(toks, subject, phrase, obj):
        return False
    if words == "before" and not (set(verbs) & POSTURE_VERBS or (
            phrase[0] > 1 and toks[phrase[0] - 1].low in WATCH_NOUNS and toks[phrase[0] - 2].low in POSTURE_VERBS) or (
            toks[obj[0]].tag == "PRON" and (obj[1] >= len(toks) or toks[obj[1]].tag not in ("VERB", "AUX")))):
        return False  # "kneel before the altar", "the water before him"; not "before dawn", "before it rains"
    if words == "at" and (object_head not in AT_PLACES or set(verbs) & (ATTENTION_VERBS | TURN_VERBS)):
        return False  # "at night", "at a glance", "looks at the door", "aimed at the corner"
    if words == "besides" and phrase[0] > 0 and toks[phrase[0] - 1].text == "," and obj[1] < len(toks) and \
            toks[obj[1]].text == ",":
        return False  # "On the desk, besides this sheet of paper, there is a bottle": "in addition to"
    if words == "against":
        if object_head in BACKDROP_NOUNS or (phrase[0] > 0 and toks[phrase[0] - 1].low in ("contrast", "silhouetted")):
            return False
        return bool(set(verbs) & CONTACT_VERBS)
    if first in UNDER and len(words.split()) == 1 and (_sky(object_head) or any(
            t.low in STARRY for t in toks[obj[0]:obj[1]])):  # "under the brilliant starry river": the sky
        return False
    return not (first in ON and set(verbs) & ATTENTION_VERBS)
