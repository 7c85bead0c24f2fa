"""Word lists of the rule-based relation finder: spatial phrases, closed word classes, and the nouns and verbs
that the suffix rules would get wrong ("a painting", "a butterfly", "tweed")."""

from __future__ import annotations

SIDES = ("left", "right")
# phrase (lower-case words) -> predicate; the longest phrase at a position wins
PAIR_PHRASES: dict[str, str] = {
    **{f"{p} {side} of": f"{side}_of" for side in SIDES
       for p in ("to the", "on the", "at the", "to the far", "on the far", "to the immediate")},
    **{f"{p} {side} side of": f"{side}_of" for side in SIDES for p in ("to the", "on the", "at the")},
    **{f"{p} {side}-hand side of": f"{side}_of" for side in SIDES for p in ("to the", "on the", "at the")},
    **{f"{side} of": f"{side}_of" for side in SIDES},
    **{f"{p} {v} {side}{c} of": f"{v}_{side}_of".replace("upper", "top").replace("lower", "bottom")
       for side in SIDES for v in ("upper", "lower", "top", "bottom") for p in ("to the", "on the", "at the", "in the")
       for c in ("", " corner")},
    "in the foreground of": "in_front_of", "in the background of": "behind",
    "above": "above", "over": "above", "on top of": "above", "atop": "above", "on the top of": "above",
    "at the top of": "above", "directly above": "above", "at the peak of": "above", "at the summit of": "above",
    "at the top center of": "above", "at the top centre of": "above", "at the bottom center of": "below",
    "at the bottom centre of": "below",
    "below": "below", "beneath": "below", "under": "below", "underneath": "below", "at the bottom of": "below",
    "on the bottom of": "below", "at the base of": "below", "at the foot of": "below",
    "in front of": "in_front_of", "ahead of": "in_front_of", "on the front of": "in_front_of",
    "behind": "behind", "in back of": "behind", "at the back of": "behind", "beyond": "behind",
    "hidden by": "behind", "partially hidden by": "behind", "obscured by": "behind", "partially obscured by": "behind",
    "hidden behind": "behind", "partly hidden by": "behind",
    "next to": "next_to", "beside": "next_to", "besides": "next_to", "close to": "next_to", "near": "next_to",
    "alongside": "next_to", "adjacent to": "next_to", "by the side of": "next_to", "to the side of": "next_to",
    "on side of": "next_to", "on the side of": "next_to", "at the side of": "next_to", "right next to": "next_to",
    "on either side of": "either_side_of", "on both sides of": "either_side_of", "on each side of": "either_side_of",
    "to either side of": "either_side_of", "flanking": "either_side_of",
    **{f"{p} the left and right{s} of": "either_side_of" for p in ("on", "to", "at") for s in (" sides", " side", "")},
    "far from": "far_from", "far away from": "far_from", "away from": "far_from",
    "inside": "inside", "inside of": "inside", "within": "inside",
    "outside": "outside", "outside of": "outside",
    "on": "on", "upon": "on", "onto": "on", "across the top of": "on", "against": "next_to",
    "in the middle of": "in_middle_of", "in the center of": "in_middle_of", "in the centre of": "in_middle_of",
    "at the center of": "in_middle_of", "at the centre of": "in_middle_of", "in the very center of": "in_middle_of",
    "at the heart of": "in_middle_of", "in the heart of": "in_middle_of", "at the very heart of": "in_middle_of",
    "before": "in_front_of",  # only before a person or after a verb of posture (relation_filters.spatial)
    "at": "next_to",  # only at a part or a place of a thing ("at the seams", "at its edge"; relation_filters.spatial)
    "at the feet of": "below",
    "in close proximity to": "next_to", "in proximity to": "next_to", "in close proximity of": "next_to",
    "in the deep background of": "behind", "in the far background of": "behind",
    "in the distant background of": "behind",
    # a part of a thing or of the picture: "in the lower part of the frame", "near the top edge of the sign"
    **{f"{p} the {v} {part} of": pred for v, pred in (("lower", "below"), ("bottom", "below"), ("upper", "above"),
                                                     ("top", "above"), ("left", "left_of"), ("right", "right_of"))
       for part in ("part", "half", "portion", "section", "area") for p in ("in", "on", "across")},
    **{f"near the {v} edge of": pred for v, pred in (("top", "above"), ("bottom", "below"), ("upper", "above"),
                                                     ("lower", "below"), ("left", "left_of"), ("right", "right_of"))},
    "at the edge of": "at_edge_of", "on the edge of": "at_edge_of", "in the corner of": "at_edge_of",
    "between": "between", "in between": "between",
    "surrounded by": "surrounded_by", "encircled by": "surrounded_by", "surrounding": "around",
    "around": "around", "all around": "around",
    "across": "across", "across from": "opposite", "opposite": "opposite", "opposite to": "opposite",
    "among": "among", "amongst": "among", "amid": "among", "amidst": "among", "along": "along",
    "by": "next_to", "off": "off", "off of": "off",  # where they are locative (relation_filters.locative)
    # a place reached from somewhere: "peeks from behind a tree", "crawls out from under the bed"
    "from behind": "behind", "from beneath": "below", "from under": "below", "from underneath": "below",
    "from inside": "inside", "from within": "inside",
    # the way in of a place: "waits at the entrance of the cave", "stands at the gate of the castle"
    **{f"at the {way} {p}": "in_front_of" for way in ("entrance", "entrances", "gate", "gates", "door", "doorway",
                                                      "threshold", "mouth") for p in ("of", "to")},
}
PAIR_PHRASES.update({"upon" + p[2:]: pred for p, pred in PAIR_PHRASES.items() if p.startswith("on ")})  # "upon the side of"
ABSOLUTE_PHRASES: dict[str, str] = {
    **{f"{p} {side}": f"abs_{side}" for side in SIDES for p in ("on the", "to the", "at the", "on the far",
                                                                  "to the far", "at the far")},
    **{f"{p} {side} side": f"abs_{side}" for side in SIDES for p in ("on the", "to the", "at the")},
    "in the background": "abs_background", "in the foreground": "abs_foreground", "in the distance": "abs_background",
    "in the far distance": "abs_background", "in the deep background": "abs_background",
    "in the far background": "abs_background", "in the distant background": "abs_background", "at the top": "abs_top", "at the bottom": "abs_bottom",
    "in the mid-ground": "abs_center", "in the midground": "abs_center", "in the middle ground": "abs_center",
    "at the base": "abs_bottom", "at the top center": "abs_top", "at the top centre": "abs_top",
    "at the bottom center": "abs_bottom", "at the bottom centre": "abs_bottom", "in the top center": "abs_top",
    "in the bottom center": "abs_bottom",
    **{f"{p} the {v} {part}": f"abs_{side}" for v, side in (("lower", "bottom"), ("bottom", "bottom"), ("upper", "top"),
                                                           ("top", "top"), ("left", "left"), ("right", "right"))
       for part in ("part", "half", "portion", "section", "area") for p in ("in", "on", "across")},
    **{f"near the {v} edge": f"abs_{side}" for v, side in (("top", "top"), ("bottom", "bottom"), ("upper", "top"),
                                                          ("lower", "bottom"), ("left", "left"), ("right", "right"))},
    "on the bottom": "abs_bottom", "on top": "abs_top", "on the top": "abs_top", "in the center": "abs_center",
    "in the centre": "abs_center",
    "in the middle": "abs_center", "in the corner": "abs_corner", "at the center": "abs_center",
    "at the heart": "abs_center",
    **{f"{p} {v} {side}{c}": f"abs_{side}" for side in SIDES for v in ("upper", "lower", "top", "bottom")
       for p in ("in the", "at the", "on the", "to the", "near the") for c in ("", " corner")},
    **{f"along the {part}{s}": f"abs_{v}" for part, v in (("top", "top"), ("bottom", "bottom"), ("upper half", "top"),
                                                          ("lower half", "bottom"), ("top edge", "top"),
                                                          ("bottom edge", "bottom"), ("upper edge", "top"),
                                                          ("lower edge", "bottom"))
       for s in (("", "s") if part.endswith("edge") else ("",))},  # text "along the lower half", "... lower edges"
    **{f"in the {side} {part}": f"abs_{side}" for side in SIDES for part in ("area", "half", "part", "section")},
    # relative to someone: "on its left", "to his lower right"
    **{f"{p} {who} {v}{side}": f"abs_{side}" for side in SIDES for p in ("on", "to", "at")
       for who in ("its", "his", "her", "their") for v in ("", "lower ", "upper ", "far ")},
    **{f"on the left and right{s}": "abs_sides" for s in ("", " sides", " side")},
    **{f"{p} {who} left and right{s}": "abs_sides" for p in ("on", "to", "at") for who in ("its", "his", "her", "their")
       for s in ("", " sides", " side")},  # "the guitarist and bassist are on his left and right sides"
    "on the side": "abs_sides", "at the side": "abs_sides", "on the sides": "abs_sides", "at the sides": "abs_sides",
    **{f"{p} {q}": "abs_sides" for p in ("on", "to", "at") for q in ("one side", "both sides", "either side",
                                                                      "each side", "all sides")},
}
# nouns for a region of a position ("at the center point of", "on the bottom edge of"): the phrase goes on to "of"
REGION_NOUNS = {"point", "part", "area", "section", "edge", "corner", "side", "end", "half", "portion", "region",
                "spot", "tip"}
