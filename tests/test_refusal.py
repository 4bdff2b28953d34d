"""rag/refusal.py: each refusal decision and its reason."""
import pytest

from rag.cite import Checked
from rag.refusal import (EXPLAIN, after_answer, before_generation, explain, is_refusal, lacks_asked_kind, the_opposite,
                         missing_constraints, unknown_names, unsupported)
from rag.types import Chunk, Citation, Hit, Reason
from typing import get_args


def hit(text: str, title: str = "An article") -> Hit:
    return Hit(chunk=Chunk(id="d:0", doc_id="d", title=title, text=text, start=0, end=len(text)), score=0.1)


HITS = [hit("The U.S. is concerned that Beijing could provide Russia with lethal aid."),
        hit("Xi was due to meet Putin at the Shanghai Cooperation Organization summit in Samarkand."),
        hit("China’s exports to Russia hit a record in April, jumping 153%.")]
VOCAB = {"us", "concerned", "beijing", "russia", "xi", "jinping", "putin", "shanghai", "cooperation", "organization",
         "summit", "samarkand", "china", "export", "april", "kirby", "john"}


def test_every_reason_has_an_explanation():
    assert set(EXPLAIN) == set(get_args(Reason)) - {""}
    assert explain("") == "" and "mentions" in explain("not_in_corpus")


@pytest.mark.parametrize("question, unknown", [
    ("Who won the 2022 FIFA World Cup?", ["FIFA World Cup"]),
    ("What did Kirby say about North Korea?", ["North Korea"]),
    ("What is the United States worried that Beijing could give Russia?", []),  # 'us' is in the corpus
    ("Which country did Xi visit before the SCO summit?", []),  # spelled out in a passage
    ("What position does John Kirby hold?", []),  # lower-case words never refuse
])
def test_unknown_names(question, unknown):
    assert unknown_names(question, HITS, VOCAB) == unknown


def test_an_acronym_spelled_out_anywhere_in_the_corpus_is_known():
    question = "What did the ICC do?"  # the passages retrieved never spell it out; another article does
    assert unknown_names(question, HITS, VOCAB) == ["ICC"]
    assert unknown_names(question, HITS, VOCAB, initials={"icc", "ic", "cc"}) == []
    assert before_generation("Who won the FIFA World Cup?", HITS, VOCAB, {"icc"})[0] == "not_in_corpus"


def test_before_generation():
    assert before_generation("Anything?", [], VOCAB) == ("no_passages", "")
    reason, note = before_generation("Who won the FIFA World Cup?", HITS, VOCAB)
    assert reason == "not_in_corpus" and note == "No article mentions “FIFA World Cup”."
    assert before_generation("What is Beijing worried about?", HITS, VOCAB) == ("", "")


@pytest.mark.parametrize("question, missing", [
    ("How much did China's exports to Russia grow in March?", ["March"]),
    ("How much did China's exports to Russia grow in April?", []),
    ("How much did exports grow in 2021?", ["2021"]),
    ("What did Xi say on Wednesday at the SCO summit?", ["Wednesday"]),
])
def test_missing_constraints(question, missing):
    assert missing_constraints(question, HITS) == missing


@pytest.mark.parametrize("text, refusal", [
    ("The articles don't say.", True), ("The passage does not mention Taiwan.", True),
    ("The number of points is not specified in the passages.", True), ("", True),
    ("Kirby said X [1].", False), ("The articles say Xi met Putin [2].", False),
])
def test_is_refusal(text, refusal):
    assert is_refusal(text) is refusal


@pytest.mark.parametrize("question, answer, lacks", [
    ("How many points are in the plan?", "The plan has 12 points [1].", False),
    ("How many points are in the plan?", "The plan has few specifics [1].", True),  # the marker is no figure
    ("How much did exports grow?", "Exports jumped 153% [2].", False),
    ("How long was the visit?", "It was a three-day state visit [1].", False),
    ("How long before the games did they meet?", "They met hours before the games [1].", False),
    ("How long before the games did they meet?", "They met in Beijing during the Olympics [1].", True),
    ("When did they meet?", "They met during the Olympics [1].", False),  # 'when' is not asked for a figure
    ("Who is Kirby?", "He is the NSC coordinator [1].", False),
    ("How old was she when she flew?", "She flew on Vostok [2].", True),  # an age is a figure
    ("How many times did she circle the Earth?", "She orbited the Earth 48 times [1].", False),
    ("How old was she when she flew?", "She was twenty-six [2].", False),
])
def test_lacks_asked_kind(question, answer, lacks):
    assert lacks_asked_kind(question, answer) is lacks


def _checked(text: str) -> Checked:
    """What cite.check reports of an answer each of whose sentences the first passage supports."""
    return Checked(text, [Citation(1, HITS[0].chunk, HITS[0].chunk.text)])


def test_an_answer_without_the_figure_asked_for_is_not_an_answer():
    assert after_answer("How many points?", _checked("Beijing has a plan [1]."), HITS)[0] == "not_answered"
    assert after_answer("How many points?", _checked("Beijing has a 12-point plan [1]."), HITS) == ("", "")


def test_what_checking_found_decides_the_reason():
    assert after_answer("How many points?", Checked("", [], declined=True), HITS) == ("model_refused", "")
    assert after_answer("How many points?", Checked("", [], ["Bananas are yellow."]), HITS) \
        == ("nothing_verifiable", "")
    assert unsupported(_checked("Beijing has a plan [1].")) == ("", "") and not unsupported(_checked("x")).refused


def test_the_pronoun_i_is_no_name_the_articles_must_mention():
    # 'I' opened no sentence, so it was taken for a name no article mentions: a refusal before the model
    assert unknown_names("Can I ask what Beijing could give Russia?", HITS, VOCAB) == []
    assert before_generation("What, as I recall, is Beijing worried about?", HITS, VOCAB) == ("", "")


@pytest.mark.parametrize("question,text,turned", [
    ("How much did China's imports from Russia grow in April?",
     "China’s exports to Russia hit a record in April, jumping 153% [1].", ("import", "export")),
    ("How much did exports grow?", "Exports jumped 153% [1].", None),
    ("Did trade increase or decrease?", "Trade decreased [1].", None),  # the question names both
    ("Why did the deficit increase?", "The deficit increased because spending rose [1].", None),
])
def test_an_answer_giving_the_opposite_of_what_was_asked(question, text, turned):
    assert the_opposite(question, text) == turned


def test_after_answer_refuses_the_opposite_of_what_was_asked():
    chunk = Chunk("a:0", "a", "t", "China’s exports to Russia hit a record in April, jumping 153%.", 0, 60)
    c = Citation(1, chunk, chunk.text)
    checked = Checked("China’s exports to Russia hit a record in April, jumping 153% [1].", [c])
    verdict = after_answer("How much did China's imports from Russia grow in April?", checked, [Hit(chunk, 1.0)])
    assert verdict.reason == "not_answered" and "export" in verdict.note and "import" in verdict.note
