"""Metric functions on hand-computed cases; engine values are built from rag.types directly."""
import math
import zlib

import numpy as np
import pytest

from eval import judge, metrics
from eval.harness import Question, SettingResult, Setting, evaluate
from eval.report import summarize
from rag.types import Answer, Chunk, Citation, Hit

RANKED = ["Putin met Xi.", "Talks lasted four hours.", "Xi said China is ready.", "Weather."]


def chunk(text, doc="d1", n=0):
    return Chunk(id=f"{doc}:{n}", doc_id=doc, title="t", text=text, start=0, end=len(text))


def test_recall_at_k_counts_spans_found_whole():
    evidence = ["China is ready", "four hours"]
    assert metrics.recall_at_k(RANKED, evidence, 1) == 0.0
    assert metrics.recall_at_k(RANKED, evidence, 2) == 0.5
    assert metrics.recall_at_k(RANKED, evidence, 3) == 1.0
    assert metrics.recall_at_k(RANKED, ["China is ready to act"], 10) == 0.0  # a partial span is not found
    assert metrics.recall_at_k(RANKED, [], 10) == 0.0


def test_spans_match_across_whitespace_and_curly_quotes_but_not_case():
    assert metrics.contains("He said \u201cno\u201d\n  today", 'said "no" today')
    assert not metrics.contains("He said no", "He Said no")
    assert not metrics.contains("anything", "  ")


def test_reciprocal_rank():
    assert metrics.reciprocal_rank(RANKED, ["China is ready"]) == pytest.approx(1 / 3)
    assert metrics.reciprocal_rank(RANKED, ["China is ready"], k=2) == 0.0
    assert metrics.reciprocal_rank(RANKED, ["nowhere"]) == 0.0


def test_ndcg_binary_gains_ideal_from_index():
    evidence = ["Putin met", "China is ready"]  # relevant at ranks 1 and 3
    dcg = 1 + 1 / math.log2(4)
    assert metrics.ndcg_at_k(RANKED, evidence, 10, n_relevant=2) == pytest.approx(dcg / (1 + 1 / math.log2(3)))
    assert metrics.ndcg_at_k(RANKED, evidence, 10, n_relevant=3) == pytest.approx(dcg / (1 + 1 / math.log2(3) + 0.5))
    assert metrics.ndcg_at_k(RANKED, ["China is ready"], 10, n_relevant=1) == pytest.approx(0.5)
    assert metrics.ndcg_at_k(RANKED, ["nowhere"], 10, n_relevant=0) == 0.0
    # A stale index count can't push the score above 1.
    assert metrics.ndcg_at_k(RANKED[:1], ["Putin"], 10, n_relevant=0) == 1.0


def test_reachability_and_relevant_count():
    chunks = ["a b c", "c d e", "e f"]
    assert metrics.reachable(["b c", "c d", "d e f"], chunks) == [True, True, False]
    assert metrics.count_relevant(chunks, ["c"]) == 2
    assert metrics.share(metrics.reachable(["b c", "d e f"], chunks)) == 0.5


def test_keywords_with_alternatives_case_insensitive():
    text = "Xi met Putin in MOSCOW for 4 [1] hours."
    assert metrics.keywords_match(text, ["putin", ["Kremlin", "moscow"], "4 hours"])
    assert not metrics.keywords_match(text, ["putin", ["Kremlin", "Beijing"]])
    assert metrics.keywords_match(text, [])  # nothing required


def test_empty_answer_matches_no_keyword_and_supports_nothing():
    assert not metrics.keywords_match("", ["x"])
    assert judge.judge("", ["passage"], ["passage"]) == []
    assert judge.citation_recall([]) == 0.0 and judge.citation_precision([]) == 0.0


def test_quote_exact():
    assert metrics.quote_exact("b c", "a b c d")
    assert not metrics.quote_exact("b  c", "a b c d")  # quotes must be verbatim, no normalizing
    assert not metrics.quote_exact("", "a b c d")


def test_percentile_interpolates_like_numpy():
    assert metrics.percentile([4, 1, 3, 2], 50) == 2.5
    assert metrics.percentile([1, 2, 3, 4], 90) == pytest.approx(3.7)
    assert metrics.percentile([5.0], 90) == 5.0
    assert metrics.percentile([1, 2, 3, 4], 90) == pytest.approx(np.percentile([1, 2, 3, 4], 90))
    with pytest.raises(ValueError):
        metrics.percentile([], 50)


def test_sentences_keep_their_markers():
    text = "Mr. Kirby met U.S. officials [1]. Talks lasted 4 hours.[2]\n[3]\nNo marker here"
    assert judge.split_sentences(text) == ["Mr. Kirby met U.S. officials [1].",
                                           "Talks lasted 4 hours.[2] [3]", "No marker here"]
    assert judge.markers("a [2] b [1, 2][3]") == [2, 1, 3]


def test_a_quotation_of_several_sentences_is_one_claim_cited_after_it():
    quote = "- Kirby: \u201cTies are burgeoning. They have grown closer,\u201d Kirby said [1]."
    text = quote + " Talks end.\n\u201cAn open quote. Never closed"
    assert judge.split_sentences(text) == [quote, "Talks end.", "\u201cAn open quote.", "Never closed"]
    passage = "\u201cTies are burgeoning. They have grown closer,\u201d Kirby told reporters on Monday."
    j = judge.judge(text.split("\n")[0], [passage], [], "What did Kirby say?")
    assert [x.supported for x in j] == [True, False]  # the quote is backed as a whole; 'Talks end.' cites nothing