# a pair relation whose object is the picture itself is an absolute position ("on the left side of the frame")
FRAME_NOUNS = {"picture", "image", "frame", "screen", "scene", "canvas", "composition", "photo", "photograph",
               "painting", "poster", "illustration", "view", "shot", "page", "interface"}
FRAME_PREDICATES = {"left_of": "abs_left", "right_of": "abs_right", "above": "abs_top", "below": "abs_bottom",
                    "in_middle_of": "abs_center", "at_edge_of": "abs_corner", "on": "abs_center",
                    "in_front_of": "abs_foreground", "behind": "abs_background", "top_left_of": "abs_left",
                    "top_right_of": "abs_right", "bottom_left_of": "abs_left", "bottom_right_of": "abs_right"}
INVERSE = {"left_of": "right_of", "above": "below", "in_front_of": "behind", "abs_left": "abs_right",
           "abs_top": "abs_bottom", "abs_background": "abs_foreground", "around": "surrounded_by",
           "top_left_of": "bottom_right_of", "top_right_of": "bottom_left_of"}
INVERSE.update({v: k for k, v in list(INVERSE.items())})
SYMMETRIC = {"next_to", "far_from", "opposite"}

DETERMINERS = {"a", "an", "the", "this", "that", "these", "those", "his", "her", "its", "their", "my", "your",
               "our", "some", "one", "two", "three", "four", "five", "several", "many", "another", "each", "every"}
