"""Every failure pattern of issue 17 as a case: each sentence here is written for the pattern (not taken from the gold
file), with the relations a reader expects (subject | phrase | object, entities whole)."""

from __future__ import annotations

import pytest
from relation_patterns import check_pattern, check_perturbations, triples

from zoo.data.relations import Span, find_relations
from zoo.data.sentence_check import sentence_problems


CASES = {
    # 1. words ending in -ing/-ed/-ly are not always verbs
    "ing_ed_ly": [
        ("A painting hangs above a butterfly.", [("A painting", "above", "a butterfly")]),
        ("A dining table is to the left of a potted plant.", [("A dining table", "to the left of", "a potted plant")]),
        ("a parking meter next to a striped rug", [("a parking meter", "next to", "a striped rug")]),
        ("The black headphones are on the right of the sleeping puppy.",
         [("The black headphones", "on the right of", "the sleeping puppy")]),
        ("A lily floats beside a frosted cake.", [("A lily", "beside", "a frosted cake")]),
        ("A cat sleeping quietly under the kitchen table.", [("A cat", "under", "the kitchen table")]),
    ],
    # 2. relation phrases that are not a bare "on"
    "phrases": [
        ("A bell on the bottom of a dog house.", [("A bell", "on the bottom of", "a dog house")]),
        ("A lamp on side of a bed.", [("A lamp", "on side of", "a bed")]),
        ("Two candles stand on either side of a mirror.", [("Two candles", "on either side of", "a mirror")]),
        ("A kite is on the top of a tree.", [("A kite", "on the top of", "a tree")]),
    ],
    # 3. "of" and "with" do not make the outer phrase the entity
    "of_with": [
        ("a photo of a dog right of a teddy bear", [("a dog", "right of", "a teddy bear")]),
        ("A close-up view of a patty on a bun.", [("a patty", "on", "a bun")]),
        ("A photograph of two mugs below a shelf.", [("two mugs", "below", "a shelf")]),
        ("A man with a beard stands behind a counter.", [("A man", "behind", "a counter")]),
        ("A girl stands with a kite behind her.", [("a kite", "behind", "her")]),
        ("A pile of books sits next to a cup of tea.", [("A pile of books", "next to", "a cup of tea")]),
    ],
    # 4. uses that are not spatial relations between objects
    "not_spatial": [
        ("A castle stands tall against a blue sky.", []),
        ("A red scarf, in contrast against the grey coat.", []),
        ("A farmer rests under the sun.", []),
        ("A lamp casts a warm glow on the wall.", []),
        ("An owl sits gazing upon the moon.", []),
        ("A student is focusing on her homework.", []),
        ("A cat is not under the table.", []),
        ("There is no bridge over the river.", []),
        ("A bicycle is leaning against a brick wall.", []),  # contact: never labelled (group 69)
    ],
    # 5. comma-separated adjectives stay in the noun phrase
    "adjective_lists": [
        ("A vase stands next to sleek, dark wooden cabinets.", [("A vase", "next to", "sleek, dark wooden cabinets")]),
        ("A tiny, fluffy kitten sleeps beside a large, old armchair.",
         [("A tiny, fluffy kitten", "beside", "a large, old armchair")]),
        ("A small and shy fox hides behind a mossy log.", [("A small and shy fox", "behind", "a mossy log")]),
    ],
    # 6. relations that were missed
    "missed": [
        ("A cottage surrounded by tall pine trees.", [("A cottage", "surrounded by", "tall pine trees")]),
        ("Children dance around a bonfire.", [("Children", "around", "a bonfire")]),
        ("A wooden bridge stretches across the river.", [("A wooden bridge", "across", "the river")]),
        ("A star is below and to the right of the moon.",
         [("A star", "below", "the moon"), ("A star", "to the right of", "the moon")]),
        ("A violinist stands between the pianos.", [("A violinist", "between", "the pianos")]),
        ("A lamp is between a sofa and a bookcase.", [("A lamp", "between", "a sofa", "a bookcase")]),
        ("A dog sits in front of two chairs and a table.",
         [("A dog", "in front of", "two chairs"), ("A dog", "in front of", "a table")]),
        ("On its left is a small sapling.", [("a small sapling", "On its left", None)]),
    ],
    # 6b. coordinated entities: lists of subjects and objects, one relation each; clauses and asides are not lists
    "coordinated": [
        ("Two dogs and a cat sit behind a fence.", [("Two dogs", "behind", "a fence"), ("a cat", "behind", "a fence")]),
        ("A dog sits next to a bowl, a ball, and a leash.",
         [("A dog", "next to", "a bowl"), ("A dog", "next to", "a ball"), ("A dog", "next to", "a leash")]),
        ("Next to the sofa, a lamp, a plant and a chair are standing.",
         [("a lamp", "Next to", "the sofa"), ("a plant", "Next to", "the sofa"), ("a chair", "Next to", "the sofa")]),
        ("A cat sleeps on a mat and a dog and a cow stand behind a gate.",
         [("A cat", "on", "a mat"), ("a cow", "behind", "a gate")]),
        ("A tree stands; behind it, an old bench, its paint faded and worn, sits in silence.",
         [("an old bench", "behind", "it")]),
        ("On the left sits a radio, its dial and knob gleaming.", [("a radio", "On the left", None)]),
    ],
    # 6c. more noun phrases: "one" as a head, number words, a position word that modifies a noun
    "more_noun_phrases": [
        ("A red kettle is next to an older one.", [("A red kettle", "next to", "an older one")]),
        ("On a green hill, forty white goats are grazing.", [("forty white goats", "On", "a green hill")]),
        ("A lamp sits on the bottom shelf of the cabinet.", [("A lamp", "on", "the bottom shelf of the cabinet")]),
        ("A mug sits on the left, near a jar.", [("A mug", "on the left", None), ("A mug", "near", "a jar")]),
    ],
    # 7. (found on the third blind part) word forms: an -s verb after a singular noun phrase, irregular past tenses,
    # -ed participles after an -al noun, comparatives in adjective lists, a possessed head, a time adverb
    "word_forms": [
        ("A sailor stands poised beside a large anchor.", [("A sailor", "beside", "a large anchor")]),
        ("Three ducks swam alongside a small boat.", [("Three ducks", "alongside", "a small boat")]),
        ("An official dressed in black stands behind a podium.", [("An official", "behind", "a podium")]),
        ("A lamp stands beside a larger, newer bookcase.", [("A lamp", "beside", "a larger, newer bookcase")]),
        ("A smaller, older wooden box sits next to a lamp.", [("A smaller, older wooden box", "next to", "a lamp")]),
        ("A crab rests beside several small, sparkling shells.",
         [("A crab", "beside", "several small, sparkling shells")]),
        ("A small crab sits on the turtle's back.", [("A small crab", "on", "the turtle's back")]),
        ("A cyclist waits in front of the old station late in the evening.",
         [("A cyclist", "in front of", "the old station")]),
    ],
    # 8. an "of" complement names what the head is a part or an amount of (kept), not a quality (left out); a region
    # noun inside a position phrase ("at the center point of"); "upon" as "on"
    "of_complements": [
        ("A beetle crawls along the narrow handle of a rusty shovel.",
         [("A beetle", "along", "the narrow handle of a rusty shovel")]),
        ("A great number of paper lanterns hang above the narrow street.",
         [("A great number of paper lanterns", "above", "the narrow street")]),
        ("A large number of glass beads spill out across the floor.",
         [("A large number of glass beads", "across", "the floor")]),
        ("A feline of great poise sits beside a lamp of the same height.", [("A feline", "beside", "a lamp")]),
        ("Two pigeons sit at the center point of the plaza.", [("Two pigeons", "at the center point of", "the plaza")]),
        ("The kitten sleeps upon the edge of the sofa.", [("The kitten", "upon the edge of", "the sofa")]),
    ],
    # 9. subjects: what is worn does not do the verb after it, nor what something is made of; a place after "V-ing in"
    # is the verb's subject's ("growing in a meadow on the right of"); a plural verb after "X in/with ... and Y" makes a
    # list of subjects
    "subjects_past_carriers": [
        ("A man in a grey coat standing near a lamppost.", [("A man", "near", "a lamppost")]),
        ("A fox sleeps in a basket with two small acorns scattered beside it.",
         [("two small acorns", "beside", "it")]),  # "with X V-ed": X does the verb
        ("A giant composed of mossy rocks sits on a hill.", [("A giant", "on", "a hill")]),
        ("Ferns growing in a meadow on the right of an old barn.", [("Ferns", "on the right of", "an old barn")]),
        ("A girl in a red coat and a boy with a kite stand on a hill.",
         [("A girl", "on", "a hill"), ("a boy", "on", "a hill")]),
        ("A girl with a red hat and a blue scarf stands next to a fence.", [("A girl", "next to", "a fence")]),
    ],
    # 10. more uses that are not spatial: rendered text "on it", a backdrop after "on", a shape of light that is cast
    "not_spatial_more": [
        ('A picture of a lighthouse standing on a cliff, with the words on it: "Sea", "Wind".',
         [("a lighthouse", "on", "a cliff")]),
        ("A photo of three candles displayed on a black background.", []),
        ("The lamp casts a bright circle on the kitchen floor.", []),
        ("Amid the quiet scene, a heron waits beside a reed.", [("a heron", "beside", "a reed")]),
        ("On a narrow alley lit by lanterns, the ground is slick with rain.", []),
        ("On the eve of the festival, a lantern hangs above the gate.", [("a lantern", "above", "the gate")]),
    ],
    # 11. fronted phrases: an object with a participle ("built of"), a "where" clause, an aside whose adjectives are
    # comma-separated; an aside between dashes before the verb
    "fronted_and_asides": [
        ("Directly above a tower built of red bricks, a silver kite is drifting.",
         [("a silver kite", "Directly above", "a tower")]),
        ("Next to the fountain, where children splash and play, an old man feeds pigeons.",
         [("an old man", "Next to", "the fountain")]),
        ("Beneath the oak, with its thick, gnarled roots spreading wide, sits a tiny mushroom.",
         [("a tiny mushroom", "Beneath", "the oak")]),
        ("The smaller dog\u2014shy and trembling\u2014is partially hidden behind the taller one.",
         [("The smaller dog", "hidden behind", "the taller one")]),
        ("Behind it, old tractors and a rusty plow are parked.",
         [("old tractors", "Behind", "it"), ("a rusty plow", "Behind", "it")]),
    ],
    # 12. positions in a corner or a plane of the picture; "X on A and Y on B" is two relations, not "A and Y"; what
    # is a thing though its noun can name the picture ("a wooden frame"); a thing made of light; shadows and similes
    "more_positions_and_things": [
        ("A kite flies in the upper right of the picture.", [("A kite", "in the upper right of the picture", None)]),
        ("Two vases stand in the foreground of the painting.",
         [("Two vases", "in the foreground of the painting", None)]),
        ("A diorama scene with a windmill on the left and a barn on the right.",
         [("a windmill", "on the left", None), ("a barn", "on the right", None)]),
        ("A long table, with white cups on the red cloth and green bowls on the blue cloth.",
         [("white cups", "on", "the red cloth"), ("green bowls", "on", "the blue cloth")]),
        ("A wooden frame hangs on the wall above a piano.",
         [("A wooden frame", "on", "the wall"), ("A wooden frame", "above", "a piano")]),
        ("A girl chases a ball of light floating in front of her.", [("a ball of light", "in front of", "her")]),
        ("A boy stands still, partially obscured by the long shadows of the trees.", []),
        ("A lamp stands in the corner, like a sentinel posted at the foot of the bed.",
         [("A lamp", "in the corner", None)]),
        ("A small mug with a chipped rim hangs on the side.", [("A small mug", "on the side", None)]),
        ("The taller boy is hidden behind the other.", [("The taller boy", "hidden behind", "the other")]),
        ("Two kites fly one behind the other.", []),
        ("A rabbit rests beside the mossy, sun-drenched stone wall.",
         [("A rabbit", "beside", "the mossy, sun-drenched stone wall")]),
        ("Inside a small but cozy cabin, an old cat is sleeping.",
         [("an old cat", "Inside", "a small but cozy cabin")]),
        ("A brown owl that perches above the door watches the hall.", [("A brown owl", "above", "the door")]),
        ("A woman with curly hair in a bun and a green scarf standing near a tram.", [("A woman", "near", "a tram")]),
        ("A letter has fallen from her desk, lying open beside the lamp.", [("A letter", "beside", "the lamp")]),
    ],
    # 13. "by" and "off" as places (fronted, or after a verb of position), not an agent, a means, a particle, a motion
    "by_and_off": [
        ("By the old well, a tired donkey is resting.", [("a tired donkey", "By", "the old well")]),
        ("A fisherman sits by the river.", [("A fisherman", "by", "the river")]),
        ("The porch is lit by a lantern.", []),
        ("Startled by the thunder, the horses run across the field.", [("the horses", "across", "the field")]),
        ("One duck swims on the pond while another duck stays off the pond.",
         [("One duck", "on", "the pond"), ("another duck", "off", "the pond")]),
        ("A girl turns off the lamp.", []),
        ("Two kittens sit side by side on a rug.", [("Two kittens", "on", "a rug")]),
    ],
    # 14. "left"/"right"/"top" before a noun are adjectives: "on the left shelf" is "on" + a noun phrase
    "position_adjectives": [
        ("A clock hangs on the right wall.", [("A clock", "on", "the right wall")]),
        ("The girl on the left counts the coins.", [("The girl", "on the left", None)]),
        ("A boat is moored on the left bank, and a hut stands on the right.",
         [("A boat", "on", "the left bank"), ("a hut", "on the right", None)]),
    ],
    # 15. "under" a sky, light or weather, also a compound one ("candlelight", "a night sky"), is not a place
    "under_sky_compounds": [
        ("A small village sleeps under a swirling night sky.", []),
        ("Two horses graze under warm candlelight, and a cat naps under a street light.",
         [("a cat", "under", "a street light")]),
    ],
    # 16. negation by a verb of absence and over "or" after "without"; a backdrop is only something to be in front of
    "negated_more": [
        ("The shelf is bare since it lacks a vase standing on it.", []),
        ("A chef in a white apron holds a knife near a dark background.", []),
        ("A vase stands in front of a dark background.", [("A vase", "in front of", "a dark background")]),
        ("A bed stands on the right without any lamps or rugs on the floor.", [("A bed", "on the right", None)]),
        ("A man with no hat and a scarf on his neck.", [("A man", "on", "his neck")]),
    ],
    # 17. nouns of amount or shape keep their "of" complement ("a blanket of snow"), a bare mass noun too
    "amount_nouns": [
        ("A fox sleeps under a blanket of snow.", [("A fox", "under", "a blanket of snow")]),
        ("A stone bench is surrounded by a thick carpet of clover.",
         [("A stone bench", "surrounded by", "a thick carpet of clover")]),
    ],
    # 18. more position phrases: "from behind", "at the entrance of", sides without "of"
    "more_position_phrases": [
        ("A small fox peeks from behind a mossy log.", [("A small fox", "from behind", "a mossy log")]),
        ("A guard waits at the entrance of an old castle.", [("A guard", "at the entrance of", "an old castle")]),
        ("On one side, tulips grow.", [("tulips", "On one side", None)]),
        ("A mug with a star printed on both sides.", [("a star", "on both sides", None)]),
    ],
    # 19. "on its own" is an idiom; the sun or the sky is not on the place of a fronted phrase
    "idioms_and_sky_subjects": [
        ("A toy train runs on its own.", []),
        ("Three apples and a pear were on the menu.", []),
        ("On a quiet lake, the morning sun paints the water pink.", []),
        ("Small lights glow on the bridge, and the moon hangs over the city.",
         [("Small lights", "on", "the bridge"), ("the moon", "over", "the city")]),
    ],
    # 20. a fronted phrase with the subject after the verb and no comma ("On the roof sits a bird"), a chained
    # fronted phrase too, and a possessed head that is also an adverb ("its broad back")
    "inverted_without_comma": [
        ("On the shelf above the sink stands a green vase.",
         [("a green vase", "On", "the shelf"), ("a green vase", "above", "the sink")]),
        ("The whale is calm. On its broad back sits a tiny lighthouse.",
         [("a tiny lighthouse", "On", "its broad back")]),
    ],
    # 21. the subject is carried past a with-phrase before its verb: a quality after "with" is not what is placed,
    # a participle in a list of adjectives and a sentence-initial "-ing" modifier do not cut the phrase
    "subject_past_with_phrase": [
        ("A plain, white card with a soft texture rests quietly on the table.",
         [("A plain, white card", "on", "the table")]),
        ("Old oaks with gnarled, ivy-like roots stand beside the path.", [("Old oaks", "beside", "the path")]),
        ("It is late. Towering pine trees rise along the path.", [("Towering pine trees", "along", "the path")]),
    ],
    # 22. what completes the verb is not the subject: an infinitive ("forced to land next to") and a bare noun
    # ("stand sentinel among")
    "verb_complements": [
        ("The pilot was forced to land next to the old barn.", [("The pilot", "next to", "the old barn")]),
        ("Tiny paper birds stand sentinel among the books.", [("Tiny paper birds", "among", "the books")]),
    ],
    # 23. an absolute position right after a with-phrase places what follows "with" ("a room with a window on the left")
    "with_then_position": [
        ("Please draw a small kitchen with a red stove on the left and a tall fridge on the right.",
         [("a red stove", "on the left", None), ("a tall fridge", "on the right", None)]),
    ],
    # 24. an open compound adjective "<noun> shaped/colored/sized" is part of the noun phrase
    "open_compound_adjectives": [
        ("A star shaped lamp hangs above a bed.", [("A star shaped lamp", "above", "a bed")]),
    ],
    # 25. after a clause start, a bare plural, an unknown word and an object: the word is the verb
    "bare_plural_clause": [
        ("On one side, cats outnumber dogs, making a noisy yard.", [("cats", "On one side", None)]),
    ],
    # 26. irregular participles ("strung", "overlaid") are verbs, not nouns: not in the entity, not a subject
    "irregular_participles_more": [
        ("Thin ropes strung between two poles hold small flags.", [("Thin ropes", "between", "two poles")]),
        ("Overlaid on the map, a red line runs north.", [("a red line", "on", "the map")]),
    ],
    # 27. a quoted name after a noun for text belongs to the entity ('the word "calm"')
    "quoted_names": [
        ('Below the map, the word "calm" is printed.', [('the word "calm"', "Below", "the map")]),
        ("At the top of the card, the letters 'Go home now' appear.",
         [("the letters 'Go home now'", "At the top of", "the card")]),
        ('The words "Keep out" were painted on the door.', [('The words "Keep out"', "on", "the door")]),
    ],
    # 28. the picture itself is not a container ("within the canvas"), and a distinction or difference "between" two
    # things is not a thing between them
    "picture_and_abstract_between": [
        ("A red bag sits within the wide canvas of the scene.", []),
        ("A sharp difference between the tower and the hut is shown, and a cat sleeps inside a box.",
         [("a cat", "inside", "a box")]),
    ],
    # 29. a hyphenated compound that ends in an adjective is an adjective ("off-white", "mirror-smooth")
    "hyphenated_adjectives": [
        ("A plain, off-white greeting card rests quietly on the table.",
         [("A plain, off-white greeting card", "on", "the table")]),
        ("A cube floats above a mirror-smooth, pure white disk.",
         [("A cube", "above", "a mirror-smooth, pure white disk")]),
    ],
    # 30. "One is ..." and "the other ... behind it": one of two things named by a pronoun-like determiner
    "one_and_the_other": [
        ("There are two cats on the sofa. One is in the foreground looking at the other sleeping behind it.",
         [("two cats", "on", "the sofa"), ("One", "in the foreground", None), ("the other", "behind", "it")]),
        ("Two boats sail one behind the other.", []),
    ],
}


