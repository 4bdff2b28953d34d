"""rag/second_pass.py: one narrower pass after the model refused, judged sentence by sentence."""
import re

from conftest import assert_exact_quotes, user_prompt

def test_a_refusal_next_to_a_sentence_that_answers_gets_a_second_narrower_pass(make_pipeline):
    p = make_pipeline("The articles don't say.", "Yes", "China’s exports to Russia jumped 153% in April [1].")
    answer = p.ask("How much did China’s exports to Russia grow in April?")
    assert len(p.generator.prompts) == 3
    judge, retry = p.generator.prompts[1], p.generator.prompts[2]
    assert "yes" in judge[0]["content"].lower() and user_prompt(p.generator, 1).count("<passage") == 1
    assert not answer.refused and "153%" in answer.citations[0].quote
    assert_exact_quotes(answer)
    assert answer.timings["second_pass"] > 0  # the eval counts these passes and what they cost


def test_when_the_second_pass_answer_does_not_check_out_the_refusal_stays(make_pipeline):
    p = make_pipeline("The articles don't say.", "yes", "Bananas are yellow [1].")
    answer = p.ask("How much did China’s exports to Russia grow in April?")
    # the next candidate is judged too (the scripted model says no to it)
    assert answer.refused and answer.citations == [] and 3 <= len(p.generator.prompts) <= 4


def test_an_answer_without_the_figure_asked_for_gets_the_second_pass(make_pipeline, monkeypatch):
    monkeypatch.setattr("rag.second_pass.RECOVER_SIMILARITY", -1.0)  # the hash embedder's cosines are low
    reply = "Beijing’s proposal has met with skepticism from the U.S. and its allies [1]."  # true, but no count
    p = make_pipeline(reply, "no", "no")
    answer = p.ask("How many points are in Beijing’s peace proposal?")
    assert answer.refused and answer.reason == "not_answered" and "skepticism" not in answer.text
    assert len(p.generator.prompts) == 3  # the answer, then two sentences judged


def test_a_second_pass_answer_that_does_not_check_out_leaves_the_next_sentence_its_turn(make_pipeline, monkeypatch):
    monkeypatch.setattr("rag.second_pass.RECOVER_SIMILARITY", -1.0)  # the hash embedder's cosines are low

    def from_the_passage(messages):  # the model answers with what the passage it was shown says
        passage = messages[-1]["content"].split("\n")[1]
        return re.findall(r"[^.!?]+[.!?]”?", passage)[-1].strip() + " [1]"

    p = make_pipeline("The articles don't say.", "yes", "Bananas are yellow [1].", "yes", from_the_passage)
    answer = p.ask("what did exports to russia do?")
    assert len(p.generator.prompts) == 5
    assert not answer.refused and answer.citations[0].quote in user_prompt(p.generator, 3).split("\n")[1]
    # cited by its number among all the passages shown, not as the [1] of the one the second pass read
    c = answer.citations[0]
    assert len(answer.hits) > 1 and answer.hits[c.n - 1].chunk == c.chunk and f"[{c.n}]" in answer.text


def test_a_no_for_the_closest_sentence_lets_the_next_one_be_judged(make_pipeline, monkeypatch):
    monkeypatch.setattr("rag.second_pass.RECOVER_SIMILARITY", -1.0)  # the hash embedder's cosines are low
    def from_the_passage(messages):  # the model answers with what the passage it was shown says
        passage = messages[-1]["content"].split("\n")[1]
        return re.findall(r"[^.!?]+[.!?]”?", passage)[-1].strip() + " [1]"

    p = make_pipeline("The articles don't say.", "no", "yes", from_the_passage)
    answer = p.ask("what did exports to russia do?")
    assert len(p.generator.prompts) == 4
    judged = [user_prompt(p.generator, i).split("\n")[1] for i in (1, 2)]
    assert judged[0] != judged[1]  # two different sentences judged
    assert not answer.refused and answer.citations[0].quote in judged[1]


def test_one_sentence_in_two_passages_takes_one_judging_slot():
    from rag.second_pass import distinct as _distinct
    from rag.types import Chunk, Hit

    def hit(text):
        return Hit(chunk=Chunk(id=text[:5], doc_id="d", title="t", text=text, start=0, end=len(text)), score=0.0)

    shared = "The two leaders signed an agreement."
    hits = [hit(f"They met in February. {shared}"), hit(f"{shared} It had no limits.")]
    ranked = [(0.9, 0, (22, 58)), (0.9, 1, (0, 36)), (0.8, 0, (0, 21)), (0.7, 1, (37, 52))]
    assert _distinct(ranked, hits) == [(0.9, 0, (22, 58)), (0.8, 0, (0, 21)), (0.7, 1, (37, 52))]
    # of the copies, the one whose passage can be used stands for them (the other lacks a name asked about)
    assert _distinct(ranked, hits, lambda sc, i: i == 1)[0] == (0.9, 1, (0, 36))


def test_a_no_from_the_judge_keeps_the_refusal(make_pipeline):
    p = make_pipeline("The articles don't say.", "No.", "No.")
    answer = p.ask("How much did China’s exports to Russia grow in April?")
    assert answer.refused and answer.reason == "model_refused" and len(p.generator.prompts) <= 3


def test_the_second_pass_judges_first_the_sentence_saying_what_was_asked_of_the_names():
    from rag.second_pass import judging_order as _judging_order
    from rag.terms import content, share
    from rag.types import Chunk, Hit
    naming = "Xi and Putin, who have met about 40 times since 2010, reject the U.S. model."
    saying = "Calling each other “dear friends,” the two leaders held talks in Moscow."
    text = f"{naming} {saying}"
    hit = Hit(chunk=Chunk(id="d:0", doc_id="d", title="t", text=text, start=0, end=len(text)), score=0.0)
    question = "What did Xi and Putin call each other?"
    spans = [(0, len(naming)), (len(naming) + 1, len(text))]
    # equally close in meaning; by all the question's words the one naming Xi and Putin would win
    scores = [[(span, 0.5 + 0.5 * share(content(question), text[span[0]:span[1]])) for span in spans]]
    assert scores[0][0][1] > scores[0][1][1]
    assert [span for _, _, span in _judging_order(question, [hit], scores)] == [spans[1], spans[0]]


def test_asked_words_are_the_question_besides_its_names_in_any_inflection():
    from rag.second_pass import asked_words as _asked, asked_share as _asked_share
    assert _asked("What did Xi and Putin call each other?") == {"call", "each"}
    assert _asked("Who is Xi Jinping?") == {"xi", "jinping"}  # names only: the names are what is asked
    assert _asked_share({"call", "each"}, "Calling each other “dear friends,” they met.") == 1.0
    assert _asked_share({"call", "each"}, "Xi and Putin met.") == 0.0
