"""rag/pipeline.py: question -> search -> prompt -> generate -> cite -> Answer, with the fakes plugged in."""
import re
from dataclasses import replace

import pytest
from conftest import HashEmbedder, ScriptedGenerator

from rag import Answer, Pipeline, QuestionError
from rag.prompt import REFUSAL, TEMPLATE_OVERHEAD

KIRBY_Q = "What did Kirby say?"
# The first hit for KIRBY_Q (hash embedder) holds this sentence.
KIRBY_REPLY = "Kirby said these two countries have grown closer [1]."
EXPORTS_Q = "How much did China export to Russia in April?"
EXPORTS_REPLY = "China’s exports to Russia hit a record in April, jumping 153% [1]."


def user_prompt(generator: ScriptedGenerator, i: int = -1) -> str:
    [system, user] = generator.prompts[i]
    assert system["role"] == "system" and user["role"] == "user"
    return user["content"]


def assert_exact_quotes(answer: Answer):
    for c in answer.citations:
        assert 1 <= c.n <= len(answer.hits)
        assert c.chunk == answer.hits[c.n - 1].chunk
        assert c.quote and c.quote in c.chunk.text
        assert c.chunk.text[c.quote_start:c.quote_start + len(c.quote)] == c.quote


def test_ask_returns_a_cited_answer(make_pipeline, config):
    p = make_pipeline(KIRBY_REPLY)
    answer = p.ask(KIRBY_Q)
    assert isinstance(answer, Answer)
    assert not answer.refused
    assert answer.text == KIRBY_REPLY
    assert [c.n for c in answer.citations] == [1]
    assert "grown closer" in answer.citations[0].quote
    assert_exact_quotes(answer)
    assert answer.question == answer.searched == KIRBY_Q
    assert answer.model == config.llm
    assert set(answer.timings) == {"retrieve", "first_token", "generate", "total"}
    assert all(v >= 0 for v in answer.timings.values())
    assert answer.timings["total"] >= answer.timings["retrieve"]
    assert answer.prompt_tokens > 0 and answer.completion_tokens == len(KIRBY_REPLY.split())


def test_hits_are_the_passages_shown_to_the_model(make_pipeline, config):
    p = make_pipeline(KIRBY_REPLY)
    answer = p.ask(KIRBY_Q)
    user = user_prompt(p.generator)
    assert 0 < len(answer.hits) <= config.k
    for n, h in enumerate(answer.hits, 1):
        assert f"[{n}] {h.chunk.text}" in user
    assert f"[{len(answer.hits) + 1}] " not in user
    assert user.endswith(f"Question: {KIRBY_Q}")


def test_stream_yields_text_pieces_then_one_answer_last(make_pipeline):
    p = make_pipeline(KIRBY_REPLY)
    out = list(p.stream(KIRBY_Q))
    *pieces, last = out
    assert isinstance(last, Answer) and not last.refused
    assert pieces and all(isinstance(x, str) for x in pieces)
    assert sum(isinstance(x, Answer) for x in out) == 1
    assert "".join(pieces) == KIRBY_REPLY  # the raw reply as generated; the Answer holds the checked text


def test_stream_of_a_refusal_still_ends_with_one_answer(make_pipeline):
    out = list(make_pipeline().stream("Who won the 2022 FIFA World Cup?"))
    assert out[:-1] == [REFUSAL]
    assert isinstance(out[-1], Answer) and out[-1].refused


def test_a_follow_up_is_rewritten_before_search_and_prompt(make_pipeline):
    p = make_pipeline(KIRBY_REPLY, KIRBY_REPLY)
    first = p.ask(KIRBY_Q)
    history = [{"role": "user", "content": KIRBY_Q}, {"role": "assistant", "content": first.text}]
    answer = p.ask("What else did he say?", history)
    assert answer.question == "What else did he say?"
    assert "Kirby" in answer.searched and answer.searched != answer.question
    assert answer.searched in user_prompt(p.generator)
    assert user_prompt(p.generator).endswith(f"Question: {answer.searched}")


def test_without_history_the_question_is_searched_as_asked(make_pipeline):
    answer = make_pipeline(KIRBY_REPLY).ask(KIRBY_Q, history=[])
    assert answer.searched == KIRBY_Q


def test_an_off_topic_question_is_refused_without_calling_the_generator(make_pipeline):
    p = make_pipeline("Argentina won [1].")
    answer = p.ask("Who won the 2022 FIFA World Cup?")
    assert answer.refused and answer.text == REFUSAL and answer.citations == []
    assert p.generator.prompts == []
    assert answer.prompt_tokens == 0 and answer.completion_tokens == 0
    assert "generate" not in answer.timings


HART_Q = "What did Brian Hart say about Taiwan?"  # hit [1] is Hart's quote, which never mentions Taiwan


def test_an_answer_about_the_person_but_not_the_subject_is_refused(make_pipeline):
    p = make_pipeline("Hart said Xi Jinping wants to show the world that he’s a statesman [1].")
    answer = p.ask(HART_Q)
    assert "Brian Hart" in answer.hits[0].chunk.text and "Taiwan" not in answer.hits[0].chunk.text
    assert len(p.generator.prompts) == 1  # on topic enough to ask the model
    assert answer.refused and answer.text == REFUSAL and answer.citations == []


def test_an_answer_citing_a_passage_on_the_subject_is_kept(make_pipeline):
    p = make_pipeline("Beijing has territorial claims over Taiwan [3].")
    answer = p.ask(HART_Q)
    assert not answer.refused
    assert all("Taiwan" in c.quote for c in answer.citations)
    assert_exact_quotes(answer)