MORE_DETERMINERS = {"six", "seven", "eight", "nine", "ten", "eleven", "twelve", "twenty", "both", "all", "few",
                    "multiple", "numerous", "countless", "dozens", "hundreds", "thousands", "various", "no", "any",
                    "either", "neither", "a few", "such"}
NUMBERS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
           "twenty", "dozen", "hundred", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
           "nineteen", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "thousand"}
PRONOUNS = {"it", "him", "them", "her", "us", "me", "you", "itself", "himself", "herself", "themselves"}
SUBJECT_PRONOUNS = {"he", "she", "they", "we", "i", "it", "you", "it's", "he's", "she's", "it\u2019s", "he\u2019s",
                    "she\u2019s"}  # "It's wearing goggles on its head": a pronoun and its verb in one token
RELATIVES = {"which", "who", "that", "whom", "whose"}
PREPOSITIONS = {"in", "on", "at", "of", "with", "by", "for", "from", "into", "onto", "to", "toward", "towards",
                "through", "across", "around", "among", "along", "about", "over", "under", "above", "below", "behind",
                "beside", "between", "near", "inside", "outside", "within", "without", "upon", "beneath", "underneath",
                "against", "amid", "amidst", "past", "via", "despite", "like", "unlike", "during", "after", "before",
                "until", "since", "off", "beyond", "atop", "throughout", "per", "except", "than", "as", "alongside",
                "besides"}
CONJUNCTIONS = {"and", "or", "but", "nor", "while", "whilst", "whereas", "although", "though", "because", "if",
                "when", "where", "so", "then", "yet", "whose", "which", "who", "that", "whom", "whereby"}
AUXILIARIES = {"is", "are", "was", "were", "be", "been", "being", "am", "has", "have", "had", "do", "does", "did",
               "can", "could", "will", "would", "may", "might", "shall", "should", "must", "seems", "seem", "seemed",
               "appears", "appear", "appeared", "remains", "remain", "remained", "becomes", "become", "became",
               "'s", "gets", "get", "got", "cannot"}
