"""The web chat around a scripted fake engine: rendering (escaping, highlights, refusals) and the wiring.

Fast: no server, no browser, no model (tests/test_browser.py drives the running page).
"""
import dataclasses
import json
import threading

import pytest

import app
from fakes_app import EXPORTS, HOSTILE, KIRBY, FakeEngine, scripted
from rag import Answer, Citation


def kirby_answer(**changes) -> Answer:
    _, answer = scripted("What did Kirby say?", changes.pop("searched", "What did Kirby say?"), 4, "fake-small")
    return Answer(**{**answer.__dict__, **changes})


def handler(demo, name):
    """The Python function behind one of the page's events, by its function name."""
    return next(f.fn for f in demo.fns.values() if f.name == name)


@pytest.fixture
def demo():
    return app.create_app(FakeEngine(delay=0), models=["fake-small", "fake-big"])


# ---- rendering ----


def test_as_text_shows_markup_and_markdown_as_typed():
    shown = app.as_text("<script>alert(1)</script> *bold* [1] $x$")
    assert "<" not in shown and ">" not in shown
    assert "&lt;script&gt;" in shown
    assert r"\*bold\*" in shown and r"\[1\]" in shown and r"\$x\$" in shown


def test_render_text_links_cited_markers_and_escapes_the_rest():
    out = app.render_text("Kirby <i>said</i> [1] and [3].", turn=2, cited={1})
    assert '<a class="rag-cite" href="#src-2-1">[1]</a>' in out
    assert "src-2-3" not in out and r"\[3\]" in out  # a marker no citation backs stays plain text
    assert "&lt;i&gt;said&lt;/i&gt;" in out


def test_streamed_text_links_every_marker_and_shows_it_is_not_done():
    out = app.render_partial("grew 153% [2", turn=1)
    assert out.endswith("…") and "153%" in out
    assert 'href="#src-1-2"' in app.render_partial("grew [2]", turn=1)


def test_highlight_marks_spans_and_escapes_everything():
    assert app.highlight("a <b> c", [(2, 5)]) == "a <mark>&lt;b&gt;</mark> c"
    assert app.highlight("abcdef", [(3, 5), (1, 4)]) == "a<mark>bcd</mark><mark>e</mark>f"
    assert app.highlight("x", []) == "x"


def test_quote_span_uses_quote_start_or_finds_the_quote():
    quote = "These two countries have grown closer,”"
    good = Citation(n=1, chunk=KIRBY, quote=quote, quote_start=KIRBY.text.index(quote))
    stale = Citation(n=1, chunk=KIRBY, quote=quote, quote_start=3)
    expected = (KIRBY.text.index(quote), KIRBY.text.index(quote) + len(quote))
    assert app.quote_span(good) == expected == app.quote_span(stale)
    assert app.quote_span(Citation(n=1, chunk=KIRBY, quote="not in the passage")) is None


def test_sources_show_title_publisher_date_score_and_the_quote_marked():
    html = app.render_sources(kirby_answer(), turn=3, typed="What did Kirby say?")
    assert 'id="src-3-1"' in html
    assert KIRBY.title in html and "NBC News" in html and "2023-03-20" in html
    assert "similarity 0.60 · rank score 0.033" in html
    assert "<mark>These two countries have grown closer,”</mark>" in html
    assert html.count("<mark>") == 1


def test_sources_escape_script_and_markup_from_an_article():
    quote = "The quote <b>here</b> ${window.__xss='tpl'} end."
    answer = Answer(question="q", text="It says [1].", searched="q",
                    citations=[Citation(n=1, chunk=HOSTILE, quote=quote, quote_start=HOSTILE.text.index(quote))])
    html = app.render_sources(answer, turn=1, typed="<img src=x onerror=alert(1)>")
    for raw in ("<script", "<img", "<b>", "<i>", "${", "onerror=\""):
        assert raw not in html, raw
    assert "&lt;script&gt;window.__xss=&#x27;script&#x27;&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the typed question too
    assert "<mark>The quote &lt;b&gt;here&lt;/b&gt; &#36;{window.__xss=&#x27;tpl&#x27;} end.</mark>" in html


def test_refusal_is_marked_and_shows_what_was_searched():
    _, refusal = scripted("Who won the 2022 World Cup?", "Who won the 2022 World Cup?", 4, "m")
    bubble = app.render_reply(refusal, turn=1, typed="Who won the 2022 World Cup?")
    assert 'class="rag-refusal"' in bubble and "The articles don&#x27;t say" in bubble
    assert "Searched: “Who won the 2022 World Cup?”" in bubble
    assert bubble.count("articles don") == 1  # the engine's own refusal text is not said twice
    other = Answer(question="q", text="Nothing in the corpus.", refused=True, searched="q")
    assert "The articles don&#x27;t say" in app.render_reply(other, 1, "q")
    html = app.render_sources(refusal, turn=1, typed="Who won the 2022 World Cup?")
    assert "rag-refused" in html and "Searched:" in html and "<mark>" not in html