def test_the_models_refusal_is_passed_on(make_pipeline):
    p = make_pipeline("The articles don't say.")
    answer = p.ask(KIRBY_Q)
    assert answer.refused and answer.text == REFUSAL and answer.citations == []
    assert len(p.generator.prompts) == 1


@pytest.mark.parametrize("question", ["", "   ", "\n\t", "x" * 100_000])
def test_bad_questions_are_a_one_line_question_error(make_pipeline, question):
    p = make_pipeline(KIRBY_REPLY)
    for call in (p.ask, p.search, lambda q: next(p.stream(q))):
        with pytest.raises(QuestionError) as e:
            call(question)
        message = str(e.value)
        assert message and "\n" not in message and len(message) < 200
    assert p.embedder.calls == 0 and p.generator.prompts == []  # rejected before any work


def test_stream_raises_on_iteration_not_on_call(make_pipeline):
    p = make_pipeline()
    it = p.stream("")  # a generator: nothing runs yet
    with pytest.raises(QuestionError, match="empty"):
        next(it)


def test_the_limit_message_names_the_limit(make_pipeline):
    with pytest.raises(QuestionError, match="100,000 characters; the limit is 2,000"):
        make_pipeline().ask("x" * 100_000)


def test_the_index_is_built_once_and_reused(make_pipeline):
    emb = HashEmbedder()
    p = make_pipeline(KIRBY_REPLY, EXPORTS_REPLY, embedder=emb)
    p.ask(KIRBY_Q)
    n_chunks = len(p.chunks())
    assert emb.calls == n_chunks + 1  # every chunk once, then the question
    index = p.index
    p.ask(EXPORTS_Q)
    assert emb.calls == n_chunks + 2  # only the second question
    assert p.index is index


def test_a_second_pipeline_loads_the_index_from_disk(make_pipeline):
    make_pipeline(KIRBY_REPLY).ask(KIRBY_Q)
    emb = HashEmbedder()
    p = make_pipeline(KIRBY_REPLY, embedder=emb)
    assert not p.ask(KIRBY_Q).refused
    assert emb.calls == 1 and p.build_report.rebuilt is False


def test_with_model_shares_the_index_and_embedder(make_pipeline, config):
    p = make_pipeline(KIRBY_REPLY)
    other = p.with_model("smollm2-135m")
    assert other is not p
    assert other.config == replace(config, llm="smollm2-135m")
    assert other.index is p.index and other.embedder is p.embedder
    assert p.with_model("smollm2-135m") is other  # one sibling per model
    assert p.with_model(config.llm) is p
    assert p.generator.name == "scripted"  # this pipeline's generator is untouched


def test_chunks(make_pipeline, corpus_dir):
    p = make_pipeline()
    chunks = p.chunks()
    assert chunks == list(p.index.chunks) and chunks is not p.index.chunks
    assert len({c.id for c in chunks}) == len(chunks)
    assert {c.doc_id for c in chunks} == {f.stem for f in corpus_dir.glob("*.txt")}
    assert all(c.text.strip() for c in chunks)
    chunks.clear()
    assert p.chunks()  # a copy: the caller cannot empty the index


def test_min_similarity_refuses_without_generating(make_pipeline):
    p = make_pipeline(EXPORTS_REPLY, min_similarity=0.99)
    answer = p.ask(EXPORTS_Q)
    assert answer.refused and answer.text == REFUSAL
    assert p.generator.prompts == []
    assert answer.hits and max(h.similarity for h in answer.hits) < 0.99


def test_the_same_question_is_answered_below_the_threshold(make_pipeline):
    answer = make_pipeline(EXPORTS_REPLY, min_similarity=0.2).ask(EXPORTS_Q)
    assert not answer.refused  # the reply cited [1]; the check moves the marker to the passage with 153%
    [c] = answer.citations
    assert c.quote.startswith("China’s exports to Russia hit a record in April, jumping 153%")


def test_bm25_retrieval_needs_no_query_embedding(make_pipeline):
    emb = HashEmbedder()
    # min_similarity is a cosine: it cannot apply to keyword search, so it must not refuse here
    p = make_pipeline(EXPORTS_REPLY, embedder=emb, retrieval="bm25", min_similarity=0.25)
    _ = p.index
    built = emb.calls
    hits = p.search(EXPORTS_Q)
    assert hits and all(h.dense_rank is None and h.bm25_rank for h in hits)
    answer = p.ask(EXPORTS_Q)
    assert emb.calls == built
    assert not answer.refused and "153%" in answer.citations[0].quote
    assert_exact_quotes(answer)


def test_search(make_pipeline, config):
    p = make_pipeline()
    hits = p.search(KIRBY_Q)
    assert len(hits) == config.k
    assert any("Kirby" in h.chunk.text for h in hits)
    assert len(p.search(KIRBY_Q, k=2)) == 2
    assert p.search("  What did   Kirby say?  ") == hits  # whitespace does not change the search


@pytest.mark.parametrize("n_ctx, max_tokens", [(420, 100), (600, 200), (330, 60)])
def test_the_prompt_fits_the_context_minus_the_answer(config, n_ctx, max_tokens):
    gen = ScriptedGenerator(EXPORTS_REPLY, n_ctx=n_ctx)
    p = Pipeline(replace(config, max_tokens=max_tokens, k=6), embedder=HashEmbedder(), generator=gen)
    answer = p.ask(EXPORTS_Q)
    [messages] = gen.prompts
    budget = n_ctx - max_tokens
    sent = sum(gen.count_tokens(m["content"]) for m in messages) + TEMPLATE_OVERHEAD
    assert sent <= answer.prompt_tokens <= budget
    assert len(answer.hits) < 6  # passages were dropped to fit
    assert len(re.findall(r"^\[\d+\] ", messages[1]["content"], re.M)) == len(answer.hits)
    assert_exact_quotes(answer)