NEGATIONS = {"not", "never", "no", "without", "nor", "n't"}
VERBS = {"stands", "stand", "stood", "sits", "sit", "sat", "lies", "lie", "lay", "rests", "rest", "hangs", "hang",
         "hung", "floats", "float", "hovers", "hover", "looms", "loom", "perches", "perch", "leans", "lean", "sleeps",
         "sleep", "waits", "wait", "flies", "fly", "swims", "swim", "grows", "grow", "walks", "walk", "runs", "run",
         "plays", "rises", "rise", "sets", "stays", "stay", "crouches", "crouch", "kneels", "kneel", "squats", "squat",
         "leaps", "leap", "jumps", "jump", "climbs", "climb", "sails", "sail", "glides", "glide", "drifts", "drift",
         "dangles", "dangle", "peeks", "peek", "peers", "peer", "emerges", "emerge", "occupies", "occupy", "dominates",
         "dominate", "towers", "spans", "span", "stretches", "stretch", "extends", "extend", "meanders", "meander",
         "winds", "flows", "flow", "reaches", "reach", "points", "point", "faces", "face", "looks", "look", "gazes",
         "gaze", "stares", "stare", "watches", "watch", "holds", "hold", "carries", "carry", "wears", "wear", "covers",
         "cover", "fills", "fill", "sprawls", "sprawl", "blooms", "bloom", "glows", "glow", "shines", "shine",
         "twinkles", "twinkle", "shimmers", "shimmer", "sparkles", "sparkle", "flickers", "flicker", "marches",
         "march", "moves", "move", "passes", "pass", "approaches", "approach", "chases", "chase", "dances", "dance",
         "sings", "sing", "reads", "read", "writes", "write", "eats", "eat", "drinks", "drink", "smiles", "smile",
         "laughs", "laugh", "waves", "falls", "fall", "drips", "drip", "rolls", "roll", "sways", "sway", "flutters",
         "flutter", "nestles", "nestle", "snuggles", "huddles", "roosts", "grazes", "graze", "wanders", "wander",
         "roams", "roam", "prowls", "lurks", "lurk", "hides", "hide", "shelters", "parks", "park", "poses", "pose",
         "naps", "nap", "casts", "cast", "shows", "show", "displays", "display", "features", "feature", "contains",
         "contain", "surrounds", "surround", "frames", "frame", "overlooks", "overlook", "overhangs", "protrudes",
         "juxtaposes", "creates", "create", "adds", "add", "forms", "form", "makes", "make", "gives", "give", "brings",
         "bring", "is", "emits", "emit", "envelops", "envelop", "reclines", "recline", "illuminates", "illuminate",
         "takes", "take", "says", "say", "find", "finds"}
# past tenses of irregular verbs that are not also common nouns ("four fish swam alongside"; not "rose", "saw")
IRREGULAR_PAST = {"swam", "ran", "flew", "rode", "drove", "grew", "fell", "threw", "drew", "wore", "slid", "crept",
                  "leapt", "knelt", "sprang", "sank", "clung", "swung", "wove", "froze", "stole", "strode", "shook",
                  "woke", "wept", "slept", "brought", "caught", "fought", "sought", "sang", "rang", "drank", "began",
                  "came", "became", "ate", "gave", "took", "went", "sped", "fled", "dwelt", "dug", "blew", "chose",
                  "hid", "leant", "sent", "spent", "stank", "stung", "tore", "trod", "bled", "fed", "met", "stuck"}
ADVERBS = {"just", "directly", "right", "slightly", "far", "also", "still", "here", "there", "together", "apart",
           "alone", "upright", "high", "low", "away", "back", "forward", "even", "only", "almost", "nearly", "partly",
           "partially", "half", "somewhat", "very", "too", "quite", "rather", "now", "then", "always", "never",
           "often", "already", "again", "further", "farther", "upward", "upwards", "downward", "downwards", "outward",
           "outwards", "inward", "inwards", "sideways", "overhead", "instead", "perhaps", "maybe", "nearby", "closely",
           "firmly", "neatly", "thus", "hence", "therefore", "especially", "out", "down", "off", "late", "tonight",
           "today", "overnight", "ever", "so", "off-center", "off-centre"}
# adjectives that follow a verb and describe the subject ("sits motionless", "stands tall")
DEPICTIVES = {"still", "motionless", "alone", "upright", "flat", "idle", "tall", "silent", "steady", "proud",
              "poised", "ready", "quiet", "calm", "stationary", "side-by-side", "close", "open", "empty"}
NOUNS = {"characters", "letters", "symbols", "topping", "toppings",
         "painting", "paintings", "building", "buildings", "ceiling", "ceilings", "clothing", "ring", "rings", "king",
         "kings", "string", "strings", "wing", "wings", "swing", "swings", "thing", "things", "evening", "morning",
         "pudding", "icing", "railing", "railings", "sibling", "siblings", "awning", "awnings", "bedding", "carving",
         "carvings", "drawing", "drawings", "frosting", "landing", "stuffing", "wedding", "herring", "duckling",
         "ducklings", "gosling", "seedling", "seedlings", "sapling", "saplings", "dumpling", "dumplings", "earring",
         "earrings", "offspring", "spring", "sling", "lighting", "housing", "topping", "toppings", "filling",
         "opening", "clearing", "setting", "ending", "crossing", "dwelling", "gathering", "sing", "ping", "viking",
         "vikings", "stocking", "stockings", "shavings", "cling", "wring", "bling", "outing", "inning", "lining",
         "inkling", "teaching", "serving", "servings", "helping", "helpings", "plating", "piping", "tubing", "siding",
         "fencing", "flooring", "roofing", "paneling", "panelling", "butterfly", "butterflies", "dragonfly",
         "dragonflies", "firefly", "fireflies", "fly", "lily", "lilies", "belly", "bellies", "jelly", "family",
         "families", "ally", "allies", "rally", "holly", "doily", "assembly", "anomaly", "monopoly", "supply", "reply",
         "melancholy", "trolley", "gully", "bully", "folly", "jolly", "steed", "tweed", "speed", "breed", "seaweed",
         "hundred", "kindred", "shed", "sled", "bobsled", "reed", "seed", "weed", "bed", "beds", "flowerbed",
         "riverbed", "seabed", "sunbed", "hotbed", "deathbed", "flatbed", "roadbed", "bloodshed", "watershed",
         "woodshed", "lightning"}
