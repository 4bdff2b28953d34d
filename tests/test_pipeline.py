"""rag/pipeline.py: question -> search -> prompt -> generate -> cite -> Answer, with the fakes plugged in."""
from dataclasses import replace

import pytest
from conftest import HashEmbedder, ScriptedGenerator

from rag import Answer, Evidence, Pipeline, QuestionError
from rag.prompt import REFUSAL, TEMPLATE_OVERHEAD, defuse

from conftest import EXPORTS_Q, EXPORTS_REPLY, KIRBY_Q, KIRBY_REPLY, assert_exact_quotes, user_prompt

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
    assert set(answer.timings) == {"retrieve", "first_token", "generate", "total"}  # no second pass
    assert all(v >= 0 for v in answer.timings.values())
    assert answer.timings["total"] >= answer.timings["retrieve"]
    assert answer.prompt_tokens > 0 and answer.completion_tokens == len(KIRBY_REPLY.split())


def test_hits_are_the_passages_shown_to_the_model(make_pipeline, config):
    p = make_pipeline(KIRBY_REPLY)
    answer = p.ask(KIRBY_Q)
    user = user_prompt(p.generator)
    assert 0 < len(answer.hits) <= config.k
    for n, h in enumerate(answer.hits, 1):
        assert f"<passage id=\"{n}\">\n{defuse(h.chunk.text)}\n</passage>" in user
    assert f"<passage id=\"{len(answer.hits) + 1}\">" not in user
    assert user.endswith(f"Question: {KIRBY_Q}")


def test_the_first_pass_shows_the_worked_examples_only_when_asked_for(config):
    from rag.prompt import EXAMPLES
    for examples, turns in ((True, list(EXAMPLES)), (False, [])):
        gen = ScriptedGenerator(KIRBY_REPLY)
        Pipeline(replace(config, examples=examples), embedder=HashEmbedder(), generator=gen).ask(KIRBY_Q)
        assert gen.prompts[0][1:-1] == turns


def test_stream_yields_the_evidence_then_text_pieces_then_one_answer_last(make_pipeline):
    p = make_pipeline(KIRBY_REPLY)
    out = list(p.stream(KIRBY_Q))
    evidence, *pieces, last = out
    assert isinstance(evidence, Evidence)
    assert isinstance(last, Answer) and not last.refused
    assert pieces and all(isinstance(x, str) for x in pieces)
    assert sum(isinstance(x, Answer) for x in out) == 1
    assert "".join(pieces) == KIRBY_REPLY  # the raw reply as generated; the Answer holds the checked text


def test_the_evidence_comes_before_the_model_is_called_and_names_what_it_reads(make_pipeline):
    p = make_pipeline(KIRBY_REPLY)
    out = p.stream(KIRBY_Q)
    evidence = next(out)
    assert isinstance(evidence, Evidence)
    assert p.generator.prompts == []  # on screen before the model reads a token
    rest = list(out)
    answer = rest[-1]
    assert [h.chunk.id for h in evidence.hits] == [h.chunk.id for h in answer.hits]
    assert len(evidence.best) == len(evidence.hits)
    user = user_prompt(p.generator)
    for hit, (start, end) in zip(evidence.hits, evidence.best):
        assert 0 <= start < end <= len(hit.chunk.text)
        assert defuse(hit.chunk.text[start:end]) in user  # the best sentence is one the model reads
    assert "grown closer" in evidence.hits[0].chunk.text[slice(*evidence.best[0])]


def test_stream_of_a_refusal_still_ends_with_one_answer(make_pipeline):
    out = list(make_pipeline().stream("Who won the 2022 FIFA World Cup?"))
    assert out[:-1] == [REFUSAL]
    assert isinstance(out[-1], Answer) and out[-1].refused


