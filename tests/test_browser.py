"""The running chat page as a person and a program use it: a real browser, gradio_client, several at once.

The engine is the real one (rag.Pipeline) when RAG_REAL=1, or when rag.Pipeline can be built and a
model is installed; RAG_REAL=0, or no engine yet, uses the scripted fake from tests/fakes_app.py.
The browser is Debian's chromium (apt-get install chromium); Playwright never downloads one.
Everything the tests write goes under pytest's tmp_path: the real engine builds its index there, and the
screenshot too, unless RAG_SCREENSHOT names a path: `make screenshots` regenerates docs/chat.png that way.
"""
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

import app
from fakes_app import FakeEngine

pytestmark = pytest.mark.browser

PROJECT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
BOT = "#rag-chat [data-testid=bot]"
USER = "#rag-chat [data-testid=user]"
BOX = "#rag-input textarea"


@dataclass
class Served:
    url: str
    engine: Any
    real: bool
    models: list[str]

    @property
    def timeout_ms(self) -> int:
        """Per answer: a CPU model needs minutes for a few queued answers, the fake a second."""
        return 600_000 if self.real else 30_000


def make_engine(index_dir: Path) -> tuple[Any, bool]:
    want = os.environ.get("RAG_REAL", "")
    if want != "0":
        try:
            import rag

            if want == "1" or rag.available_models():
                return rag.Pipeline(replace(rag.Config().with_env(), index_dir=index_dir)), True
        except (ImportError, AttributeError):  # the engine isn't written yet
            if want == "1":
                raise
    return FakeEngine(delay=0.15), False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    engine, real = make_engine(tmp_path_factory.mktemp("browser") / "index")  # never the project's index/
    models = None if real else ["fake-small", "fake-big"]
    demo = app.create_app(engine, models=models)
    port = free_port()
    app.launch(demo, port=port, block=False)
    if real:
        import rag

        models = list(rag.available_models())
    yield Served(f"http://127.0.0.1:{port}/", engine, real, models)
    demo.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("no browser: apt-get install chromium (Debian's; Playwright must not download one)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, served: Served, outside: list[str] | None = None):
    """A new tab in its own session, once the page says the models are loaded.
    Requests leaving this machine are appended to `outside` (the page must work offline)."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    if outside is not None:
        def note(request):
            host = urlparse(request.url).hostname
            if request.url.startswith(("http:", "https:", "ws:", "wss:")) and host not in ("127.0.0.1", "localhost"):
                outside.append(request.url)

        page.on("request", note)
    page.goto(served.url)
    page.wait_for_selector("#rag-status >> text=Models loaded", timeout=served.timeout_ms)
    return page


@pytest.fixture
def page(browser, served):
    page = open_page(browser, served)
    yield page
    page.context.close()


def submit(page, question: str) -> int:
    """Type a question and press Enter; returns how many answers were shown before."""
    before = page.locator(BOT).count()
    page.fill(BOX, question)
    page.press(BOX, "Enter")
    return before


def wait_answer(page, before: int, timeout_ms: int, seen: list[str] | None = None):
    """Wait until answer number before+1 is complete (the box is usable again); returns its bubble.
    With `seen`, collects the bubble's successive texts while it streams in."""
    page.wait_for_function(f"n => document.querySelectorAll({BOT!r}).length > n", arg=before, timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while page.locator(BOX).is_disabled():
        if seen is not None:
            text = page.locator(BOT).last.inner_text()
            if text and (not seen or seen[-1] != text):
                seen.append(text)
        assert time.monotonic() < deadline, "the answer did not finish"
        time.sleep(0.03)
    return page.locator(BOT).last


def ask(page, question: str, served: Served):
    return wait_answer(page, submit(page, question), served.timeout_ms)


def screenshot_path(served: Served, tmp_path: Path) -> Path:
    if os.environ.get("RAG_SCREENSHOT"):
        return Path(os.environ["RAG_SCREENSHOT"])
    return tmp_path / ("chat.png" if served.real else "chat-fake.png")


# ---- in the browser ----


def test_answer_streams_in_with_citations_and_highlighted_sources(browser, served, tmp_path):
    outside: list[str] = []
    page = open_page(browser, served, outside)
    assert page.get_by_text("How much did China's exports to Russia grow in April?").is_visible()  # examples

    seen: list[str] = []
    bubble = wait_answer(page, submit(page, "What did Kirby say?"), served.timeout_ms, seen)

    if "first token" in bubble.locator(".rag-timings").inner_text():  # generated (quoted answers come whole)
        assert len(seen) >= 2 and seen[0] != seen[-1], f"the answer did not stream in: {seen}"
    assert page.locator(USER).last.inner_text() == "What did Kirby say?"
    cites = bubble.locator("a.rag-cite")
    assert cites.count() >= 1, bubble.inner_text()
    assert "total" in bubble.locator(".rag-timings").inner_text()

    target = cites.first.get_attribute("href").lstrip("#")
    source = page.locator(f"#rag-sources #{target}")
    mark = source.locator("mark").first
    assert mark.is_visible() and mark.inner_text().strip()
    assert mark.inner_text() in source.locator(".rag-passage").inner_text()
    assert "similarity" in source.inner_text()
    if not served.real:
        assert "NBC News" in source.inner_text() and "have grown closer" in mark.inner_text()

    cites.first.click()  # the marker leads to its passage in the Sources panel, on the same page
    page.wait_for_function(f"() => location.hash === '#{target}'")
    assert len(page.context.pages) == 1 and source.is_visible()

    path = screenshot_path(served, tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    assert outside == [], f"the page reached outside this machine: {outside}"
    page.context.close()


def test_sources_are_on_screen_before_the_first_token(page, served):
    """As soon as retrieval is done, the Sources panel shows the passages being read with their best sentence
    marked, while the bubble says it is reading them; the checked answer's sources then replace them."""
    page.evaluate("""() => {
        window.__states = [];  // (reading sources on screen?, the answer bubble's text) at every change
        new MutationObserver(() => {
            const reading = document.querySelector('#rag-sources .rag-reading');
            const bots = document.querySelectorAll('#rag-chat [data-testid=bot]');
            const state = {reading: !!reading, bubble: bots.length ? bots[bots.length - 1].innerText.trim() : '',
                           marks: reading ? reading.querySelectorAll('.rag-source mark').length : 0};
            const last = window.__states[window.__states.length - 1];
            if (!last || last.reading !== state.reading || last.bubble !== state.bubble) window.__states.push(state);
        }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")
    bubble = wait_answer(page, submit(page, "How much did China's exports to Russia grow in April?"),
                         served.timeout_ms)
    states = page.evaluate("() => window.__states")
    shown = [i for i, st in enumerate(states) if st["reading"]]
    assert shown, f"the sources never showed before the answer: {states}"
    reading = [st for st in states if st["reading"] and re.fullmatch(r"Reading \d+ passages? …", st["bubble"])]
    assert reading and reading[0]["marks"] >= 1, states  # the passages, best sentence marked, while it reads
    texts = [st["bubble"] for st in states[:shown[0]]]
    assert all(not t or t.startswith(("Reading", "Waiting", "Loading")) for t in texts), states  # no token yet
    assert "153" in bubble.inner_text()
    assert page.locator("#rag-sources .rag-reading").count() == 0  # replaced by the answer's cited sources
    assert page.locator("#rag-sources .rag-source mark").count() >= 1


def test_follow_up_shows_what_was_searched(page, served):
    ask(page, "What did Kirby say?", served)
    bubble = ask(page, "What is his role?", served)
    assert "Searched:" in bubble.inner_text()
    assert "kirby" in bubble.locator(".rag-searched").inner_text().lower()
    assert page.locator(USER).count() == 2 and page.locator(BOT).count() == 2


def test_refusal_is_marked_and_says_what_was_searched(page, served):
    bubble = ask(page, "Who won the 2022 World Cup?", served)
    assert bubble.locator(".rag-refusal").inner_text().startswith("The articles don't say")
    assert "Searched: “Who won the 2022 World Cup?”" in bubble.inner_text()
    assert page.locator("#rag-sources .rag-refused").is_visible()


def test_empty_message_does_nothing(page, served):
    page.fill(BOX, "   ")
    page.press(BOX, "Enter")
    page.click("#rag-send")
    page.wait_for_timeout(1500)
    assert page.locator(USER).count() == 0 and page.locator(BOT).count() == 0
    assert page.locator(BOX).is_enabled()
    assert page.locator(".toast-body").count() == 0


def test_huge_message_gets_a_clear_message(page, served):
    bubble = ask(page, "x" * 100_000, served)
    error = bubble.locator(".rag-error").inner_text()
    assert "100,000" in error and "\n" not in error.strip()  # how long it is, in one line
    assert "100,000 characters" in page.locator(USER).last.inner_text()
    assert len(page.locator(USER).last.inner_text()) < 1000
    assert page.locator(BOX).is_enabled()


def test_html_in_a_question_or_an_article_is_shown_as_text(page, served):
    question = "<img src=x onerror=\"window.__xss='q'\"><script>window.__xss='s'</script> hostile *stars*"
    ask(page, question, served)
    assert page.locator(USER).last.inner_text() == question
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src=x]").count() == 0 and page.locator("#rag-chat script").count() == 0
    if not served.real:  # the fake cites an article full of markup
        sources = page.locator("#rag-sources").inner_text()
        assert "<script>window.__xss='script'</script>" in sources
        assert "${window.__xss='tpl'}" in page.locator("#rag-sources mark").inner_text()
        assert "<b>here</b>" in page.locator(BOT).last.inner_text()


def test_example_click_answers_and_clear_starts_over(page, served):
    example = "Who won the 2022 World Cup?"  # a refusal: no generation, so quick with the real model too
    page.locator("#rag-chat").get_by_text(example).click()
    wait_answer(page, 0, served.timeout_ms)
    assert page.locator(USER).last.inner_text() == example
    assert page.locator("#rag-sources .rag-answer").count() == 1
    page.click("#rag-clear")
    page.wait_for_function(f"() => document.querySelectorAll({BOT!r}).length === 0")
    assert "appear here" in page.locator("#rag-sources").inner_text()
    assert page.locator("#rag-chat").get_by_text(example).is_visible()  # the examples are back
    if not served.real:  # and the engine gets no history any more
        ask(page, "What did Kirby say?", served)
        assert served.engine.calls[-1]["history"] == []


def test_clear_during_an_answer_stops_it_and_the_box_works_again(page, served):
    if served.real:
        pytest.skip("timing-dependent: shown with the fake's slow answer")
    slow = served.engine.delay
    served.engine.delay = 1.0
    try:
        submit(page, "What did Kirby say?")
        page.wait_for_function(f"() => document.querySelectorAll({BOT!r}).length === 1")
        page.click("#rag-clear")
        page.wait_for_function(f"() => document.querySelectorAll({BOT!r}).length === 0")
        page.wait_for_timeout(2500)  # the cancelled answer must not come back
        assert page.locator(BOT).count() == 0 and page.locator(BOX).is_enabled()
    finally:
        served.engine.delay = slow
    bubble = ask(page, "How much did China's exports to Russia grow in April?", served)
    assert "153%" in bubble.inner_text() and page.locator(USER).count() == 1


def test_settings_choose_the_model_and_the_number_of_passages(page, served):
    page.locator("#rag-settings").get_by_text("Settings").click()
    page.locator("#rag-model input").click()
    options = page.get_by_role("option")
    options.first.wait_for()
    assert set(served.models) <= {o.split("\n")[-1].strip() for o in options.all_inner_texts()}
    if served.real:  # switching loads another model: the fake shows the wiring
        return
    page.get_by_role("option", name="fake-big").click()
    page.locator("#rag-k input[type=number]").fill("2")
    page.locator("#rag-k input[type=number]").press("Enter")
    page.wait_for_selector("#rag-status >> text=fake-big", timeout=served.timeout_ms)
    bubble = ask(page, "How much did China's exports to Russia grow in April?", served)
    assert "fake-big" in bubble.locator(".rag-timings").inner_text()
    assert served.engine.with_model("fake-big").calls[-1]["k"] == 2


def test_tabs_asking_at_once_each_get_their_own_answer_in_turn(browser, served):
    """Two of the three need the model, which answers one at a time: the one waiting says so on its page."""
    expected = {"How much did China's exports to Russia grow in April?": "153%",
                "How long did Xi and Putin talk in Moscow?": "Moscow",
                "Who won the 2022 World Cup?": "don't say"}  # in the fake's answers
    questions = list(expected)
    pages = [open_page(browser, served) for _ in questions]
    slow = getattr(served.engine, "delay", None)
    if not served.real:  # the fake's answers take 0.3 s: long enough to wait behind, but only just
        served.engine.delay = 1.0
    try:
        for page, question in zip(pages, questions):
            page.fill(BOX, question)
        for page in pages:
            page.press(BOX, "Enter")
        waited = False
        deadline = time.monotonic() + served.timeout_ms / 1000  # as long as one answer may take (a loaded machine)
        while not waited and time.monotonic() < deadline:  # someone waits: the page says so
            waited = any("Waiting for the model: 1 question ahead" in p.locator("#rag-chat").inner_text()
                         for p in pages)
            time.sleep(0.05)
        assert waited
        for page, question in zip(pages, questions):
            wait_answer(page, 0, served.timeout_ms * len(questions))
            assert page.locator(USER).all_inner_texts() == [question]
            assert page.locator(BOT).count() == 1
            assert "Waiting for the model" not in page.locator(BOT).inner_text()
            assert page.locator("#rag-sources .rag-q").all_inner_texts() == [f"1. {question}"]
            if not served.real:
                assert expected[question] in page.locator(BOT).inner_text()
    finally:
        if not served.real:
            served.engine.delay = slow
    for page in pages:
        page.context.close()


# ---- by program ----


def client(served: Served):
    from gradio_client import Client

    return Client(served.url, verbose=False)


def test_client_ask_returns_the_answer_with_its_citations(served):
    result = client(served).predict("What did Kirby say?", api_name="/ask")
    assert result["question"] == "What did Kirby say?" and not result["refused"]
    assert re.search(r"\[\d+\]", result["text"]) and result["citations"]
    for citation in result["citations"]:
        assert citation["quote"] in citation["chunk"]["text"]
        assert citation["chunk"]["title"]
    assert result["timings"]["total"] > 0


def test_client_gets_a_clear_error_for_a_huge_question(served):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="100,000"):
        client(served).predict("x" * 100_000, api_name="/ask")


def test_client_cannot_name_a_model_the_page_does_not_offer(served):
    from gradio_client.exceptions import AppError

    for model in (str(PROJECT / "pyproject.toml"), "/no/such/model.gguf", "org/repo:file.gguf"):
        with pytest.raises(AppError) as info:
            client(served).predict("What did Kirby say?", model=model, api_name="/ask")
        assert "not offered" in str(info.value) and model not in str(info.value)


def test_simultaneous_clients_each_get_their_own_answer(served):
    questions = ["What did Kirby say?", "How much did China's exports to Russia grow in April?",
                 "Who won the 2022 World Cup?"]
    with ThreadPoolExecutor(len(questions)) as pool:
        results = list(pool.map(lambda q: client(served).predict(q, api_name="/ask"), questions))
    assert [r["question"] for r in results] == questions
    assert all(r["text"] for r in results)
    assert results[2]["refused"] and not results[0]["refused"]
    if not served.real:  # (that the real model runs one generation at a time: test_real_models.py)
        assert "153%" in results[1]["text"] and "Kirby" in results[0]["text"]


def test_a_question_refused_before_the_model_does_not_wait_for_answers_being_generated(served):
    """Only generation is serialized: a refusal decided before the model (a name no article mentions)
    comes back while earlier questions are still waiting for the model, not after them."""
    generated = ["How much did China's exports to Russia grow in April?", "What is John Kirby's role?",
                 "How long did Xi and Putin talk in Moscow?", "Where did Mishustin speak at a business forum?"]
    clients = [client(served) for _ in range(5)]  # connected first: connecting takes longer than answering
    done: dict[str, float] = {}

    def ask(i: int, question: str) -> None:
        result = clients[i].predict(question, api_name="/ask")
        early = result["refused"] and result["reason"] in ("not_in_corpus", "no_passages")  # no model call
        done[f"{i}:{'refused' if early else 'answered'}"] = time.perf_counter()  # (the model may still refuse)

    with ThreadPoolExecutor(5) as pool:
        start = time.perf_counter()
        jobs = [pool.submit(ask, i, q) for i, q in enumerate(generated)]
        time.sleep(0.3)  # the four are queued for the model by now
        jobs.append(pool.submit(ask, 4, "Who won the 2022 FIFA World Cup?"))
        for job in jobs:
            job.result()
    refused = done.pop("4:refused")
    assert len(done) == 4 and all(k.endswith("answered") for k in done), done
    answered = sorted(done.values())
    assert answered[-1] - start > 0.9, "the four generations did not take turns"  # the fake: 9 pieces x 0.15 s
    assert refused < answered[-1], "the refusal waited for every generation"


def test_python_app_py_serves_on_the_port_it_prints(tmp_path):
    port = free_port()
    env = {**os.environ, "RAG_PORT": str(port), "PYTHONUNBUFFERED": "1", "RAG_INDEX_DIR": str(tmp_path / "index")}
    proc = subprocess.Popen([sys.executable, str(PROJECT / "app.py")], cwd=PROJECT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith(f"News chat on http://127.0.0.1:{port}"), first
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
            assert response.status == 200 and "News Q&amp;A" in response.read().decode()
        second = subprocess.run([sys.executable, str(PROJECT / "app.py"), "--port", str(port)], cwd=PROJECT,
                                env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 1 and f"cannot serve on 127.0.0.1:{port}" in second.stderr
    finally:
        proc.terminate()
        proc.wait(30)