def test_searched_is_shown_only_when_the_engine_rewrote_the_question():
    rewritten = kirby_answer(searched="What did John Kirby say about China?")
    assert "Searched: “What did John Kirby say about China?”" in app.render_reply(rewritten, 2, "And him?")
    assert "Searched:" not in app.render_reply(kirby_answer(), 1, "what did  Kirby say?")
    assert "Searched:" in app.render_sources(rewritten, 2, "And him?")


def test_a_note_beside_an_answer_is_shown_under_it():
    note = "The articles don't answer “Which spacecraft did each fly?”."
    bubble = app.render_reply(dataclasses.replace(kirby_answer(), note=note), 1, "q")
    assert f'<span class="rag-note">{app.as_text(note)}</span>' in bubble
    assert "rag-note" not in app.render_reply(kirby_answer(), 1, "q")


def test_timings_are_shown_discreetly():
    bubble = app.render_reply(kirby_answer(), 1, "What did Kirby say?")
    assert '<small class="rag-timings">retrieval 0.01 s · first token 0.25 s · total 1.50 s · fake-small</small>' in bubble
    assert app.render_timings(Answer(question="q", text="t")) == ""


def test_a_huge_question_is_shown_cut():
    shown = app.show_question("x" * 100_000)
    assert len(shown) < 400 and "100,000 characters" in shown


def test_panel_lists_newest_answer_first():
    assert "appear here" in app.render_panel([])
    assert app.render_panel(["<a>", "<b>"]) == "<b><a>"


# ---- one question through the fake engine ----


def test_reply_shows_the_evidence_then_streams_pieces_then_the_answer():
    reading, *replies = list(app.reply(FakeEngine(delay=0), "What did Kirby say?", [], 4, turn=1))
    assert reading.evidence is not None and reading.answer is None
    assert reading.bubble == "*Reading 1 passage …*"
    assert [r.answer is None for r in replies] == [True, True, True, False]
    assert all(r.evidence is None for r in replies)
    assert replies[0].bubble.startswith("Kirby said the two countries") and replies[0].bubble.endswith("…")
    final = replies[-1]
    assert final.answer.citations[0].n == 1
    assert 'href="#src-1-1"' in final.bubble and not final.bubble.endswith("…")


def test_the_evidence_section_lists_each_passage_read_with_its_best_sentence_marked():
    reading = next(app.reply(FakeEngine(delay=0), "What did Kirby say?", [], 4, turn=3))
    html = app.render_evidence(reading.evidence, 3, "What did <b>Kirby</b> say?")
    hit = reading.evidence.hits[0]
    start, end = reading.evidence.best[0]
    assert 'class="rag-answer rag-reading"' in html and "Reading 1 passage" in html
    assert "3. What did &lt;b&gt;Kirby&lt;/b&gt; say?" in html  # the user's words escaped
    assert f"<mark>{app.esc(hit.chunk.text[start:end])}</mark>" in html
    assert "[1]" in html and app.esc(hit.chunk.title) in html and "similarity" in html
    assert app.render_reading(4) == "*Reading 4 passages …*"


def test_huge_question_gets_the_engines_clear_message():
    engine = FakeEngine(delay=0)
    (only,) = app.reply(engine, "x" * 100_000, [], 4, turn=1)
    assert only.answer is None
    assert "rag-error" in only.bubble and "too long" in only.bubble and "100,000" in only.bubble
    assert engine.calls == []


def test_a_bug_in_the_engine_is_said_in_the_chat():
    class Broken(FakeEngine):
        def stream(self, question, history=None, k=4):
            yield "Half an ans"
            raise RuntimeError("index exploded")

    replies = list(app.reply(Broken(), "q", [], 4, turn=1))
    assert "Something went wrong" in replies[-1].bubble and "index exploded" in replies[-1].bubble


# ---- the page's wiring ----


def test_empty_message_does_nothing(demo):
    import gradio as gr

    take = handler(demo, "take")
    for blank in ("", "   ", "\n"):
        with pytest.raises(gr.Error) as raised:  # a hidden error: the answer step (.success) never runs
            take(blank, [])
        assert raised.value.visible is False
    box, chat, state, pending = take("What did Kirby say?", [])
    assert pending == "What did Kirby say?" and chat == state == [{"role": "user", "content": "What did Kirby say?"}]


