"""rag/kinds/: one handler per question kind, each run through Pipeline with the fakes plugged in.

Every handler's test fails when the router sends its kind elsewhere: the verbatim kinds never call the
model, the model's kinds do, the figure kind cites other articles' figures, a two-part question searches
each part."""
import re

from conftest import EXPORTS_REPLY, KIRBY_Q, assert_exact_quotes

from rag.prompt import REFUSAL
from rag.second_pass import RETRY_CANDIDATES
from rag.types import Evidence

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
    assert 1 <= len(p.generator.prompts) <= 1 + RETRY_CANDIDATES  # the answer, then a judge call per sentence


def test_a_question_about_two_different_people_is_answered_part_by_part(make_pipeline):
    p = make_pipeline("John Kirby is the National Security Council coordinator [1].",
                      "Bonnie Glaser is managing director of the Indo-Pacific program at the German Marshall Fund [1].")
    pieces = list(p.stream("What is John Kirby's job, and what position does Bonnie Glaser hold?"))
    final = pieces[-1]
    assert len(p.generator.prompts) == 2  # one model call per part, each with its own passages
    asked = [m[-1]["content"].rsplit("Question:", 1)[1].strip() for m in p.generator.prompts]
    assert asked == ["What is John Kirby's job?", "What position does Bonnie Glaser hold?"]
    assert not final.refused and "coordinator" in final.text and "German Marshall Fund" in final.text
    ns = [int(n) for n in re.findall(r"\[(\d+)\]", final.text)]
    assert len(ns) == 2 and ns[0] != ns[1]  # two passages, numbered apart
    for c in final.citations:
        assert final.hits[c.n - 1].chunk == c.chunk and c.quote in c.chunk.text
    assert {c.chunk.doc_id for c in final.citations} == {"000_d23a82ec91eb8c2b", "003_61459b7c16ee4894"}
    assert "".join(x for x in pieces[:-1] if isinstance(x, str)).count("\n") >= 1  # the parts stream one by one
    assert sum(isinstance(x, Evidence) for x in pieces) == 2  # each part's passages on screen as it is read


def test_a_figure_other_articles_give_differently_is_cited_beside_the_answer(make_pipeline):
    reply = "Xi and Putin met on Monday for more than four hours [1]."
    p = make_pipeline(lambda messages: reply.replace("[1]", f"[{_passage_saying(messages, 'more than four hours')}]"))
    answer = p.ask("How many hours did Xi and Putin hold talks on Monday?", k=8)
    assert len(p.generator.prompts) == 1 and not answer.refused
    assert "\nThe articles differ: “" in answer.text and "almost four and a half hours" in answer.text
    assert len({c.chunk.doc_id for c in answer.citations}) == 2  # the answer's article and the other one
    assert_exact_quotes(answer)


def test_a_free_question_is_answered_by_the_model_with_no_figures_compared(make_pipeline):
    reply = "Xi and Putin met on Monday for more than four hours [1]."
    p = make_pipeline(lambda messages: reply.replace("[1]", f"[{_passage_saying(messages, 'more than four hours')}]"))
    answer = p.ask("Where did Xi and Putin hold talks on Monday?", k=8)
    assert len(p.generator.prompts) == 1 and not answer.refused
    prompt = p.generator.prompts[0][-1]["content"]
    assert "almost four and a half hours" in prompt  # the other figure was shown, and is not the question's
    assert "differ" not in answer.text
    assert_exact_quotes(answer)


def _passage_saying(messages, words: str) -> int:
    """The number of the passage in the prompt that holds `words` (the fake model cites it)."""
    prompt = messages[-1]["content"]
    for n, passage in enumerate(re.split(r"<passage", prompt)[1:], 1):
        if words in passage:
            return n
    raise AssertionError(f"no passage shown holds {words!r}")


def test_a_speakers_words_from_articles_that_never_name_the_topic_are_refused(make_pipeline, corpus_dir, monkeypatch):
    # the real embedder finds some of Kirby's words close enough to 'North Korea' (seen with 3,000 other articles)
    monkeypatch.setattr("rag.attribution.MIN_RELEVANCE", -1.0)
    # another article names North Korea, so the corpus knows the name and the question reaches the handler
    (corpus_dir / "zz_korea.txt").write_text(
        "North Korea tests a missile\n\nNorth Korea launched a missile on Tuesday, officials in Seoul said. "
        "The launch was the third this year, according to the defense ministry.\n", encoding="utf-8")
    p = make_pipeline("The model must not be asked [1].")
    answer = p.ask("What did Kirby say about North Korea?")
    assert answer.refused and answer.reason == "nothing_relevant"
    assert answer.note == "The passages cited never mention “North Korea”."
    assert p.generator.prompts == [] and answer.citations == []


def test_who_wrote_an_article_is_answered_from_its_byline_and_cited_to_the_line_of_its_file(make_pipeline, corpus_dir):
    p = make_pipeline("The model must not be asked [1].")
    answer = p.ask("Who wrote the article about Xi’s trip to Russia boosting ‘dear friend’ Putin?")
    assert p.generator.prompts == []  # the article's own header answers
    assert not answer.refused
    assert "Andrea Mitchell and Dan De Luce [1]" in answer.text
    [c] = answer.citations
    assert c.quote == "By Andrea Mitchell and Dan De Luce" and c.chunk.text[c.quote_start:].startswith(c.quote)
    head = p.index.articles[c.chunk.doc_id]
    line = next(h for h in head.lines if h.field == "byline")
    raw = (corpus_dir / head.file).read_text(encoding="utf-8")
    assert raw[line.start:line.end] == c.quote  # the exact place in the article's file


def test_an_article_that_never_writes_its_byline_is_a_refusal_that_says_so(make_pipeline):
    p = make_pipeline("The model must not be asked [1].")
    answer = p.ask("Who wrote the article about Xi reaffirming support for Russia in security issues?")
    assert p.generator.prompts == []
    assert answer.refused and answer.reason == "not_answered"
    assert "does not say who wrote it" in answer.note and "reaffirms support" in answer.note