def test_a_follow_up_is_rewritten_before_search_and_prompt(make_pipeline):
    p = make_pipeline(KIRBY_REPLY, KIRBY_REPLY)
    first = p.ask(KIRBY_Q)
    history = [{"role": "user", "content": KIRBY_Q}, {"role": "assistant", "content": first.text}]
    answer = p.ask("How did he describe them?", history)
    assert answer.question == "How did he describe them?"
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


def test_a_name_no_article_mentions_is_refused_before_the_model_with_a_note(make_pipeline):
    p = make_pipeline("Argentina won [1].")
    answer = p.ask("What did Kirby say about North Korea?")
    assert answer.refused and answer.reason == "not_in_corpus" and "North Korea" in answer.note
    assert p.generator.prompts == []


@pytest.mark.parametrize("question", [
    "What is the United States worried that Beijing could give Russia?",  # 'U.S.' in the articles
    "Which country was Xi set to visit before meeting Putin at the SCO summit?",  # spelled out in the articles
    "What position does John Kirby hold?",  # 'position' and 'hold' are in no passage
    "What did the ICC accuse Putin of?",  # 'International Criminal Court' in an article
    "What did the G7 leaders say about China?",  # 'Group of Seven' in an article
])
def test_aliases_and_plain_words_do_not_refuse_before_the_model(make_pipeline, question):
    p = make_pipeline()
    answer = p.ask(question)
    assert len(p.generator.prompts) >= 1 and answer.reason != "not_in_corpus"


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
    n_chunks = len(p.chunks())
    assert emb.calls == n_chunks  # every chunk once
    index = p.index
    p.search(KIRBY_Q)
    assert emb.calls == n_chunks + 1  # then the question
    p.search(KIRBY_Q)
    assert emb.calls == n_chunks + 1  # a repeated question reuses its vector
    p.ask(EXPORTS_Q)
    assert p.index is index


def test_a_second_pipeline_loads_the_index_from_disk(make_pipeline):
    make_pipeline(KIRBY_REPLY).ask(KIRBY_Q)
    emb = HashEmbedder()
    p = make_pipeline(KIRBY_REPLY, embedder=emb)
    assert not p.ask(KIRBY_Q).refused
    assert emb.calls >= 1 and p.build_report.rebuilt is False and emb.calls < len(p.chunks())


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


def test_bm25_retrieval_needs_no_query_embedding(make_pipeline):
    emb = HashEmbedder()
    p = make_pipeline(EXPORTS_REPLY, embedder=emb, retrieval="bm25")
    _ = p.index
    built = emb.calls
    hits = p.search(EXPORTS_Q)
    assert hits and all(h.dense_rank is None and h.bm25_rank for h in hits)
    assert emb.calls == built
    answer = p.ask(EXPORTS_Q)
    assert not answer.refused and "153%" in answer.citations[0].quote
    assert_exact_quotes(answer)


def test_search(make_pipeline, config):
    p = make_pipeline()
    hits = p.search(KIRBY_Q)
    assert len(hits) == config.k
    assert any("Kirby" in h.chunk.text for h in hits)
    assert len(p.search(KIRBY_Q, k=2)) == 2
    assert p.search("  " + KIRBY_Q.replace(" ", "   ") + "  ") == hits  # whitespace does not change the search


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
    assert messages[-1]["content"].count("<passage id=") == len(answer.hits)
    assert_exact_quotes(answer)


def test_each_retrievers_first_is_placed_among_the_passages_the_question_shows(make_pipeline, config, monkeypatch):
    import rag.pipeline

    seen = []
    real = rag.pipeline.search
    monkeypatch.setattr(rag.pipeline, "search", lambda *a, **kw: seen.append(kw["shown"]) or real(*a, **kw))
    p = make_pipeline(KIRBY_REPLY, KIRBY_REPLY)
    p.ask(KIRBY_Q, k=2)
    p.ask(KIRBY_Q)
    assert seen[0] == 2 and seen[-1] == config.k  # the k of this question, not only Config.k
    assert make_pipeline(top_each=False).search(KIRBY_Q) and seen[-1] == 0
