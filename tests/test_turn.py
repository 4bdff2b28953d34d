"""rag/turn.py: one question's passages, its wider context, keyword lookups and the one way it ends."""
import time

from rag.refusal import REFUSAL, Verdict
from rag.retrieve import Filter
from rag.turn import CONTEXT, Turn
from rag.types import Answer

OTHER = "003_61459b7c16ee4894"  # an article that never names Kirby


def turn(pipeline, question: str, k: int = 3, where=None) -> Turn:
    t = Turn(pipeline, question, question, None, k, where, time.perf_counter())
    t.search()
    return t


def test_the_k_shown_are_the_best_of_the_wider_context(make_pipeline):
    t = turn(make_pipeline(), "What did Kirby say about Putin?")
    assert len(t.hits) == 3 and len(t.context) == CONTEXT and t.context[:3] == t.hits
    assert t.timings["retrieve"] > 0 and t.scope == ""


def test_keyword_lookups_read_beyond_the_hits_and_stay_within_the_filter(make_pipeline):
    p = make_pipeline()
    t = turn(p, "Who is the national security spokesman?", k=2)
    found = t.keyword_chunks("Kirby", 50)
    beyond = [c for c in found if c not in {h.chunk for h in t.hits}]
    assert len(beyond) >= 3 and all("Kirby" in c.text + " ".join(c.speakers) for c in beyond)  # not only the 2 shown
    assert found[-len(t.hits):] == [h.chunk for h in t.hits]  # the hits' chunks come last, each once
    other = turn(p, "Who is the national security spokesman?", where=Filter(articles=OTHER))
    assert {c.doc_id for c in other.keyword_chunks("Kirby", 50)} == {OTHER} and other.scope.startswith("1 of")


def test_a_refused_answer_has_the_refusal_text_and_no_citations(make_pipeline):
    t = turn(make_pipeline(), "Who won the World Cup?")
    *said, answer = t.refuse(Verdict("not_in_corpus", "No article mentions “World Cup”."))
    assert said == [REFUSAL] and isinstance(answer, Answer)
    assert answer.refused and answer.text == REFUSAL and answer.citations == [] and answer.hits == t.hits
    assert answer.reason == "not_in_corpus" and answer.note and answer.timings["total"] >= answer.timings["retrieve"]
    kept = t.answer(text="Kept [1].", citations=["x"], refused=True, reason="not_answered")
    assert kept.text == REFUSAL and kept.citations == []  # a refusal never shows the text it refused