ADJECTIVES = {"red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white", "gray", "grey",
              "golden", "gold", "silver", "crimson", "scarlet", "azure", "cerulean", "emerald", "beige", "tawny",
              "ivory", "violet", "indigo", "turquoise", "teal", "maroon", "navy", "cream", "amber", "bronze", "copper",
              "big", "small", "large", "huge", "giant", "tiny", "little", "tall", "short", "long", "wide", "narrow",
              "thin", "thick", "massive", "enormous", "miniature", "gigantic", "immense", "vast", "colossal", "mini",
              "petite", "old", "new", "young", "ancient", "antique", "vintage", "modern", "retro", "classic",
              "futuristic", "wooden", "metal", "metallic", "glass", "stone", "leather", "plastic", "fluffy", "soft",
              "smooth", "rough", "shiny", "glossy", "matte", "dark", "light", "bright", "pale", "deep", "sleek", "pure", "kind", "bold", "uppercase", "lowercase",
              "grand", "unique",
              "weathered", "rusty", "worn", "round", "square", "rectangular", "circular", "oval", "triangular",
              "spherical", "cubic", "conical", "cylindrical", "flat", "beautiful", "cute", "elegant", "majestic",
              "magnificent", "serene", "lush", "verdant", "radiant", "vibrant", "vivid", "delicate", "graceful",
              "sturdy", "solid", "quiet", "calm", "peaceful", "tranquil", "cozy", "warm", "cold", "cool", "hot", "icy",
              "frozen", "wet", "dry", "dusty", "muddy", "clean", "dirty", "empty", "full", "open", "closed", "broken",
              "fresh", "ripe", "rotten", "wild", "tame", "happy", "sad", "angry", "sleepy", "playful", "curious",
              "lonely", "lovely", "friendly", "silly", "curly", "woolly", "elderly", "holy", "ugly", "early", "daily",
              "chilly", "lively", "cuddly", "wobbly", "bubbly", "prickly", "sparkly", "burly", "stately", "portly",
              "humble", "simple", "plain", "fancy", "ornate", "intricate", "striped", "spotted", "checkered", "polka",
              "dotted", "furry", "hairy", "bald", "fat", "slim", "skinny", "heavy", "lightweight", "transparent",
              "translucent", "opaque", "clear", "colorful", "colourful", "multicolored", "rainbow", "neon", "pastel",
              "rustic", "crystal", "marble", "porcelain", "ceramic", "velvet", "silk", "wool", "cotton", "paper",
              "cardboard", "steel", "iron", "brass", "concrete", "glowing", "shimmering", "lone", "solitary", "single",
              "double", "twin", "identical", "similar", "different", "other", "another", "same", "whole", "entire",
              "main", "central", "distant", "nearby", "faraway", "upper", "lower", "inner", "outer", "front", "rear",
              "left", "right", "top", "bottom", "middle", "steadfast", "unassuming", "imposing", "gentle", "fierce",
              "proud", "mighty", "noble", "stark", "dim", "faint", "pristine", "polished", "ornamental", "captivating",
              "stunning", "striking", "dramatic", "mysterious", "eerie", "ethereal", "dreamy", "whimsical", "surreal",
              "fantastical", "strange", "quaint", "odd", "weird", "rare", "exotic", "plump", "crisp", "brave",
              "dense", "sparse", "slender", "sharp", "dull", "bare", "rich", "fine", "coarse", "wise", "blank",
              "subtle", "stout", "neat", "tidy", "steep", "shallow", "hollow", "loose", "tight", "firm", "stiff", "raw"}
ADJECTIVE_SUFFIXES = ("ful", "ous", "ive", "less", "ish", "able", "ible", "ic", "ical", "en", "ed", "y",
                      "ant", "ent", "al", "ary", "ly")