@pytest.mark.parametrize("pattern", list(CASES))
def test_issue_pattern(pattern):
    check_pattern(CASES, pattern)


@pytest.mark.parametrize("text", ["Behind the old barn, a red tractor waits.", "Beside him stand three tall soldiers.",
                                  "In the center of the picture is a huge white fox."])
def test_fronted_and_inverted_phrases_find_the_subject_after_them(text):
    found = find_relations(text)
    assert len(found) == 1 and found[0].subject.text in ("a red tractor", "three tall soldiers", "a huge white fox")


def test_asides_and_clauses_do_not_hide_the_subject():
    text = ("A refrigerator, imposing and steadfast, stands in front of a simple plate, while the cat, lost in thought, "
            "watches the rain, keeping its vigil beside the silent, steadfast furniture.")
    assert triples(text) == [("A refrigerator", "in front of", "a simple plate"),
                             ("the cat", "beside", "the silent, steadfast furniture")]


def test_a_broken_swap_is_caught_by_structure_though_re_parsing_accepts_it():
    text = "A dining table is to the left of a couch."
    relation = find_relations(text)[0]
    cut = Span(0, 8, "A dining")  # the old parser's subject: the head noun cut off
    edits = [(cut, relation.object.text), (relation.object, cut.text)]
    broken = "A couch table is to the left of a dining."
    assert find_relations(broken)  # re-parsing alone finds a relation in the broken text
    assert sentence_problems(text, edits, [True, True])
    whole = [(relation.subject, relation.object.text), (relation.object, relation.subject.text)]
    assert sentence_problems(text, whole, [True, True]) == []


@pytest.mark.parametrize("edit, problem", [
    ("a teddy a dog", "two noun phrases"), ("a owl", "article 'a'"), ("on on", "doubled")])
def test_structural_check_names_what_is_broken(edit, problem):
    text = "A cat is to the left of a dog."
    relation = find_relations(text)[0]
    span = relation.phrase if edit == "on on" else relation.object
    problems = sentence_problems(text, [(span, edit)], [span is not relation.phrase])
    assert any(problem in p for p in problems), problems


def test_perturbations_of_the_patterns_are_well_formed_and_change_one_relation():
    check_perturbations(CASES)
