"""Failure patterns of issue 17, groups 41 onwards (continuing tests/test_relations_patterns_more.py): the heldout6
blind misses (benchmarks/results/relations_gold_heldout6_misses.md) and, from group 55, the heldout7 ones
(relations_gold_heldout7_misses.md), from group 62 the heldout8 ones and from group 65 the heldout9 ones (group 68 a
known tagging slip, group 69 the gold file's convention for "against"; groups 70-72 written anew between
rounds; from group 73 the heldout10 ones, from group 76 the heldout11 ones, from group 78 the heldout12 ones,
group 80 the heldout13 ones), each as sentences written for the pattern
(not taken from the gold file), with the relations a reader expects (subject | phrase | object, entities whole)."""

from __future__ import annotations

import pytest
from relation_patterns import check_pattern, check_perturbations


CASES = {
    # 41. a verb after "and" or ", but" shares the subject of the verb before it, past that verb's object; the
    # negation of the first verb is its own; "not far" is a distance, not a negation
    "coordinated_verbs_and_negation": [
        ("The children are holding paper kites and running happily across the meadow.",
         [("The children", "across", "the meadow")]),
        ("The smoke did not rise upward, but drifted slowly over the rooftops.",
         [("The smoke", "over", "the rooftops")]),
        ("A tall heron holds a small fish and stands quietly beside the pond.",
         [("A tall heron", "beside", "the pond")]),
        ("Not far behind the cart is a donkey.", [("a donkey", "behind", "the cart")]),
        ("The cat is not under the table.", []),
    ],
    # 42. the part of speech from the clause: an -s verb after a participle aside before an adverb and a phrase, a
    # second -s verb after "and", the head after a possessive ("a gardener's gloves"), a word after "at" ("at rest");
    # adjectives joined by "but" or "yet" stay in the noun phrase
    "part_of_speech_in_dense_clauses": [
        ("A paper lantern, dented by years of use, slumbers quietly beside the door.",
         [("A paper lantern", "beside", "the door")]),
        ("The old river bends and curls around the stone mill.", [("The old river", "around", "the stone mill")]),
        ("On the bench, a pair of gardener's gloves, a trowel, and a clay pot are left.",
         [("a pair of gardener's gloves", "On", "the bench"), ("a trowel", "On", "the bench"),
          ("a clay pot", "On", "the bench")]),
        ("Two boats lie quietly at rest beside the wooden pier.", [("Two boats", "beside", "the wooden pier")]),
        ("A cat sleeps beside a small yet sturdy wooden box.", [("A cat", "beside", "a small yet sturdy wooden box")]),
        ("In the middle of a grand but abandoned ballroom, a piano stands.",
         [("a piano", "In the middle of", "a grand but abandoned ballroom")]),
    ],
    # 43. a manner phrase on a verb ("with an ethereal poise", "at rest") is skipped on the way to the subject
    "manner_phrases": [
        ("The geese, their pale bodies moving with an effortless grace across the lake, call softly.",
         [("their pale bodies", "across", "the lake")]),
        ("An old man walks with great care along the narrow ledge.", [("An old man", "along", "the narrow ledge")]),
    ],
    # 44. not things, not places: light named by an of-complement ("under the soft play of moonlight") or after
    # "amidst"; a posture of one's own body ("kneels on one knee", "one arm stretched behind him"); a quality by its
    # suffix ("stability", "loneliness"); a smile on a face; a dance between things
    "not_things_and_postures": [
        ("Two dogs, their coats shining under the soft play of moonlight, sleep beside the stove.",
         [("Two dogs", "beside", "the stove")]),
        ("Amidst the warm sunshine, a boy flies a kite.", []),
        ("A squire is kneeling on one knee.", []),
        ("The acrobat stands on a rope, one arm stretched high behind him.",
         [("The acrobat", "on", "a rope")]),
        ("Its calm suggests a quiet loneliness amidst the crowded, noisy benches.", []),
        ("The puppy, with a cheerful smile on its face, sits beside a ball.", [("The puppy", "beside", "a ball")]),
        ("The painting shows a joyful dance between light and shade.", []),
    ],
    # 45. amounts and lists: "Dozens of" / "Hundreds of" stay with their noun; an item of a list after a fronted phrase
    # may carry a participle phrase ("rolls of silk shimmering with a soft glow, a pair of scissors, and ...")
    "amounts_and_participles_in_lists": [
        ("Hundreds of paper lanterns of different colors drift above the river.",
         [("Hundreds of paper lanterns", "above", "the river")]),
        ("On the counter, two loaves of bread cooling in the breeze, a jar of honey, and a knife are laid out.",
         [("two loaves of bread", "On", "the counter"), ("a jar of honey", "On", "the counter"),
          ("a knife", "On", "the counter")]),
        ("On the shelf, a lamp glowing softly, a clock, and a small vase are lined up.",
         [("a lamp", "On", "the shelf"), ("a clock", "On", "the shelf"), ("a small vase", "On", "the shelf")]),
    ],
    # 46. inverted and fronted subjects: a second inverted subject after ", and" with no verb of its own; a phrase
    # chained to a fronted spatial phrase, also after an adverb, is the subject's (not after a bare "In")
    "inverted_and_chained_subjects": [
        ("Above the door is a round clock, and two brass hooks holding a coat.",
         [("a round clock", "Above", "the door"), ("two brass hooks", "Above", "the door")]),
        ("Above the door is a round clock, and a bird sings outside.", [("a round clock", "Above", "the door")]),
        ("On the rug directly in front of the sofa, a sleepy cat is curled up.",
         [("a sleepy cat", "On", "the rug"), ("a sleepy cat", "in front of", "the sofa")]),
        ("In the glass tank on the desk, a small turtle swims.", [("the glass tank", "on", "the desk")]),
    ],
    # 47. rendered text: quoted words, alone or listed, are the subject ('"Sale," "New," and "Hot" appear'); how text
    # is written ("in bright red", "in small, silver lettering") is skipped; positions on a card or a board without
    # an object: "along the lower half", "in the left area", "near the top left corner"
    "quoted_words_and_text_positions": [
        ('The label is simple: "Sale," "New," and "Hot" appear in a bright red at the top.',
         [('"Sale,"', "at the top", None), ('"New,"', "at the top", None), ('"Hot"', "at the top", None)]),
        ('The sign is plain: "Open" and "Daily" are printed in small, elegant silver lettering along the lower half.',
         [('"Open"', "along the lower half", None), ('"Daily"', "along the lower half", None)]),
        ("A price tag is pinned in the left area.", [("A price tag", "in the left area", None)]),
        ("A tiny logo sits near the top left corner.", [("A tiny logo", "near the top left corner", None)]),
        ('The words "Go home" are painted on the wall.', [('The words "Go home"', "on", "the wall")]),
    ],
    # 48. an aside on a fronted object before the inverted verb ("Beside the well, weathered by years of rain, stands
    # a bucket"); a quality of-complement ("of a unique, hand-carved design") is not part of the entity; a position on
    # a part or an owned thing after a with-phrase places the thing after "with" ("a glaze with a band on the rim")
    "asides_qualities_and_with_phrases": [
        ("Beside the old well, weathered by years of rain, stands a small bucket.",
         [("a small bucket", "Beside", "the old well")]),
        ("On the shelf lies a brooch of a unique, hand-carved design.", [("a brooch", "On", "the shelf")]),
        ("The vase has a smooth glaze with a thin golden band on the rim.", [("a thin golden band", "on", "the rim")]),
        ("A dog with a red collar sits next to a cat.", [("A dog", "next to", "a cat")]),
    ],
    # 49. a bare "at" is a place only before a part or an edge of a thing ("at the seams", "at its edge", "at the
    # horizon"), not a time or a target ("at night", "stares at the corner"); an inverted subject may start with an
    # -ing modifier ("are blooming purple fields"); a colour or a participle is not a thing ("dreamy pink dotted at")
    "bare_at_inverted_participles_and_colours": [
        ("Small brass bolts are visible at the seams.", [("Small brass bolts", "at", "the seams")]),
        ("A heron stands at the edge of the pond, and a boat waits at the edge.",
         [("A heron", "at the edge of", "the pond"), ("a boat", "at", "the edge")]),
        ("The old dog sleeps at night.", []),
        ("The cat stares at the corner.", []),
        ("A wide photo, the sky is pale, on both sides of the path are swaying golden wheat fields, and the air is still.",
         [("swaying golden wheat fields", "on both sides of", "the path")]),
        ("The lid is white, with soft pink dotted at the rim.", []),
    ],
    # 50. found on unlabelled benchmark prompts: "at a playful angle" is a manner; "-like" compounds are adjectives in
    # a comma list; an -s verb after "on the left" before "to" ("on the left bows to"); a mass noun of two words
    # after "as" before its verb ("as coal smoke trails behind")
    "angles_compounds_and_clause_verbs": [
        ("A small bear wears a party hat perched at a jaunty angle atop its head.",
         [("a party hat", "atop", "its head")]),
        ("A pebble tower floats above a still, glass-like pond.", [("A pebble tower", "above", "a still, glass-like pond")]),
        ("A pawn on the left bows to a tall queen.", [("A pawn", "on the left", None)]),
        ("The ship sails on as wood smoke trails behind the mast.", [("wood smoke", "behind", "the mast")]),
    ],
    # 51. found on unlabelled benchmark prompts: the picture itself and a composition "centered around" a thing are
    # not placed; a role "as a centerpiece" is the clause subject's; an object of adjectives joined by "and" is one
    # object; an age or a measure is not a place ("around thirty years old"); a tail around its own body is a posture
    "pictures_roles_measures_and_bodies": [
        ("The picture shows a teapot, positioned beside a plate of biscuits.",
         [("a teapot", "beside", "a plate of biscuits")]),  # the teapot since heldout11 (t015, as r001 and s012)
        ("A sketch centered around a teacup.", []),
        ("The lamp, standing as a quiet sentinel beside the bed, glows.", [("The lamp", "beside", "the bed")]),
        ("A mouse hides beneath the old and dusty wooden chest.",
         [("A mouse", "beneath", "the old and dusty wooden chest")]),
        ("A sailor, around forty years old, waves.", []),
        ("The cat sleeps, with its fluffy tail wrapped around its body.", []),
    ],
    # 52. found on unlabelled benchmark prompts: a comma inside a list of adjectives does not start a clause ("a
    # brand-new, gleaming red toy sports car on"); "a detective stood" (a past verb after "a" and a noun in -ive);
    # "ever so slightly"; an -s verb after quoted words, and text that curves "to the right" is a direction
    "adjective_lists_past_verbs_and_directions": [
        ("A boy points at a brand-new, shiny blue toy sports car on the right.",
         [("a brand-new, shiny blue toy sports car", "on the right", None)]),
        ("A detective stood next to the window.", [("A detective", "next to", "the window")]),
        ("Beside the pond, a hammock, tied with rope, sways ever so slightly.", [("a hammock", "Beside", "the pond")]),
        ('Below it, "never" curves gently to the right in blue lettering.', [('"never"', "Below", "it")]),
    ],
    # 53. found on unlabelled benchmark prompts: "the confines of" wraps; light as the end of a kept of-complement ("the
    # arc of a midday sun"), not "the surface of the moon"; an -ing word after an -al adjective before a noun is a
    # modifier ("additional diving equipment"); common adjectives without a suffix ("strange plants"); "still life";
    # a manner noun is not a thing ("a low angle"); "colonies of"; "of the same material" is a quality
    "wrappers_light_and_modifiers": [
        ("A bowl rests within the confines of the old cupboard.", [("A bowl", "within", "the old cupboard")]),
        ("Under the gentle arc of a midday sun, a loaf of bread lies.", []),
        ("On the dusty surface of the moon, a small rover waits.",
         [("a small rover", "On", "the dusty surface of the moon")]),
        ("He floats, without any additional diving equipment on him.", []),
        ("A boy points at a cluster of strange plants on the left side of the frame.",
         [("a cluster of strange plants", "on the left side of the frame", None)]),
        ("On a gray plane, a surrealist still life scene is presented.", []),
        ("A beam shines from a low angle on the right.", []),
        ("Small colonies of moss grow on the rocks.", [("Small colonies of moss", "on", "the rocks")]),
        ("On the left, a bishop piece of the same wood stands.", [("a bishop piece", "On the left", None)]),
    ],
    # 54. found on unlabelled benchmark prompts: quoted words after a fronted phrase are its subject ('Directly
    # beneath it, "CLUB" appears'); "crafted from" is like "composed of"; ", besides X," means "in addition to"
    "quoted_subjects_after_fronted_phrases": [
        ('Directly beneath it, "CLUB" appears in a smaller font.', [('"CLUB"', "beneath", "it")]),
        ('At the bottom, "Eat" and "Sleep" are set side by side.',
         [('"Eat"', "At the bottom", None), ('"Sleep"', "At the bottom", None)]),
        ("A small stool carved from pale oak sits quietly upon a woven rug.",
         [("A small stool", "upon", "a woven rug")]),
        ("On the desk, besides this letter, there is an ink bottle.", [("an ink bottle", "On", "the desk")]),
        ("A cat sits besides a dog.", [("A cat", "besides", "a dog")]),
    ],
    # 55. from the heldout7 blind misses: "can" before a verb of being or a preposition is a noun ("a watering can
    # is"); a noun completing a verb of watch ("standing vigil on the right") is not the subject; a base-form verb
    # after an aside, before an adverb and a phrase ("ferns, their fronds ..., grow quietly beside"); "the damp
    # earth" is soil, "on earth" an idiom
    "cans_vigils_verbs_after_asides_and_earth": [
        ("On the porch, a dented paint can is tipped over.", [("a dented paint can", "On", "the porch")]),
        ("A rusty watering can sits beside the shed.", [("A rusty watering can", "beside", "the shed")]),
        ("A cat can sit on the mat.", [("A cat", "on", "the mat")]),
        ("The old lighthouse keeper, standing vigil on the left, waits.", [("The old lighthouse keeper", "on the left",
                                                                           None)]),
        ("Under the oak, a cluster of ferns, their fronds spread across the soft moss, grow quietly beside a log.",
         [("a cluster of ferns", "Under", "the oak"), ("their fronds", "across", "the soft moss"),
          ("a cluster of ferns", "beside", "a log")]),
        ("A seed lies on the dark earth.", [("A seed", "on", "the dark earth")]),
        ("Nothing on earth is like it.", []),
    ],
    # 56. from the heldout7 blind misses: coordinated items right before their phrase: after "with" ("with the brass
    # buckles and studs on the sleeves"), after a verb before an absolute position ("reflects Jupiter and its pale
    # moons in the distance"; a one-word name is like a determiner-led item), not before a pair phrase ("lights the
    # vases and a few old books next to them"); bare nouns after a possessor share it ("a tree's branches and leaves")
    "coordinated_items_after_with_verbs_and_possessors": [
        ("The jackets have zippers, with the brass buckles and studs on the sleeves.",
         [("the brass buckles", "on", "the sleeves"), ("studs", "on", "the sleeves")]),
        ("The visor reflects Jupiter and its pale moons in the distance.",
         [("Jupiter", "in the distance", None), ("its pale moons", "in the distance", None)]),
        ("A lamp lights the vases and a few old books next to them.", [("a few old books", "next to", "them")]),
        ("A girl holds a cup and a plate on the table.", [("a plate", "on", "the table")]),
        ("On the left, a tree's branches and leaves are bare.",
         [("a tree's branches", "On the left", None), ("leaves", "On the left", None)]),
    ],
    # 57. from the heldout7 blind misses: a quoted name after "characters for" stays in the entity; "the sleeve of a
    # model" keeps its owner; "along the upper edges" is a text position; "by his feet", "by her side" are places; a
    # body lying "on its stomach" is a posture, and the clause subject takes the next phrase; ", casting ... patterns
    # across" is light (not a list of adjectives after "the glass,"); a quoted word before an absolute position after
    # a colon is its subject
    "quoted_names_owners_places_postures_and_light": [
        ('On the brick wall, the red characters for "EXIT" are painted.',
         [('the red characters for "EXIT"', "On", "the brick wall")]),
        ("A tailor pins a ribbon on the sleeve of a model.", [("a ribbon", "on", "the sleeve of a model")]),
        ("Small stars twinkle along the upper edges, and tiny hearts float along the lower edge.",
         [("Small stars", "along the upper edges", None), ("tiny hearts", "along the lower edge", None)]),
        ("A cat sits by her side, and a bowl rests by his feet.", [("A cat", "by", "her side"), ("a bowl", "by",
                                                                                              "his feet")]),
        ("The dog sleeps on its stomach beside the sofa.", [("The dog", "beside", "the sofa")]),
        ("A baby lies on her back in the middle of the bed.", [("A baby", "in the middle of", "the bed")]),
        ("A girl carries a basket on her back.", [("a basket", "on", "her back")]),
        ("Sunlight streams through the glass, casting prismatic patterns across the stone square.", []),
        ('The lettering is printed on the mug: "HOT" at the top, followed by "TEA" below it.',
         [("The lettering", "on", "the mug"), ('"HOT"', "at the top", None)]),
    ],
    # 58. from the heldout7 blind misses: what is worn takes a place on the wearer's body past its with-item
    # ("wearing a collar with a light around its neck"; not "a color with a patina on its surface"); "an indicator
    # light" is a fixture; a simile on the verb is skipped on the way to the subject ("flows like liquid fire around")
    "worn_things_fixtures_and_similes": [
        ("A dog is wearing a collar with a small indicator light around its neck.",
         [("a collar", "around", "its neck")]),
        ("She wears a scarf with a red pattern around her neck.", [("a scarf", "around", "her neck")]),
        ("The statue has a bronze color with a patina on its surface.", [("a patina", "on", "its surface")]),
        ("A robot has a chest panel with a green indicator light on its front.",
         [("a green indicator light", "on", "its front")]),
        ("The dancer wears a red dress that flows like liquid fire around her lithe form.",
         [("a red dress", "around", "her lithe form")]),
        ("A lantern glows like a tiny star above the door.", [("A lantern", "above", "the door")]),
    ],
    # 59. from the heldout7 blind misses: an action named as the object of a verb is not a thing, its doer is placed
    # ("executes a pirouette atop", "takes a nap on", "does a handstand on"); an -ly word between a determiner and a
    # noun is an adjective ("the unlikely platform", "a ghostly figure"), not after it before a participle
    "actions_as_objects_and_ly_adjectives": [
        ("The dancer performs a graceful pirouette atop a wooden box.", [("The dancer", "atop", "a wooden box")]),
        ("The cat takes a nap on the sofa.", [("The cat", "on", "the sofa")]),
        ("A girl does a handstand on the beach.", [("A girl", "on", "the beach")]),
        ("A ghostly figure stands behind the unlikely platform of a train.",
         [("A ghostly figure", "behind", "the unlikely platform of a train")]),
        ("A neatly cut piece of cake sits on a plate.", [("A neatly cut piece of cake", "on", "a plate")]),
    ],
    # 60. from the heldout7 blind misses: adjectives joined by "and" after a verb describe the subject ("appears taut
    # and pale around"), they are not the subject; not adjectives inside an object ("a red and blue kite")
    "adjectives_joined_after_a_verb": [
        ("The lake is calm and clear beside the old mill.", [("The lake", "beside", "the old mill")]),
        ("A cat sits quiet and alert beside the door.", [("A cat", "beside", "the door")]),
        ("A boy holds a red and blue kite beside the door.", [("a red and blue kite", "beside", "the door")]),
    ],
    # 61. found checking groups 55-60 on the benchmark prompts: a list after "with" before the phrase only when its
    # last item is placed ("with crisp lines and harmonious spacing between elements": design qualities); "spacing",
    # "proportions" are not things; "at the edge of dusk" is a time, not a place
    "with_lists_of_qualities_and_times": [
        ("The design balances whimsy, with crisp lines, balanced proportions, and harmonious spacing between elements.",
         []),
        ("They lie on a chair, with a white beach, a blue sea, and a tall palm in the background.",
         [("They", "on", "a chair"), ("a white beach", "in the background", None),
          ("a blue sea", "in the background", None), ("a tall palm", "in the background", None)]),
        ("The coat shimmered like the amber sky at the edge of dusk.", []),
    ],
    # 62. from the heldout8 blind misses: uses that place nothing. "over" after a contest means "about"; what grows on
    # a body is not placed on it; "takes on the form of" is a particle; a time of day, a plural colour, light made of
    # electricity, ripples, the entire picture and an idea are not things; a starry sky is a backdrop; running away
    # from a thing is a motion; "under its weight" and "shift between" two states are not places
    "non_spatial_uses": [
        ("Two dogs are locked in a fierce fight over a bone.", []),
        ("The children had a noisy argument over the last cookie.", []),
        ("All the feathers on their bodies are ruffled.", []),
        ("The clouds above take on the shape of a dragon.", []),
        ("In the morning on the lake, two swans glide in a circle.", []),
        ("In the corner, a wash of pale greens fades into the wall.", []),
        ("Bright arcs of electricity dance around the rim.", []),
        ("Ripples spread across the still pond.", []),
        ("The whole painting is surrounded by a thin silver frame.", []),
        ("The quiet scene invites contemplation on the nature of memory.", []),
        ("Tall tents stand under the starry dome.", []),
        ("A startled deer is running away from the road.", []),
        ("A thin board bends under its weight.", []),
        ("The sculpture's colors shift between bronze and gold.", []),
        ("A cat dozes on the warm rug.", [("A cat", "on", "the warm rug")]),
    ],
    # 63. from the heldout8 blind misses: words tagged as the wrong part of speech. The plural head of a count noun's
    # complement before a comma ("a pair of rubber boots, with"); a verb of saying before quoted words; an -ing noun
    # that is a participle after a comma ("drift through the air, landing on"); adjectives joined by "but"; the viewer
    # who notices a thing ("one cannot help but notice"); "lightning" is a noun; a bare plural subject and its verb at
    # a sentence end ("golden spikes erupt."), also after adjectives joined by "and"; "status" is not a plural; "set"
    # after "are" before a phrase is a participle ("are set in a row above")
    "part_of_speech_in_dense_prompts": [
        ("A pair of green rubber gloves, with their worn fingertips, lies on the bench.",
         [("A pair of green rubber gloves", "on", "the bench")]),
        ('On the counter, a small card says "Welcome".', [("a small card", "On", "the counter")]),
        ("Leaves swirl through the air, landing on the porch.", [("Leaves", "on", "the porch")]),
        ("There sits a small but sturdy wooden crate beside the door.",
         [("a small but sturdy wooden crate", "beside", "the door")]),
        ("Behind the stage, one cannot help but notice a row of lanterns.",
         [("a row of lanterns", "Behind", "the stage")]),
        ("She holds a staff forged entirely from lightning high above her head.",
         [("a staff", "above", "her head")]),
        ("Beneath the arch, bright and golden spikes erupt.", [("bright and golden spikes", "Beneath", "the arch")]),
        ("Small green status lights glow on their helmets.", [("Small green status lights", "on", "their helmets")]),
        ("Five paper lanterns are set in a row above the gate.", [("Five paper lanterns", "above", "the gate")]),
    ],
    # 64. from the heldout8 blind misses: relations that were missed. "on the top" is an absolute position; a fronted
    # phrase ends before "nearby" and may be followed by a bare mass noun and its verb or by a backdrop phrase; "the
    # fire" with a determiner is a thing ("on fire" an idiom); a participle with an adverb before "from" is skipped
    # ("carved entirely from crystal high above"); projected text is placed; a subject before an aside between dashes
    # and a manner phrase; adjectives with a comma after a fronted phrase; the thing that forms a silhouette is
    # placed; a fronted or following "surrounding" places its subject around the next noun phrase; an adjective aside
    # with an abstract manner phrase after the subject ("steadfast in its silence behind")
    "missed_in_dense_prompts": [
        ('On the left is a lamp, and on the top is the title "Home".',
         [("a lamp", "On the left", None), ('the title "Home"', "on the top", None)]),
        ("On the stone bench nearby, smoke is curling from a pipe.", [("smoke", "On", "the stone bench")]),
        ("Beside the fire, a sleepy dog is yawning.", [("a sleepy dog", "Beside", "the fire")]),
        ("The old barn is on fire.", []),
        ("Behind the tower, on a pale gray background, tall spires rise.", [("tall spires", "Behind", "the tower")]),
        ("She lifts a cup carved entirely from jade high above the table.", [("a cup", "above", "the table")]),
        ("A drone hovers, projecting a row of bright letters on the side of the building.",
         [("a row of bright letters", "on the side of", "the building")]),
        ('Five small flags\u2014"red," "blue," and "gold"\u2014are hung in a row above the gate.',
         [("Five small flags", "above", "the gate")]),
        ("Inside the ring, bright, twisted wires form a knot.", [("bright, twisted wires", "Inside", "the ring")]),
        ("The distant castle forms a dark silhouette in the distance.",
         [("The distant castle", "in the distance", None)]),
        ("Surrounding the old well, six stone benches are placed in a circle.",
         [("six stone benches", "Surrounding", "the old well")]),
        ("A low fence surrounding the garden is painted white.", [("A low fence", "surrounding", "the garden")]),
        ("The lamp lights the surrounding room.", []),
        ("There stands a tall clock, steadfast in its quiet patience beside the door.",
         [("a tall clock", "beside", "the door")]),
    ],
    # 65. from the heldout9 blind misses: uses that place nothing. What grows on a body and its markings stay on it
    # ("her hair over her shoulders", "the scales on the wings", "spots on their fur"; not "the feathers under the
    # other bird's wing"); "on their feet" is a posture; eyes on a thing are attention; a storm is weather; light made
    # into spots and bioluminescence are light; "within" with no object before a past verb; a thing is not on its own
    # surface ("gears with patterns carved onto their surfaces")
    "non_spatial_uses_heldout9": [
        ("Her long red hair tumbles over her shoulders.", []),
        ("The scales on the wings shimmer with a metallic sheen.", []),
        ("Their dark stripes on their golden fur stand out.", []),
        ("A chick sleeps under the feathers of the other hen's wing.",
         [("A chick", "under", "the feathers of the other hen's wing")]),
        ("The crowd in the stadium is on their feet.", []),
        ("Its eyes locked onto the tiny mouse.", []),
        ("Two hikers stand under a heavy rainstorm.", []),
        ("The window casts bright light spots inside the chapel.", []),
        ("On the rim of each petal, soft blue bioluminescence shines.", []),
        ("She wondered whether the box tucked within held letters.", []),
        ("He stands within a tall maze built from brass gears with fine patterns carved onto their surfaces.",
         [("He", "within", "a tall maze")]),
    ],
    # 66. from the heldout9 blind misses: wrong subjects. A number or "both" before a base verb stands for its nouns
    # ("The two stand side by side on"; a number takes a plural noun: not "two stands"); a participle aside placing
    # a plural subject relative to "them" is the singular noun's before its comma ("both sit beneath a lamp,
    # suspended above them"); the place a thing finds or takes places the thing ("find their place situated to the
    # left of"); "find" is a verb; "Please create a clay sculpture of" wraps; a verb form before "of" after its
    # modifiers is a noun ("the quaint, modest frame of": the frame wraps the house); a participle aside after the
    # thing a picture depicts and its own participle is that thing's ("The image depicts a girl dressed in a coat,
    # standing near"; not "The picture shows a teapot, positioned beside", group 51)
    "wrong_subjects_heldout9": [
        ("The two stand side by side on the wooden bridge.", [("The two", "on", "the wooden bridge")]),
        ("Both sit quietly beneath the old oak.", [("Both", "beneath", "the old oak")]),
        ("Two wooden stands sit near the gate.", [("Two wooden stands", "near", "the gate")]),
        ("The twins rest beneath the soft radiance of a paper lantern, suspended above them.",
         [("a paper lantern", "above", "them")]),
        ("The old vases, with their chipped rims, find their place situated to the right of the clock.",
         [("The old vases", "to the right of", "the clock")]),
        ("The cat takes its seat beside the warm stove.", [("The cat", "beside", "the warm stove")]),
        ("Please create a clay sculpture of a girl standing directly above a stone block.",
         [("a girl", "directly above", "a stone block")]),
        ("A fox hides behind the quaint, modest frame of the wooden shed.",
         [("A fox", "behind", "the wooden shed")]),
        ("A massive display of roses stands beside the door.",
         [("A massive display of roses", "beside", "the door")]),
        ("The image depicts a girl dressed in a red coat, standing near a tall gate.",
         [("a girl", "near", "a tall gate")]),
        ("The photo shows two boys standing on the pier, surrounded by noisy gulls.",
         [("two boys", "on", "the pier"), ("two boys", "surrounded by", "noisy gulls")]),
    ],
    # 67. from the heldout9 blind misses: cut entities and missed relations. "rings", "circles" keep their
    # of-complement; "between X and Y" with an -ing modifier on Y; "in the deep/far/distant background" is absolute;
    # an inverted passive after a fronted position ("in the very center is embedded a pearl"); a bare mass noun with
    # adjectives before its verb after a fronted phrase ("Between the rocks, hot lava flows"); a participle with
    # "with" after its noun ("grasses dotted with flowers"); an aside between dashes closes a fronted phrase
    "cut_and_missed_heldout9": [
        ("Several rings of ancient runes float around the tower.",
         [("Several rings of ancient runes", "around", "the tower")]),
        ("Small boats drift between the pier and surrounding rocks.",
         [("Small boats", "between", "the pier", "surrounding rocks")]),
        ("In the far background, a lighthouse rises.", [("a lighthouse", "In the far background", None)]),
        ("In the very center is mounted a golden bell.", [("a golden bell", "In the very center", None)]),
        ("Between the two boulders, hot molten lava flows slowly.",
         [("hot molten lava", "Between", "the two boulders")]),
        ("In the foreground are tall, pale reeds dotted with dew.", [("tall, pale reeds", "In the foreground", None)]),
        ("Beside an old well\u2014its stones worn smooth by rain\u2014a bucket, dented and rusty, waits.",
         [("a bucket", "Beside", "an old well")]),
    ],
    # 68. a plural subject at a clause start and its bare verb before a phrase: the verb agrees with the plural, so it
    # is not the head of a compound (a compound's first noun is singular: "bird cage"), also when the word is listed
    # as a noun too ("fly", "sing") or unknown ("play"), after a number, "the", a possessive or a plural-only
    # determiner, an irregular plural ("children", "geese"), after ", and"; not after "a" ("a sports car"), nor when a
    # singular verb later in the clause makes the -s word a compound's first noun ("The glasses case ... is"), nor a
    # name ("The Arts Museum")
    "plural_subject_and_bare_verb": [
        ("Birds fly above the misty lake.", [("Birds", "above", "the misty lake")]),
        ("The children play beside the old fountain.", [("The children", "beside", "the old fountain")]),
        ("Two small birds sing on the wooden fence.", [("Two small birds", "on", "the wooden fence")]),
        ("A barn stands on the hill, and geese waddle near the pond.",
         [("A barn", "on", "the hill"), ("geese", "near", "the pond")]),
        ("These paper lanterns bob gently above the market.", [("These paper lanterns", "above", "the market")]),
        ("At noon, the ducklings huddle under the willow.", [("the ducklings", "under", "the willow")]),
        ("Our dogs frolic in front of the cabin.", [("Our dogs", "in front of", "the cabin")]),
        ("A sports car is parked beside the road.", [("A sports car", "beside", "the road")]),
        ("The glasses case on the desk is open.", [("The glasses case", "on", "the desk")]),
        ("The Arts Museum stands near the river.", [("The Arts Museum", "near", "the river")]),
    ],
    # 69. "against" is never a relation, as the gold file labels it (tests/data/README.md): contact after a verb of
    # leaning, pressing or resting, with or without an adverb, is not reported, and a phrase after its object still
    # places the thing that leans ("leans against the wall on the floor"); a backdrop stays out (group 4)
    "against_is_not_labelled": [
        ("A bicycle is leaning against a brick wall.", []),
        ("A ladder is pressed against the shed.", []),
        ("An old man leans wearily against the railing.", []),
        ("A painting leans against the wall on the floor.", [("A painting", "on", "the floor")]),
        ("A broom rests against the door, beside a bucket.", [("A broom", "beside", "a bucket")]),
        ("A lighthouse stands against a stormy sky.", []),
    ],
    # 70. a noun with a reduced participle clause before the finite verb: the noun does the verb, not the object of
    # the clause's preposition ("A lamp placed on the table stands next to a vase": the lamp is next to the vase)
    "reduced_clause_subject": [
        ("A lamp placed on the table stands next to a vase.",
         [("A lamp", "on", "the table"), ("A lamp", "next to", "a vase")]),
        ("A bicycle propped against the hut stands next to a tree.", [("A bicycle", "next to", "a tree")]),
        ("The book lying on the desk sits beside a cup.", [("The book", "on", "the desk"), ("The book", "beside", "a cup")]),
        ("Birds perched on the wire sit above the road.", [("Birds", "on", "the wire"), ("Birds", "above", "the road")]),
    ],
    # 71. an -s noun that is a compound's modifier ("sports car", "arts centre") at a prompt's start: the next word is
    # the head, not the bare verb of a plural subject (group 68), unless it is a listed verb
    "compound_plural_modifier": [
        ("Sports car beside the road.", [("Sports car", "beside", "the road")]),
        ("Arts centre next to the river.", [("Arts centre", "next to", "the river")]),
        ("Sports cars race beside the road.", [("Sports cars", "beside", "the road")]),
        ("Glasses sit beside a book.", [("Glasses", "beside", "a book")]),
    ],
    # 72. an aside between commas that starts with a state ("asleep", "adrift", "airborne") or a participle with its
    # particle ("curled up", "worn out") belongs to the noun before it; "mid-air" after "is" is a state, so a relative
    # clause's subject is its antecedent
    "state_asides": [
        ("The cat, asleep on the rug, purrs softly.", [("The cat", "on", "the rug")]),
        ("A dolphin leaps, airborne above the waves.", [("A dolphin", "above", "the waves")]),
        ("The old boat, adrift on the lake, creaks.", [("The old boat", "on", "the lake")]),
        ("The cat, curled up in a ball, naps on top of a stack of newspapers.",
         [("The cat", "on top of", "a stack of newspapers")]),
        ("A hiker, worn out, rests beside a boulder.", [("A hiker", "beside", "a boulder")]),
        ("Graffiti covers the wall behind the skater, who is mid-air above the ramp.",
         [("the wall", "behind", "the skater"), ("the skater", "above", "the ramp")]),
    ],
    # 73. from the heldout10 blind misses: the part of speech. A plural subject without -s after a plural-only
    # determiner ("countless tiny fish gather"); an -s word after adjectives or colours that a verb leads is the
    # object's noun ("create soft glows", "cast cyan and magenta glows"), not after a noun-like adjective ("The light
    # reflects"); a material noun before a preposition or a relative ends its phrase ("bending light around", "light
    # that creates"); "yet" joins adjectives ("a small yet distinct sign"); a nationality before its noun ("golden
    # English characters"); a quantifier before a participle stands for its noun ("a few floating near")
    "part_of_speech_heldout10": [
        ("Beside the reef, countless tiny fish gather near the anchor.",
         [("countless tiny fish", "Beside", "the reef"), ("countless tiny fish", "near", "the anchor")]),
        ("Two fish swim under the bridge.", [("Two fish", "under", "the bridge")]),
        ("The fish market stands near the port.", [("The fish market", "near", "the port")]),
        ("The candles create soft glows around the altar.", []),
        ("Lanterns cast cyan and magenta glows on the railings.", []),
        ("The lamps create bright highlights and faint glows around the frame.", []),
        ("The desert air shimmers, bending light around the travellers.", []),
        ("The tower looms above, while beneath it, a small yet distinct sign stands alongside the road.",
         [("a small yet distinct sign", "beneath", "it"), ("a small yet distinct sign", "alongside", "the road")]),
        ("Above the door, a row of golden Chinese characters glows softly.",
         [("a row of golden Chinese characters", "Above", "the door")]),
        ("Some birds rest on the roof, a few floating above the chimney.",
         [("Some birds", "on", "the roof"), ("a few", "above", "the chimney")]),
        ("A giant tree stands beside the light blue house.", [("A giant tree", "beside", "the light blue house")]),
    ],
    # 74. from the heldout10 blind misses: entities. Outlines and qualities wrap what they belong to ("the faint
    # contours of snowy peaks", "the quiet elegance of the vases that stand"); an of-complement of kind describes
    # ("travellers of various species"), a count noun's does not ("a pile of various books"); a noun "from" a place
    # does the verb ("a man from the village stands beside"), not when the place is next to the phrase ("water drops
    # from the icicles on the spires"); a worn thing on the wearer's body ("wearing a straw hat on her head"); text
    # "in bold letters with a white outline" is a manner of the quoted words; a depicted person with clothes, then a
    # participle ("features a man in a grey suit, standing at"); the antecedent of "that" after "stretched into"
    "entities_heldout10": [
        ("In the distance, the faint contours of snowy peaks rise above the clouds.",
         [("snowy peaks", "In the distance", None), ("snowy peaks", "above", "the clouds")]),
        ("The quiet elegance of the white vases that stand upon the mantel catches the eye.",
         [("the white vases", "upon", "the mantel")]),
        ("Alien travellers of various species move across the platform.",
         [("Alien travellers", "across", "the platform")]),
        ("A pile of various books sits on the desk.", [("A pile of various books", "on", "the desk")]),
        ("A man from the village stands beside the well.", [("A man", "beside", "the well")]),
        ("A ray of sunlight from a small window falls across the floor.", []),
        ("Water drops from the icicles on the spires.", [("the icicles", "on", "the spires")]),
        ("A girl wearing a straw hat on her head stands beside the fence.",
         [("a straw hat", "on", "her head"), ("A girl", "beside", "the fence")]),
        ("On the left is a dog wearing a red collar around its neck.",
         [("a dog", "On the left", None), ("a red collar", "around", "its neck")]),
        ('"Sale" appears in bold red letters with a white outline near the top of the sign.',
         [('"Sale"', "near", "the top of the sign")]),
        ("The poster features a man in a grey suit and a white shirt, standing proudly at the entrance of a hall.",
         [("a man", "at the entrance of", "a hall")]),
        ("Their figures stretched into long, dark shadows that lie across the sand.", []),
    ],
    # 75. from the heldout10 blind misses: uses that place nothing. A posture on one's own legs ("on its hind legs",
    # "on all fours", "on one knee"), and the next phrase is the body's owner's; plurals of light and ideas
    # ("textures", "contrasts"); a place within an idea ("within this peculiar tableau")
    "postures_and_ideas_heldout10": [
        ("A dog sits on its hind legs beside the table.", [("A dog", "beside", "the table")]),
        ("A toddler crawls on all fours across the rug.", [("A toddler", "across", "the rug")]),
        ("A man kneels on one knee in front of the altar.", [("A man", "in front of", "the altar")]),
        ("Rough textures carved on the vase catch the eye.", []),
        ("The painting emphasizes sharp contrasts between the red barn and the blue sky.", []),
        ("Each object keeps its quiet place within this peculiar tableau.", []),
        ("Picture frames hang above the sofa.", [("Picture frames", "above", "the sofa")]),
    ],
    # 76. from the heldout11 blind misses: the part of speech and the subject. A base verb form after adjectives
    # that a determiner leads is the head noun ("a modern digital watch on"), not a past verb ("The detective
    # stood"); "these" alone is a pronoun; "back and forth" is an adverb after its verb; the picture's own words lead
    # no compound ("The scene pulses with"); a "while" + participle clause is the main clause's subject's; "that"
    # after a worn thing is the worn thing's, not its wearer's; a plural text noun names a list of quotes
    "part_of_speech_and_subjects_heldout11": [
        ("He wears a modern digital watch on his wrist.", [("a modern digital watch", "on", "his wrist")]),
        ("The detective stood in the foreground.", [("The detective", "in the foreground", None)]),
        ("Below these, the boxes are stacked neatly.", [("the boxes", "Below", "these")]),
        ("His gaze drifts back and forth between the two doors.", []),
        ("A pendulum swings back and forth above the floor.", [("A pendulum", "above", "the floor")]),
        ("The scene pulses with bright sparks around the ruins.", []),
        ("The closed umbrella stands upright while propped beside the old chair.",
         [("The closed umbrella", "beside", "the old chair")]),
        ("He dances in a loose shirt that drapes over his shoulders.", [("a loose shirt", "over", "his shoulders")]),
        ("A kettle catches the light in bright arcs that dance across its lid.", []),
        ('Below the logo, the phrases "Fresh" and "Local" are stacked neatly.',
         [('the phrases "Fresh" and "Local"', "Below", "the logo")]),
        ('The words "Rest," "Read," and "Dream" sit on the top shelf.',
         [('The words "Rest," "Read," and "Dream"', "on", "the top shelf")]),
    ],
    # 77. from the heldout11 blind misses: entities and uses. An of-complement of kind in the singular ("a box of
    # pyramidal shape"); "at the base" without "of" is a position in the picture; "in the mid-ground"; a look on
    # one's own face, an aim ("intent on reaching"), a metaphor ("a symphony of water around") place nothing; what a
    # picture shows, then a placing participle, is placed ("The poster shows a lamp, placed beside a chair")
    "entities_and_uses_heldout11": [
        ("Within the hall, a small jewellery box of square shape gleams.",
         [("a small jewellery box", "Within", "the hall")]),
        ('At the base, "Yes" is printed in red.', [('"Yes"', "At the base", None)]),
        ("At the base of the tower, a cat sleeps.", [("a cat", "At the base of", "the tower")]),
        ("In the mid-ground are several small huts.", [("several small huts", "In the mid-ground", None)]),
        ("He stands by the window with a tense expression on his face.", [("He", "by", "the window")]),
        ("Intent on reaching the top, a goat climbs above the rocks.", [("a goat", "above", "the rocks")]),
        ("The rain turns the street into a symphony of sound around the statue.", []),
        ("The poster shows a lamp, placed beside a reading chair.", [("a lamp", "beside", "a reading chair")]),
    ],
    # 78. from the heldout12 blind misses: words and subjects. "It's" is a pronoun and "is"; an -ed adjective that
    # leads a sentence's plural subject ("Textured waves curl"); two bare verbs of a plural subject ("peck and
    # cluck at"); an -s noun before a postpositive adjective ("faces visible under"); a listed noun form as a
    # singular subject's verb before its object ("a large window frames the scene"); a phrase right after an
    # opening dash is the noun's before it; a relative after coordinated nouns is the last one's; a possessive-led
    # clause subject after a fronted phrase ("its broken lid is shattered"), not an aside ("its canopy rustling")
    "words_and_subjects_heldout12": [
        ("It's lying on a vintage suitcase.", [("It", "on", "a vintage suitcase")]),
        ("He's standing beside the door.", [("He", "beside", "the door")]),
        ("Weathered stones lie beside the path.", [("Weathered stones", "beside", "the path")]),
        ("Four noisy geese waddle and honk near the gate.", [("Four noisy geese", "near", "the gate")]),
        ("They wear suits, with their calm faces visible under glass helmets.",
         [("their calm faces", "under", "glass helmets")]),
        ("Behind the sofa, a tall window frames the garden.", [("a tall window", "Behind", "the sofa")]),
        ("On the stage, a violin\u2014surrounded by two drums\u2014waits.",
         [("a violin", "On", "the stage"), ("a violin", "surrounded by", "two drums")]),
        ("She wears a long coat and a scarf that wraps around her neck.", [("a scarf", "around", "her neck")]),
        ("On the shelf next to it, its missing lid is lying on its side.",
         [("its missing lid", "On", "the shelf"), ("its missing lid", "next to", "it")]),
        ("Beside the bed, his old dog sleeps.", [("his old dog", "Beside", "the bed")]),
        ("In front of a tree, its canopy rustling, a hammock sways.", [("a hammock", "In front of", "a tree")]),
        ("On the table, its surface gleams.", []),
        ("The poster features the old mill\u2014a tall wooden building with a wheel\u2014at the center.",
         [("the old mill", "at the center", None)]),
    ],
    # 79. from the heldout12 blind misses: places and uses. An idiom noun with a modifier is a thing ("on a rough
    # wooden board"; "on board" is not); "at the top center" and "at the peak of"; a measure ("ninety degrees to the
    # right"), hands "behind his back" and a point of contact place nothing; text along a sleeve is placed (as the
    # buckles on the sleeves, group 56)
    "places_and_uses_heldout12": [
        ("The cup rests steadily on a rough, weathered wooden board.",
         [("The cup", "on", "a rough, weathered wooden board")]),
        ("The passengers are on board.", []),
        ("At the top center of the poster, the words 'Hello' are printed.",
         [("the words 'Hello'", "At the top center of the poster", None)]),
        ("A star sits at the peak of the tree.", [("A star", "at the peak of", "the tree")]),
        ("A pawn is bowing ninety degrees to the right.", []),
        ("The man stands with his hands behind his back.", []),
        ('The word "Team" runs along the right sleeve.', [('The word "Team"', "along", "the right sleeve")]),
        ("At the point of contact between its foot and the glass, a crack appears.", []),
        ("In the distance, tall pines sway under the dazzling light show.", [("tall pines", "In the distance", None)]),
    ],
    # 80. from the heldout13 blind misses. A clause-initial singular noun and an unlisted -s word with no other verb
    # in the clause: the -s word is the verb ("The fog drifts over", "an old brass lantern dangles above"), not in
    # an object ("casting light on its fur and the paint stains on the floor") nor before a later verb ("The coffee
    # beans around it smiled"); a participle before "asleep"; "high" inside a noun phrase; positions of a part of the
    # picture or a thing ("in the lower part of the frame", "near the top edge", "in the deep background of the
    # scene"), "in close proximity to", "off-center"; "stands guard before"; "by" between a subject and its verb;
    # eating "on" a thing is no place
    "heldout13": [
        ("The fog drifts over the harbour, and gulls circle above it.",
         [("The fog", "over", "the harbour"), ("gulls", "above", "it")]),
        ("On the right, an old brass lantern dangles above a wooden crate.",
         [("an old brass lantern", "On the right", None), ("an old brass lantern", "above", "a wooden crate")]),
        ("Light falls on its fur and the paint stains on the floor.", [("the paint stains", "on", "the floor")]),
        ("The coffee beans around it smiled.", [("The coffee beans", "around", "it")]),
        ("A grey cat is peacefully lying asleep in the center of the frame.",
         [("A grey cat", "in the center of the frame", None)]),
        ("A row of high towers stands beside the river.", [("A row of high towers", "beside", "the river")]),
        ("A pair of red high heels sits at the lower left.", [("A pair of red high heels", "at the lower left", None)]),
        ("Slightly off-center in the lower part of the frame, a heron stands on a rock.",
         [("a heron", "in the lower part of the frame", None), ("a heron", "on", "a rock")]),
        ('"Sale" is printed near the top edge.', [('"Sale"', "near the top edge", None)]),
        ("In the deep background of the scene, a lighthouse glows.",
         [("a lighthouse", "In the deep background of the scene", None)]),
        ("The keys lie in close proximity to the phone.", [("The keys", "in close proximity to", "the phone")]),
        ("A lone knight stands guard before the gate.", [("A lone knight", "before", "the gate")]),
        ("The thin curtains by the window sway gently.", [("The thin curtains", "by", "the window")]),
        ("A rabbit sits gnawing on a carrot.", []),
    ],
}


@pytest.mark.parametrize("pattern", list(CASES))
def test_issue_pattern(pattern):
    check_pattern(CASES, pattern)


def test_perturbations_of_the_patterns_are_well_formed_and_change_one_relation():
    check_perturbations(CASES)