# "X of Y" is one entity when X counts, holds or is a part of Y ("a pile of books", "the rim of the bath")
OF_NOUNS = {"pile", "piles", "stack", "stacks", "cup", "cups", "glass", "glasses", "bowl", "bowls", "plate", "plates",
            "group", "groups", "pair", "pairs", "set", "sets", "row", "rows", "bunch", "bunches", "herd", "herds",
            "flock", "flocks", "couple", "jar", "jars", "box", "boxes", "basket", "baskets", "bottle", "bottles",
            "piece", "pieces", "slice", "slices", "loaf", "loaves", "bouquet", "bouquets", "vase", "vases", "can",
            "cans", "sea", "seas", "puddle", "puddles", "pool", "trail", "trails", "wisp", "wisps", "ball", "balls",
            "cluster", "clusters", "handful", "heap", "heaps", "mound", "mounds", "school", "swarm", "swarms", "pack",
            "packs", "crowd", "crowds", "line", "lines", "array", "collection", "sheet", "sheets", "layer", "layers",
            "patch", "patches", "field", "fields", "clump", "clumps", "grove", "groves", "bundle", "bundles", "stream",
            "streams", "cloud", "clouds", "column", "columns", "series", "pod", "team", "family", "rack", "shelf",
            "shelves", "surface", "surfaces", "rim", "rims", "edge", "edges", "side", "sides", "top", "bottom", "base",
            "bases", "roof", "roofs", "ruins", "ruin", "back", "front", "corner", "corners", "center", "centre",
            "middle", "tip", "tips", "branch", "branches", "section", "sections", "part", "parts", "half", "mug",
            "mugs", "jug", "pitcher", "tray", "trays", "bag", "bags", "sack", "carton", "cartons", "crate", "crates",
            "bucket", "buckets", "pot", "pots", "barrel", "barrels", "tank", "strand", "strands", "string", "ring",
            "circle", "circles", "spiral", "spray", "lump", "block", "blocks", "tower", "towers", "wall", "walls",
            "window", "windows", "door", "doors", "peak", "peaks", "summit", "slope", "slopes", "bank", "banks",
            "shore", "shores", "deck", "floor", "floors", "steps", "step", "stretch", "carpet", "carpets", "blanket",
            "blankets", "sprig", "sprigs", "tuft", "tufts", "twig", "twigs", "drift", "drifts", "mat", "mats", "roll",
            "rolls", "spool", "spools", "coil", "coils", "bolt", "bolts", "colony", "colonies", "arc", "arcs",
            "quartet", "quartets", "trio", "trios", "duo", "quintet", "ring", "rings", "circle", "circles"}
# "X of Y" where only Y is depicted: "a photo of a dog", "the sleek form of a cat"
WRAPPER_NOUNS = {"photo", "photograph", "picture", "image", "painting", "drawing", "sketch", "illustration", "render",
                 "rendering", "view", "close-up", "closeup", "shot", "portrait", "depiction", "scene", "form",
                 "silhouette", "presence", "structure", "figure", "shape", "outline", "expanse", "embrace", "caress",
                 "glimpse", "sight", "kind", "sort", "type", "style", "version", "likeness", "representation",
                 "model", "replica", "posture", "pose", "color", "colour", "size", "design", "confines", "charm",
                 "allure", "beauty", "embodiment", "sculpture", "frame", "contour", "contours", "outlines",
                 "silhouettes", "elegance", "grace", "splendor", "splendour", "majesty", "magnificence",
                 "opulence", "grandeur", "brilliance"}
CARRIERS = {"without", "wearing", "holding", "carrying", "with", "in", "of", "on", "riding", "hugging", "dressed",
            "clutching", "grasping", "clad", "wielding", "sporting", "bearing", "cradling", "embracing"}
COPULAS = {"is", "are", "was", "were", "stands", "sits", "lies", "hangs", "floats", "stood", "sat", "lay", "hung",
           "rests", "looms", "appears", "remains", "stand", "sit", "lie", "hang", "float", "rest", "perches", "hovers",
           "grows", "towers", "rises", "sleeps", "waits", "stays", "stay", "stayed"}
# nouns for text that a quoted name can follow ('the word "calm"', "the letters 'Go home'")
QUOTE_NOUNS = {"word", "words", "phrase", "phrases", "text", "characters", "letters", "slogan", "title", "caption",
               "inscription", "lettering", "message", "name", "label"}
# past participles without -ed: a modifier before a noun ("a broken vase"), else a verb ("is hidden behind")
IRREGULAR_PARTICIPLES = {"hidden", "laid", "put", "hung", "held", "built", "made", "worn", "torn", "drawn", "thrown",
                         "grown", "shown", "frozen", "broken", "fallen", "spread", "stuck", "seen", "known", "sewn",
                         "woven", "bound", "found", "lit", "split", "shut", "sunk", "sunken", "spun", "struck",
                         "swept", "bent", "kept", "tied", "dyed", "overgrown", "outstretched", "forgotten", "stolen",
                         "chosen", "beaten", "ridden", "driven", "written", "strung", "slung", "flung", "overlaid", "inlaid",
                         "clad"}
