"""rag/attribution.py: 'What did X say (about Y)?' parsed, X's statements gathered, relevant ones kept."""
import numpy as np
import pytest

from rag.attribution import (Request, already_quoted, claimed_speaker, compose, misattributed, parse, quoted_by,
                             quoted_words, relevant, said_clause, same_person, saying, statements)
from rag.chunk import chunk_document
from rag.types import Document

ARTICLE = Document(doc_id="a", title="Ties", text=(
    "“These two countries have grown closer,” National Security Council coordinator John Kirby told reporters. "
    "Prices rose in April. "
    "“They chafe at U.S. leadership,” he added. "
    "Brian Hart said Beijing wants a constructive role. "
    "Kirby said Putin sees Xi as a lifeline."))
SYNDICATED = Document(doc_id="b", title="Ties again", text=(
    "“These two countries have grown closer,” National Security Council coordinator John Kirby told reporters."))


@pytest.mark.parametrize("question, expected", [
    ("What did Kirby say?", Request("Kirby")),
    ("What did John Kirby say about Putin?", Request("John Kirby", "Putin")),
    ("What else did Kirby say?", Request("Kirby", more=True)),
    ("Did Kirby say anything about Iran?", Request("Kirby", "Iran")),
    ("What has the Kremlin said about the talks?", Request("Kremlin", "the talks")),
    ("What did they say?", None),  # nobody named
    ("What did Bonnie Glaser say Xi and Putin share?", Request("Bonnie Glaser", "Xi and Putin share", clause=True)),
    ("What did Xi tell Putin about Ukraine?", Request("Xi", "Ukraine")),  # the listener is not the topic
    ("What did Li Qiang say to Mishustin?", Request("Li Qiang", "Mishustin", clause=True)),
    ("What did Mishustin tell him?", Request("Mishustin")),
    ("Who is Kirby?", None),
])
def test_parse(question, expected):
    assert parse(question) == expected


@pytest.mark.parametrize("question, words", [
    ("Who said Putin sees Xi as “a lifeline of sorts”?", "a lifeline of sorts"),
    ('Who told reporters that the countries "chafe at U.S. leadership"?', "chafe at U.S. leadership"),
    ("Who called Xi 'a dear friend'?", "a dear friend"),  # single quotes
    ("Who said Putin sees Xi as ‘a lifeline of sorts’?", "a lifeline of sorts"),
    ("Who is Xi's 'dear friend'?", "dear friend"),  # an apostrophe is no quote mark
    ("Who was Xi's guest at Putin's dacha?", ""),
    ("Who said “yes”?", ""),  # one word is no quote to look up
    ("Who is Kirby?", ""),
    ("What did Kirby call “burgeoning”?", ""),  # not a 'who' question
])
def test_quoted_words(question, words):
    assert quoted_words(question) == words


def test_quoted_by_finds_the_speaker_of_the_words_in_any_spacing_and_quote_marks():
    chunks = chunk_document(ARTICLE, 120, 1) + chunk_document(SYNDICATED, 120, 1)
    found = quoted_by('These two countries have  grown "closer', chunks)
    assert [(s.speaker, s.text) for s in found] == [("John Kirby", ARTICLE.text.split(" Prices")[0])]
    assert [s.speaker for s in quoted_by("chafe at U.S. leadership", chunks)] == ["John Kirby"]  # 'he added'
    assert quoted_by("Prices rose in April", chunks) == []  # nobody is quoted saying it


@pytest.mark.parametrize("claim, who", [
    ("Li Qiang told Mishustin that ties were good.", "Li Qiang"),
    ("Bonnie Glaser, a fellow at a think tank in Washington, said they share interests.", "Bonnie Glaser"),
    ("Xi told Putin that China “is willing to work with Russia,” according to Xinhua.", "Xi"),
    ("“We will not,” Secretary of State Antony Blinken said.", "Antony Blinken"),
    ("Ties were good, the Kremlin said.", "Kremlin"),  # an institution speaks for itself
    ("Ties were good, Russian officials said.", ""),  # a role: whose officials, nobody named
    ("They called the plan “a stalling tactic, Kirby said”.", ""),  # words inside a quote name nobody
    ("Ties were good.", ""),
])
def test_claimed_speaker(claim, who):
    assert claimed_speaker(claim) == who


UNNAMED = ("Earlier in the day, the Russian leader, who is sanctioned by the US, told China’s Premier Li Qiang "
           "that relations were at an “unprecedented high level.”")


@pytest.mark.parametrize("claim, sentence, speaker, passage, wrong", [
    # spoken to, not speaking
    ("Li Qiang told Mishustin that relations were high.", UNNAMED, "", UNNAMED, True),
    # somebody else is recorded as the speaker
    ("Glaser said the plan is a stalling tactic.", "Blinken said the plan was “a stalling tactic.”", "Blinken", "", True),
    # nobody speaks in the sentence
    ("Glaser said both reject the U.S. model.", "Xi and Putin both reject the U.S. model.", "", "", True),
    ("Glaser said they share interests.", "“They share interests,” said Bonnie Glaser.", "Bonnie Glaser", "", False),
    ("Xinhua said Xi spoke.", "Xi spoke, according to Xinhua.", "", "", False),  # 'according to' is no listener
    ("Xi told Putin that peace matters.", "In a call, Xi told Putin that peace matters.", "", "", False),
    # an unnamed speaker ('the Russian leader') in a passage that names Mishustin may be him
    ("Mishustin told Li Qiang that relations were high.", UNNAMED, "", "Mikhail Mishustin arrived. " + UNNAMED, False),
    ("Mishustin told Li Qiang that relations were high.", UNNAMED, "", UNNAMED, True),
    ("Relations were high.", UNNAMED, "", "", False),  # no speaker claimed: nothing to check
])
def test_misattributed(claim, sentence, speaker, passage, wrong):
    assert misattributed(claimed_speaker(claim), sentence, speaker, passage) is wrong


