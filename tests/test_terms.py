"""rag/terms.py: names, numbers and dates of a question, and mentions under any spelling."""
import pytest

from rag.terms import (MARKER, POINTS_BACK, REFERS_BACK, dates, inflected_in, initials, marker_numbers, mentions, names,
                       numbers, phrase_initials, stem, subjects, tokenize, variants)


@pytest.mark.parametrize("question, expected", [
    ("Which country was Xi set to visit before the SCO summit?", ["Xi", "SCO"]),
    ("What is the United States worried that Beijing could give Russia?", ["United States", "Beijing", "Russia"]),
    ("How long did Xi and Putin's Wednesday phone call last?", ["Xi", "Putin", "Wednesday"]),
    ("What did the Shanghai Cooperation Organization do?", ["Shanghai Cooperation Organization"]),
    ("Who won the 2022 FIFA World Cup?", ["FIFA World Cup"]),
    ("what did kirby say?", []),  # typed in lower case: no name is pinned down, nothing refused for it
    ("Who is he?", []),
])
def test_names(question, expected):
    assert names(question) == expected


@pytest.mark.parametrize("question, expected", [
    ("Approximately how many points are in the plan?", []),  # sentence case, not a name
    ("Roughly when did Putin arrive? Briefly, why?", ["Putin"]),
    ("Prime Minister Mishustin said what?", ["Prime Minister Mishustin"]),  # a run of capitals stays a name
    ("SCO members met where?", ["SCO"]),  # an acronym stays a name
    ("What did “Kirby” say?", ["Kirby"]),
])
def test_names_without_the_opening_word(question, expected):
    assert names(question, opening=False) == expected


@pytest.mark.parametrize("text, name, expected", [
    ("Leaders met at the Shanghai Cooperation Organization summit.", "SCO", True),
    ("U.S. officials are worried.", "United States", True),
    ("Officials in America are worried.", "United States", True),  # a general alias, not a corpus one
    ("Chinese leader Xi Jinping spoke.", "Xi", True),
    ("Prime Minister Mikhail Mishustin spoke.", "Russian Prime Minister Mikhail Mishustin", True),
    ("China’s exports rose.", "Japan", False),
    ("The World Health Organization met.", "SCO", False),
    ("Xinhua International reported.", "Xi", False),  # initials only count for acronyms
    ("North of the border, Korea...", "North Korea", True),  # both words present: counted (lenient by design)
    ("The Korean peninsula.", "North Korea", False),
    ("China said so.", "Chinese", True),  # a demonym and its country
    ("Ukraine was invaded.", "Ukrainian", True),
    ("Kirby spoke.", "Kremlin", False),
    ("President Volodymyr Zelensky spoke.", "Zelenskyy", True),  # another transliteration: one edit
    ("Mishustin spoke.", "Mishustn", True),  # a typo: one edit
    ("Troops left Iraq.", "Iran", False),  # short names must match exactly
    ("Slovenia signed.", "Slovakia", False),  # two edits on an 8-letter name: another country
    ("President Volodymyr Zelensky spoke.", "Volodymyr Zelenskyy", True),
    ("The Center for Strategic and International Studies said.", "CSIS", True),
    ("The Comité Sportif International met.", "CSIS", False),  # 'CSIS' is not the plural of 'CSI'
    ("CBS News reported.", "CBS", True),
    ("The Central Bank said.", "CBS", False),
])
def test_mentions(text, name, expected):
    assert mentions(text, name) is expected


def test_initials():
    assert initials("Shanghai Cooperation Organization") == "sco"
    assert initials("U.S.") == "us"
    assert initials("Bank of England") == "be"
    assert initials("Kirby") == ""
    assert initials("Group of Seven") == "g7" and initials("Group of 20") == "g20" and initials("G7") == "g7"


def test_the_initials_of_every_capitalised_phrase_in_a_corpus():
    found = phrase_initials(["The International Criminal Court issued a warrant.", "Leaders of the Group of Seven met."])
    assert {"icc", "g7"} <= found and "iw" not in found
    assert mentions("Leaders of the Group of Seven met.", "G7")


@pytest.mark.parametrize("text, acronym", [
    ("Leaders at the G-7 summit met.", "G7"),  # an acronym written with a hyphen, either way round
    ("Leaders at the G7 summit met.", "G-7"),
    ("Hart, of the Center for Strategic and International Studies, said", "CSIS"),  # 'and' inside the name
    ("the UN, as well as the Group of 20, as places to collaborate", "G20"),  # a number ends the name
])
def test_acronyms_spelled_out_or_hyphenated_are_found_in_a_text_and_across_a_corpus(text, acronym):
    assert mentions(text, acronym)
    assert any(v in phrase_initials([text]) for v in variants(acronym))
    assert not mentions("Leaders at the G-8 summit met.", acronym)


def test_numbers_and_dates():
    assert numbers("talks of four and a half hours, 153% and 1,200 people") == {"4", "153", "1200"}
    assert numbers("which one of them in 2010?", words=False) == {"2010"}
    assert dates("On Monday in April, not in May") == {"monday", "april"}  # 'may' is too often a verb


def test_unnamed_leaves_out_the_words_of_names():
    from rag.terms import unnamed
    assert unnamed("What did Xi and Putin call each other?") == {"call", "each"}
    assert unnamed("Xi Jinping") == set()


def test_marker_numbers_reads_every_marker_spelling():
    groups = [m[1] for m in MARKER.finditer("A [1]. B [2, 3]. C [4,5]. D [12].")]
    assert [marker_numbers(g) for g in groups] == [[1], [2, 3], [4, 5], [12]]


@pytest.mark.parametrize("text, names", [
    ("What did John Kirby say about Xi?", ["John Kirby", "Xi"]),
    ("Who is Bonnie Glaser?", ["Bonnie Glaser"]),
    ("What did Xi and Putin agree on?", ["Xi and Putin"]),
    ("Where is Bonnie Glaser’s think tank?", ["Bonnie Glaser"]),
    ("How much did exports grow?", []),
])
def test_subjects(text, names):
    assert subjects(text) == names


def test_one_tokenizer_one_stemmer():
    assert tokenize("What did Kirby say about China’s exports to the U.S.?") == ["kirby", "china", "export", "us"]
    assert stem("called") == "call" and stem("meeting") == "meet" and stem("is") == "is"
    assert inflected_in("call", {"calling"}) and inflected_in("agree", {"agreed"}) and not inflected_in("call", {"cal"})


def test_words_that_refer_back():
    assert REFERS_BACK.search("What else did he say?") and not REFERS_BACK.search("Who is Kirby?")
    assert POINTS_BACK.search("when did it happen") and not POINTS_BACK.search("What else happened?")