# adjectives that follow their noun ("lines visible in the background", "a cat asleep on the mat")
POSTPOSITIVE = {"visible", "invisible", "present", "alike", "asleep", "awake", "afloat", "adrift", "aloft", "ablaze",
                "aglow", "alive", "nearby", "mid-air", "midair", "airborne"}
# nouns also used as adjectives of material or kind ("a light breeze", "a giant tree", "gold coins"): before a
# preposition they end a noun phrase ("bending light around"), before an -s word they can be a subject ("an energy
# crystal levitates")
MATERIAL_NOUNS = {"light", "giant", "gold", "silver", "bronze", "copper", "stone", "glass", "metal", "paper", "plastic",
                  "wood", "iron", "steel", "marble", "crystal"}
# "wooden beams", "steel rays": a material makes a light word a thing
MATERIALS = {"wooden", "wood", "oak", "pine", "timber", "steel", "iron", "metal", "metallic", "concrete", "stone",
             "bamboo", "brass", "copper", "marble", "ceiling", "roof", "support", "exposed"}
# "a traffic light", "a street lamp": light fixtures, not lighting
FIXTURE_MODIFIERS = {"traffic", "street", "ceiling", "tail", "brake", "pendant", "desk", "flood", "neon", "fairy",
                     "indicator", "string", "reading", "night", "porch", "garden", "stage", "warning", "signal", "landing"}
# not spatial: light and attention ("a glow on", "gazing upon", "under the sun", "against a blue sky")
LIGHT_NOUNS = {"glow", "glows", "shadow", "shadows", "reflection", "reflections", "light", "sunlight", "moonlight",
               "starlight", "beam", "beams", "ray", "rays", "halo", "sheen", "luster", "lustre", "shimmer", "sparkle",
               "glare", "highlight", "highlights", "hue", "hues", "tone", "tones", "gaze", "attention", "focus",
               "glint", "gleam", "glimmer", "radiance", "warmth", "contrast", "emphasis", "brushstrokes",
               "blur", "effect", "atmosphere", "ambiance", "ambience", "mood", "feel", "feeling", "aura", "texture",
               "electricity", "gradient", "gradients", "ripples", "bioluminescence", "luminescence",
               "phosphorescence"}
SKY_NOUNS = {"sun", "sunlight", "moonlight", "starlight", "light", "glow", "sky", "skies", "stars", "twilight",
             "afterglow", "spotlight", "spotlights", "lamplight", "rain", "gaze", "embrace", "caress", "watch", "care",
             "influence", "spell", "moon", "night", "sunset", "sunrise", "dusk", "dawn", "heavens", "firmament",
             "canopy", "shade", "illumination", "lights", "sunshine", "clouds", "downpour", "snowfall", "glare",
             "lighting", "pressure", "construction", "attack", "way", "guise", "threat", "rainstorm", "rainstorms",
             "storm", "storms", "thunderstorm", "snowstorm", "blizzard", "drizzle", "rainfall", "hail"}
BACKDROP_NOUNS = {"sky", "skies", "backdrop", "background", "light", "darkness", "night", "wind", "gale", "current",
                  "odds", "contrast", "horizon", "sunset", "sunrise", "twilight", "dusk", "dawn", "glow", "clouds",
                  "blackness", "void", "canvas", "surroundings", "landscape", "scenery", "setting", "tide"}
CONTACT_VERBS = {"lean", "leans", "leaning", "leaned", "leant", "propped", "prop", "props", "rest", "rests", "resting",
                 "rested", "pressed", "press", "presses", "pressing", "pushed", "push", "pushing", "placed", "stacked",
                 "piled", "set", "backed", "pinned", "tucked", "stand", "stands", "standing", "stood", "sits",
                 "sitting", "lies", "lying", "lay", "positioned", "hung", "hangs", "hanging", "nestled", "wedged",
                 "slumped", "huddled", "flat", "directly", "up", "right", "squarely", "firmly"}