def test_same_person():
    assert same_person("Kirby", "John Kirby") and same_person("John Kirby", "Kirby")
    assert not same_person("Xi", "Ximena Li") and not same_person("", "John Kirby")


def test_statements_are_every_sentence_attributed_once_in_article_order():
    chunks = chunk_document(ARTICLE, 120, 1) + chunk_document(SYNDICATED, 120, 1)
    found = statements(Request("Kirby"), chunks)
    texts = [s.text for s in found]
    assert len(texts) == 3  # the syndicated copy of the first quote is not repeated
    assert "grown closer" in texts[0] and "chafe" in texts[1] and "lifeline" in texts[2]
    assert all(s.chunk.text[s.start:s.end] == s.text for s in found)
    assert not any("Hart" in t or "Prices" in t for t in texts)


def fake_embed(texts):  # 'Putin' close to sentences naming Putin, far from the rest
    return np.array([[1.0, 0.0] if "Putin" in t or "lifeline" in t else [0.0, 1.0] for t in texts])


def test_relevant_keeps_statements_on_the_topic_only():
    found = statements(Request("Kirby"), chunk_document(ARTICLE, 120, 1))
    kept = relevant("Putin", found, fake_embed)
    assert [s.text for s in kept] == ["Kirby said Putin sees Xi as a lifeline."]
    far = lambda texts: np.array([[1.0, 0.0]] + [[0.0, 1.0]] * (len(texts) - 1))  # noqa: E731
    assert relevant("North Korea", found, far) == []
    # what X said a thing does: the quote says 'they', not the names, so its other words decide
    assert [s.text for s in relevant("Xi and Putin chafe", found, far)] == ["Kirby said Putin sees Xi as a lifeline."]
    assert [s.text for s in relevant("Xi and Putin chafe", found, far, clause=True)] == [
        "“They chafe at U.S. leadership,” he added."]


def test_already_quoted_statements_are_left_out():
    found = statements(Request("Kirby"), chunk_document(ARTICLE, 120, 1))
    text, _ = compose(found[:1])
    rest = already_quoted(found, [{"role": "assistant", "content": text}])
    assert [s.text for s in rest] == [s.text for s in found[1:]]


def test_compose_quotes_each_statement_verbatim_with_its_marker():
    found = statements(Request("Kirby"), chunk_document(ARTICLE, 120, 1))
    text, hits = compose(found)
    lines = text.split("\n")
    assert len(lines) == 3 and all(line.startswith("- John Kirby: ") for line in lines)
    for line, s in zip(lines, found):
        n = int(line.rsplit("[", 1)[1].split("]")[0])
        assert hits[n - 1].chunk == s.chunk
        assert s.text.rstrip(".") in line


@pytest.mark.parametrize("question, clause", [
    ("Which Chinese officials said China and Russia firmly support each other?", "China and Russia firmly support each other"),
    ("Who said that the talks were constructive?", "the talks were constructive"),
    ("Who warned Beijing could send arms?", "Beijing could send arms"),
    ("Who said “a lifeline of sorts”?", ""),  # quoted: quoted_words
    ("Who is Kirby?", ""),
    ("What did Kirby say?", ""),
])
def test_said_clause(question, clause):
    assert said_clause(question) == clause


SAYINGS = Document(doc_id="s", title="Ties", text=(
    "“I will visit Moscow,” Xi said. "
    "“China and Russia firmly support each other on core interests,” Xi told Mishustin. "
    "“Both sides support each other on their core interests,” Yang Jiechi said. "
    "“We do not support each other on core interests,” Brian Hart said. "
    "China and Russia support each other on core interests, the Kremlin said. "
    "Kirby said prices rose in April."))


def test_saying_finds_whoever_the_articles_record_saying_it_and_agreeing():
    from rag.cite import agrees
    from tests.conftest import HashEmbedder
    found = saying("China and Russia support each other on core interests", chunk_document(SAYINGS, 2000),
                   HashEmbedder().embed, agrees)
    # an institution speaks as a person does ('the Kremlin said'): its words are recorded as its own
    assert {s.speaker for s in found} == {"Xi", "Yang Jiechi", "Kremlin"}
    # Hart says the opposite ('not'), Kirby speaks of something else
    assert saying("bananas are yellow fruit", chunk_document(SAYINGS, 2000), HashEmbedder().embed, agrees) == []
    # one word besides names says too little to match a statement by: the model answers
    assert saying("Xi would visit", chunk_document(SAYINGS, 2000), HashEmbedder().embed, agrees) == []