def test_answer_passes_history_model_and_k_and_fills_sources():
    engine = FakeEngine(delay=0)
    demo = app.create_app(engine, models=["fake-small", "fake-big"])
    answer = handler(demo, "answer")
    chat = [{"role": "user", "content": "What did Kirby say?"}]
    *_, (chat, _, turns, sections, panel, _download) = answer("What did Kirby say?", chat, [], [], "fake-small", 3)
    assert engine.calls == [{"question": "What did Kirby say?", "history": [], "k": 3}]
    assert turns == [
        {"role": "user", "content": "What did Kirby say?"},
        {"role": "assistant", "content": scripted("What did Kirby say?", "What did Kirby say?", 3, "fake-small")[1].text},
    ]
    assert "<mark>" in panel and 'id="src-1-1"' in panel
    chat = chat + [{"role": "user", "content": "What is his role?"}]
    *_, (chat, _, turns, sections, panel, _download) = answer("What is his role?", chat, turns, sections, "fake-big", 99)
    big = engine.with_model("fake-big")
    assert big.calls[0]["history"] == turns[:2] and big.calls[0]["k"] == app.K_MAX
    assert "Searched: “What is John Kirby&#x27;s role?”" in chat[-1]["content"]
    assert panel.index('id="ans-2"') < panel.index('id="ans-1"')


def test_only_ask_is_public_and_questions_share_one_queue(demo):
    assert list(demo.get_api_info()["named_endpoints"]) == ["/ask"]
    engine_fns = [f for f in demo.fns.values() if f.name in ("answer", "ask")]
    assert len(engine_fns) == 4  # Enter, the Ask button, an example click, and the API
    # several at once: generation itself is serialized by the engine (test_real_models.py), not by the queue
    assert all(f.concurrency_id == "engine" and f.concurrency_limit == app.ENGINE_SLOTS > 1 and f.queue
               for f in engine_fns)


def test_chatbot_shows_text_not_html_and_offers_examples(demo):
    (chatbot,) = [c for c in demo.get_config_file()["components"] if c["type"] == "chatbot"]
    props = chatbot["props"]
    assert props["sanitize_html"] is True and props["allow_tags"] is False and props["latex_delimiters"] == []
    assert [e["text"] for e in props["examples"]] == app.EXAMPLES


def test_ask_endpoint_returns_the_answer_as_json(demo):
    import gradio as gr

    ask = handler(demo, "ask")
    result = ask("How much did China's exports to Russia grow in April?")
    assert json.loads(json.dumps(result))["question"] == result["question"]  # JSON-able as is
    assert "[1]" in result["text"] and result["citations"][0]["chunk"]["title"] == EXPORTS.title
    assert result["citations"][0]["quote"] in result["citations"][0]["chunk"]["text"]
    with pytest.raises(gr.Error, match="too long"):
        ask("x" * 100_000)


def test_page_says_models_are_loading_until_they_are():
    release = threading.Event()

    class Slow(FakeEngine):
        def warm(self):
            release.wait(120)  # released by the test: a loaded machine must not make the page ready early

    demo = app.create_app(Slow(), models=["fake-small"])
    status, timer = handler(demo, "poll")("fake-small")
    assert "Loading models" in status and timer.active is True
    release.set()
    for _ in range(100):
        status, timer = handler(demo, "poll")("fake-small")
        if timer.active is False:
            break
        threading.Event().wait(0.05)
    assert "Models loaded" in status and timer.active is False


def test_a_model_that_fails_to_load_says_why():
    class Broken(FakeEngine):
        def warm(self):
            raise RuntimeError("no such file: model.gguf\nmore detail")

    warmer = app.Warmer(lambda name: Broken().warm())
    warmer.wait("m", timeout=5)
    assert warmer.status("m") == "**Could not load m:** no such file: model.gguf"


def test_host_and_port_come_from_flags_or_environment(monkeypatch):
    for var in ("RAG_HOST", "RAG_PORT", "GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT"):
        monkeypatch.delenv(var, raising=False)
    args = app.parse_args([])
    assert (args.host, args.port, args.share) == ("127.0.0.1", 7860, False)
    monkeypatch.setenv("RAG_PORT", "9000")
    monkeypatch.setenv("RAG_HOST", "0.0.0.0")
    assert (app.parse_args([]).host, app.parse_args([]).port) == ("0.0.0.0", 9000)
    assert app.parse_args(["--port", "8001", "--share"]).port == 8001
    monkeypatch.delenv("RAG_PORT")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7999")
    assert app.parse_args([]).port == 7999


def test_a_refusal_says_why_in_the_bubble_and_the_sources_panel():
    refused = Answer(question="q", text="The articles don't say.", refused=True, searched="q",
                     reason="not_in_corpus", note="No article mentions “<FIFA>”.")
    bubble = app.render_reply(refused, 1, "q")
    assert 'class="rag-reason"' in bubble and "no article mentions" in bubble
    assert "&lt;FIFA&gt;" in bubble and "<FIFA>" not in bubble  # the note is escaped like everything else
    assert "Why:" in app.render_sources(refused, 1, "q")
    assert "Why:" not in app.render_reply(kirby_answer(), 1, "What did Kirby say?")