ATTENTION_VERBS = {"gaze", "gazes", "gazed", "gazing", "focus", "focuses", "focused", "focusing", "fixed", "fixated",
                   "depend", "depends", "depending", "based", "insist", "insists", "dwell", "dwells", "dwelling",
                   "reflect", "reflects", "reflecting", "reflected", "mirrored", "comment", "cast", "casts", "casting",
                   "shine", "shines", "shining", "shone", "beam", "beams", "beaming", "shed", "sheds", "shedding",
                   "bestow", "bestows", "smile", "smiles", "smiling", "look", "looks", "looking", "glance", "glances",
                   "glancing", "working", "works", "typing", "concentrating", "concentrate", "concentrates",
                   "relies", "rely", "relying", "preys", "frowns", "frowning", "spilling", "pours", "pouring",
                   "stare", "stares", "staring", "stared", "glare", "glares", "glaring", "aimed", "aims", "aiming"}
IDIOM_OBJECTS = {"display", "fire", "time", "board", "purpose", "foot", "hold", "duty", "sale", "show", "way", "move",
                 "guard", "alert", "average", "end", "behalf", "demand", "track", "schedule",
                 "air", "years", "centuries", "decades", "hours", "days", "minutes", "moments", "reach",
                 "imagination", "words", "belief", "recognition", "repair", "measure", "compare", "doubt",
                 "description", "future", "scenes", "contrast", "sight", "view", "earth", "world", "times",
                 "mind", "minds", "fact", "addition", "order", "instance", "example", "night", "nights", "day",
                 "morning", "evening", "afternoon", "weekend", "occasion", "date", "holiday", "eve", "moment", "each other", "one another", "other", "site", "location",
                 "own", "menu", "menus", "list", "agenda", "itinerary", "senses", "dusk", "dawn", "twilight",
                 "midnight", "noon", "nightfall", "daybreak", "weight", "beauty", "charm", "allure", "embodiment",
                 "contemplation", "meditation", "thought", "thoughts"}  # "moves on its own"; "a cake on the menu"
# "hanging in the sky behind him": a place phrase that is skipped on the way to the subject
LOCATION_ADJUNCTS = {"sky", "air", "mid-air", "midair", "wind", "breeze", "rain", "sun", "sunlight", "moonlight", "dark",
                     "darkness", "shadows", "shade", "mist", "fog", "distance", "water", "snow", "clouds", "space"}
# subjects that are the picture or a region of it, not an object in it ("the distant view is surrounded by")
SCENE_NOUNS = {"view", "scene", "composition", "frame", "background", "foreground", "backdrop", "distance",
               "setting", "surroundings", "space", "overall"}
# nouns for what is not an object in the picture ("a balance between", "the moment of", "a sense of")
ABSTRACT_NOUNS = {"balance", "harmony", "contrast", "dialogue", "tension", "relationship", "connection",
                  "juxtaposition", "interplay", "sense", "tableau", "story", "narrative", "tale", "essence", "moment",
                  "interaction", "emphasis", "symbolism", "metaphor", "theme", "idea", "concept", "spirit", "aura",
                  "vibe", "echo", "silence", "stillness", "quietude", "serenity", "tranquility", "composition",
                  "distinction", "difference", "dance", "absence", "curiosity", "world", "smile", "grin", "frown",
                  "spacing", "proportion", "proportions", "contemplation", "meditation", "rumination", "musings",
                  "reverie", "nostalgia", "thought", "thoughts", "weight", "beauty", "charm", "allure", "embodiment",
                  "symphony", "spectacle", "point", "contact"}
# "the vibrant dance between", "a smile on its face"
# nouns of a manner phrase on a verb ("moving with an ethereal poise across"): skipped on the way to the subject
# colour nouns: "appear in a deep navy blue at the top" is how text is written; "a deep navy blue" is not a thing
COLOURS = {"red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white", "gray", "grey",
           "gold", "silver", "crimson", "navy", "beige", "ivory", "violet", "indigo", "teal", "turquoise", "cyan",
           "magenta", "scarlet", "azure", "maroon", "fuchsia", "vermilion", "ochre"}
# qualities of a manner phrase ("moving with poise", "perched at a playful angle atop its head"): not things
MANNER_QUALITIES = {"poise", "grace", "ease", "care", "precision", "confidence", "dignity", "flair", "finesse", "calm",
                    "angle", "angles", "slant", "tilt"}
MANNER_NOUNS = MANNER_QUALITIES | COLOURS | {"lettering", "letters", "font", "fonts", "typeface", "script",
                                             "calligraphy", "handwriting"}
# ("arranged in smaller, gold lettering along"): how text is written
ABSTRACT_SUFFIXES = ("ness", "ity", "ance", "ence", "tion", "ism", "tude", "dom", "ship")
# things whose names end in an abstract suffix ("an airship" is not like "friendship")
CONCRETE_EXCEPTIONS = {"airship", "airships", "spaceship", "spaceships", "starship", "starships", "warship", "warships",
                       "battleship", "battleships", "steamship", "steamships", "flagship", "station", "stations",
                       "university", "universities"}