PASSAGES = ["Kirby said the talks in Doha were constructive and will resume next week.",
            "The ministry reported 1,200 displaced people.",
            "Rain is expected on Tuesday."]
EVIDENCE = ["the talks in Doha were constructive"]
QUESTION = "What did Kirby say about the talks?"


def test_support_by_evidence_passage_and_numbers():
    j = judge.judge("Kirby called the Doha talks constructive [1]. About 1200 were displaced [2]. "
                    "Some 5,000 were displaced [2]. It will rain [3]. Talks resume next week.",
                    PASSAGES, EVIDENCE, QUESTION)
    assert [x.supported for x in j] == [True, True, False, True, False]  # wrong number; no citation
    assert judge.citation_recall(j) == pytest.approx(3 / 5)
    assert judge.citation_precision(j) == pytest.approx(3 / 4)


def test_restating_the_question_is_not_support():
    j = judge.judge("Kirby talked about the talks in Doha and said they collapsed [1].", PASSAGES, EVIDENCE, QUESTION)
    assert [x.supported for x in j] == [False]


def test_citation_out_of_range_is_unsupported():
    j = judge.judge("Kirby called the talks constructive [7].", PASSAGES, EVIDENCE, QUESTION)
    assert j[0].cited == (7,) and not j[0].supported and j[0].precise == (False,)
    # Next to a good citation the bad one is redundant: sentence supported, [7] imprecise.
    j = judge.judge("Kirby called the talks constructive [1][7].", PASSAGES, EVIDENCE, QUESTION)
    assert j[0].supported and j[0].precise == (True, False)


def test_redundant_citation_is_imprecise():
    j = judge.judge("Kirby called the talks constructive [1][3].", PASSAGES, EVIDENCE, QUESTION)
    assert j[0].supported and j[0].precise == (True, False)


def fake_embed(texts):
    """Bag of words hashed into 64 dims, normalized: a deterministic stand-in for a sentence model."""
    vecs = np.zeros((len(texts), 64))
    for i, t in enumerate(texts):
        for w in judge.content_words(t):
            vecs[i, zlib.crc32(w.encode()) % 64] += 1
    return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)


def test_embedding_route_adds_paraphrases_and_caches():
    sentence = "Rain expected Tuesday across northern coastal regions [3]."  # 3 of 7 claim words: lexically short
    assert not judge.supports(sentence, PASSAGES[2:], [], "weather?")
    calls = []
    embed = judge.cached(lambda ts: calls.append(list(ts)) or fake_embed(ts))
    assert judge.supports(sentence, PASSAGES[2:], [], "weather?", embed)
    assert not judge.supports("Kirby resigned on Friday [3].", PASSAGES[2:], [], "weather?", embed)
    assert calls[1] == ["Kirby resigned on Friday."]  # the passage sentence came from the cache


class OneAnswer:
    """Just enough pipeline for `evaluate`: a fixed ranking and a fixed answer."""

    def __init__(self, answer, hits):
        self.answer, self.hits = answer, hits

    def standalone(self, question, history):
        return question

    def search(self, question, k):
        return self.hits[:k]

    def ask(self, question, history):
        return self.answer


def test_refusal_is_excluded_from_citation_metrics_and_counted_in_refusal_rate():
    hits = [Hit(chunk(p, n=i), score=1.0 - i / 10) for i, p in enumerate(PASSAGES)]
    refusal = Answer(question=QUESTION, text="I can't answer that from the articles.", refused=True, hits=hits)
    cited = Answer(question=QUESTION, text="Kirby called the talks constructive [1].", hits=hits,
                   citations=[Citation(1, hits[0].chunk, PASSAGES[0][:40]), Citation(1, hits[0].chunk, "invented")])
    texts = [h.chunk.text for h in hits]
    a = Question("a", QUESTION, True, keywords=("constructive",), evidence=tuple(EVIDENCE))
    u = Question("u", "Who won the 1930 World Cup?", False)
    rows = (evaluate(OneAnswer(refusal, hits), a, texts), evaluate(OneAnswer(refusal, hits), u, texts),
            evaluate(OneAnswer(cited, hits), a, texts))
    assert rows[0].citation_recall is None and rows[0].refused and not rows[0].correct
    assert rows[0].recall_at_1 == 1.0 and rows[1].recall_at_1 is None  # unanswerable: no retrieval score
    assert rows[1].correct and rows[2].correct and rows[2].citation_recall == 1.0
    s = summarize(SettingResult(Setting("m", "bm25"), 1.0, rows))
    assert (s.refusal_rate, s.false_refusal_rate, s.accuracy) == (1.0, 0.5, 0.5)
    assert s.citation_recall == 1.0 and s.quote_exact == 0.5  # only the non-refused answer is judged


def test_a_placeholder_left_in_an_answer_is_counted():
    from eval.metrics import has_placeholder

    assert has_placeholder("The summit opens on [insert date] [2].")
    assert has_placeholder("It was signed by [Name] in XX [1].") and has_placeholder("Date: TBD")
    assert not has_placeholder("Xi met Putin on 21 March 2023 [1, 2].")
    assert not has_placeholder("Super Bowl XXI was played in 1987.")  # a numeral, not a slot
