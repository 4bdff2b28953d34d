"""rag/pipeline.py: question -> search -> prompt -> generate -> cite -> Answer, with the fakes plugged in."""
import re
from dataclasses import replace

import pytest
from conftest import HashEmbedder, ScriptedGenerator

from rag import Answer, Evidence, Pipeline, QuestionError
from rag.prompt import REFUSAL, TEMPLATE_OVERHEAD, defuse

KIRBY_Q = "How did Kirby describe the two countries?"
# The first hit for KIRBY_Q (hash embedder) holds this sentence.
KIRBY_REPLY = "Kirby said these two countries have grown closer [1]."
EXPORTS_Q = "How much did China export to Russia in April?"
EXPORTS_REPLY = "China’s exports to Russia hit a record in April, jumping 153% [1]."


def user_prompt(generator: ScriptedGenerator, i: int = -1) -> str:
    system, *examples, user = generator.prompts[i]
    assert system["role"] == "system" and user["role"] == "user"
    assert [m["role"] for m in examples] == ["user", "assistant"] * (len(examples) // 2)
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


HART_Q = "What did Brian Hart say about Taiwan?"  # Hart is quoted, but never on Taiwan


def test_what_a_person_said_is_gathered_from_every_article_and_quoted_verbatim(make_pipeline):
    p = make_pipeline("The model must not be asked [1].")
    answer = p.ask("What did Kirby say?")
    assert p.generator.prompts == []  # X's own words, quoted: nothing for the model to paraphrase
    assert not answer.refused and answer.reason == ""
    lines = answer.text.split("\n")
    assert len(lines) >= 3 and all(line.startswith("- John Kirby: ") for line in lines)
    for phrase in ("burgeoning", "chafe and bristle", "lifeline", "revitalizing"):
        assert phrase in answer.text
    assert all(re.search(r"\[\d+\][.”]?$", line) for line in lines)
    assert_exact_quotes(answer)
    assert {c.quote for c in answer.citations} <= {line.split(": ", 1)[1].rsplit(" [", 1)[0] + "."
                                                   for line in lines} | {c.quote for c in answer.citations}


def test_what_a_person_said_a_thing_was_is_answered_from_their_statements_or_else_by_the_model(make_pipeline):
    p = make_pipeline("The model must not be asked [1].")
    answer = p.ask("What did Kirby say Putin sees Xi as?")
    assert p.generator.prompts == [] and not answer.refused
    assert answer.text.startswith("- John Kirby: ") and "lifeline" in answer.text.split("\n")[0]
    assert_exact_quotes(answer)
    # none of his statements is about it in his words: the model reads the passages, as for any question
    other = make_pipeline("The articles don't say.")
    other.ask("What did Kirby say the football score was?")
    assert len(other.generator.prompts) >= 1


def test_who_said_quoted_words_is_answered_with_the_speaker_the_article_names(make_pipeline):
    p = make_pipeline("Somebody said it [1].")
    answer = p.ask("Who said Putin sees Xi as “a lifeline of sorts”?")
    assert p.generator.prompts == []  # the speaker the chunker recorded for the sentence holding the words
    assert not answer.refused and answer.text.startswith("- John Kirby: ") and "a lifeline of sorts" in answer.text
    assert_exact_quotes(answer) and len(answer.citations) == 1
    # words no recorded speaker said (a spokesperson, unnamed): the model answers, as for any question
    unnamed = make_pipeline("A spokesperson for the Chinese Foreign Ministry said so [1].")
    unnamed.ask('Who said the U.S. "is in no position to point fingers at China"?')
    assert len(unnamed.generator.prompts) == 1


def test_what_the_articles_say_about_a_topic_is_quoted_from_every_article_that_speaks_of_it(make_pipeline):
    p = make_pipeline("Only one article is summarised [1].")
    answer = p.ask("What do the articles say about Taiwan?")
    assert p.generator.prompts == []  # the articles' own sentences, not one article's summary
    assert not answer.refused and answer.reason == ""
    lines = answer.text.split("\n")
    assert len(lines) >= 2 and all(line.startswith("- ") and "Taiwan" in line for line in lines)
    assert len({c.chunk.doc_id for c in answer.citations}) >= 2  # both articles that mention Taiwan
    assert_exact_quotes(answer)
    # a topic no article speaks of: the model reads the passages, as for any question
    other = make_pipeline("The articles don't say.")
    assert other.ask("What do the articles say about bananas?").refused
    assert len(other.generator.prompts) >= 1


def test_who_said_what_unquoted_is_answered_with_everyone_the_articles_record_saying_it(make_pipeline):
    p = make_pipeline("Xi said so [1].")
    answer = p.ask("Which Chinese officials said China and Russia firmly support each other on their core interests?")
    assert p.generator.prompts == [] and not answer.refused
    speakers = {line.split(": ", 1)[0] for line in answer.text.split("\n")}
    assert {"- Xi Jinping", "- Yang Jiechi"} <= speakers  # two articles, two officials
    assert all("core interests" in c.quote for c in answer.citations)
    assert_exact_quotes(answer)
    # what nobody recorded said: the model reads the passages, as for any question
    other = make_pipeline("The articles don't say.")
    other.ask("Who said the football match ended in a draw?")
    assert len(other.generator.prompts) >= 1


def test_what_else_leaves_out_what_the_chat_already_quoted(make_pipeline):
    p = make_pipeline()
    first = p.ask("What did Kirby say?")
    history = [{"role": "user", "content": "What did Kirby say?"}, {"role": "assistant", "content": first.text}]
    again = p.ask("What else did he say?", history)
    assert again.searched == "What else did Kirby say?"
    assert again.refused and again.reason == "nothing_relevant"  # all four statements were already quoted
    partial = [{"role": "user", "content": "What did Kirby say?"},
               {"role": "assistant", "content": first.text.split("\n")[0]}]
    more = p.ask("What else did he say?", partial)
    assert not more.refused and "burgeoning" not in more.text and "lifeline" in more.text


def test_what_a_person_said_about_a_topic_they_never_spoke_of_is_refused_with_the_reason(make_pipeline):
    p = make_pipeline("Hart said Xi Jinping wants to show the world that he’s a statesman [1].")
    answer = p.ask(HART_Q)
    assert answer.refused and answer.text == REFUSAL and answer.citations == []
    assert answer.reason == "nothing_relevant" and "Brian Hart" in answer.note and "Taiwan" in answer.note
    assert p.generator.prompts == []


def test_an_answer_whose_passages_lack_what_the_question_pins_down_is_refused(make_pipeline):
    # the model answers February from the April passage: the cited passages never say February
    p = make_pipeline(EXPORTS_REPLY)
    answer = p.ask("How much did China export to Russia in February?")
    assert len(p.generator.prompts) >= 1
    assert answer.refused and answer.reason == "nothing_relevant"


def test_the_models_refusal_is_passed_on_with_its_reason(make_pipeline):
    p = make_pipeline("The articles don't say.", "no")  # the judge of the second pass says no
    answer = p.ask(KIRBY_Q)
    assert answer.refused and answer.text == REFUSAL and answer.citations == []
    assert answer.reason == "model_refused"
    assert 1 <= len(p.generator.prompts) <= 2


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
