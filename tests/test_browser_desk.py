"""The newsroom desk's tabs as a person uses them, in headless Chromium: Quotes (filter, open the source with the
sentence marked and scrolled to, CSV and Markdown downloads), Coverage side by side, the Timeline chart,
Differences; an uploaded article's quote appears in Quotes and goes with the article; a one-article corpus
without quotes or dates shows why each view is empty.

The real app and server, the real embedder and index over a corpus copy under tmp_path; the generator is the
scripted fake, since nothing on the desk calls the language model. The browser is Debian's chromium;
Playwright never downloads one."""
import csv
import io
import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import CORPUS, ScriptedGenerator
from test_browser import CHROMIUM, CHROMIUM_ARGS, free_port

import app
import rag
from rag.corpus import load_corpus

pytestmark = pytest.mark.browser

TIMEOUT = 300_000  # models loading and the index built on a shared 2-core machine
VIEW = 30_000  # one desk view (it opens in well under a second; the margin is for a busy machine)
KIRBY = ("“This is a relationship that has been burgeoning of late. These two countries have grown closer,” "
         "National Security Council coordinator John Kirby told reporters on Monday.")
KIRBY_LAST = "The U.S. is focused on “revitalizing our alliances and partnerships around the world"
ROLE = "National Security Council coordinator"
QUILLANE = "“Rye is the bread of this city and it always was,” said Zorvath Quillane, the owner of the bakery."
ARTICLE = ("Zorvath Quillane opens a rye bakery in Oslo\n\nBy Ann Lee\n\n2024-02-01\n\n"
           "OSLO — Zorvath Quillane opened a rye bakery on Grünerløkka on Thursday. " + QUILLANE + "\n\n"
           "The bakery employs four bakers and opens at six o'clock.\n")
FILE = "quillane_bakery.txt"
HARBOUR = ("Harbour notes from the pier\n\n"
           "The ferry left on time and the harbour was calm. Gulls circled over the pier. "
           "The fish market opened as usual and the boats came back full.\n")


def serve(root: Path, embedder=None):
    config = replace(rag.Config().with_env(), corpus_dir=root / "corpus", index_dir=root / "index", index_named=False)
    engine = rag.Pipeline(config, embedder=embedder, generator=ScriptedGenerator())
    demo = app.create_app(engine, models=[])
    port = free_port()
    app.launch(demo, port=port, block=False)
    return demo, f"http://127.0.0.1:{port}/", engine


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("desk")
    shutil.copytree(CORPUS, root / "corpus")
    demo, url, engine = serve(root)
    yield url, root, engine
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


def open_page(browser, url: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True).new_page()
    page.goto(url)
    try:
        page.wait_for_selector("#rag-status >> text=Models loaded", timeout=TIMEOUT)
    except Exception as e:  # say what the page says instead ("Could not load …")
        raise AssertionError(f"the page did not load: {page.locator('#rag-status').inner_text()!r}") from e
    return page


@pytest.fixture(scope="module")
def page(browser, served):
    page = open_page(browser, served[0])
    yield page
    page.context.close()


def open_tab(page, name: str, ready: str) -> float:
    """Select a tab and wait for its view; returns the seconds from the click to the view on screen."""
    started = time.monotonic()
    page.get_by_role("tab", name=name).click()
    page.wait_for_selector(ready, timeout=VIEW)
    return time.monotonic() - started


def choose(page, dropdown: str, option: str):
    """Pick the option whose label holds `option` in a Gradio dropdown."""
    page.locator(f"{dropdown} input").click()
    page.locator(f"{dropdown} input").fill("")  # the shown choice would filter the list down to itself
    page.get_by_role("option", name=option).click()
    page.keyboard.press("Escape")


def download(page, button: str) -> tuple[str, str]:
    with page.expect_download() as got:
        page.click(button)
    return got.value.suggested_filename, Path(got.value.path()).read_text(encoding="utf-8")


def speakers(page) -> list[str]:
    return page.locator("#rag-quotes tr.rag-quote-row .rag-speaker strong").all_inner_texts()


def articles(root: Path) -> dict[str, str]:
    """{doc id: the article's cleaned text}, what every desk line is an exact part of."""
    return {d.doc_id: d.text for d in load_corpus(root / "corpus")}


def corpus_text(root: Path) -> str:
    return "\n".join(articles(root).values())


def test_quotes_filter_open_the_source_and_download(page, served):
    url, root, engine = served
    seconds = open_tab(page, "Quotes", "#rag-quotes tr.rag-quote-row")
    everyone = speakers(page)
    assert everyone.count("John Kirby") == 4 and len(set(everyone)) > 3, everyone

    choose(page, "#rag-quotes-speaker", "John Kirby (4)")
    page.wait_for_function("() => document.querySelectorAll('#rag-quotes tr.rag-quote-row').length === 4",
                           timeout=VIEW)
    assert speakers(page) == ["John Kirby"] * 4
    assert page.locator("#rag-quotes .rag-role").all_inner_texts() == [ROLE] * 4
    assert KIRBY in page.locator("#rag-quotes .rag-quote").all_inner_texts()

    # the last of his statements, far down its article: shown with that sentence marked, scrolled into view
    page.locator("#rag-quotes tr.rag-quote-row", has_text=KIRBY_LAST).locator(".rag-show").click()
    page.wait_for_selector("#rag-quotes-source mark", timeout=VIEW)
    mark = page.locator("#rag-quotes-source mark")
    assert mark.count() == 1 and mark.inner_text().startswith(KIRBY_LAST)
    assert mark.inner_text() in corpus_text(root)
    assert "Xi Jinping says China ready to work with Russia" in page.locator("#rag-quotes-source .rag-title").inner_text()
    page.wait_for_function("""() => {
        const m = document.querySelector('#rag-quotes-source mark').getBoundingClientRect();
        const p = document.querySelector('#rag-quotes-source').getBoundingClientRect();
        return m.height > 0 && m.top >= Math.max(p.top, 0) - 1 && m.bottom <= Math.min(p.bottom, innerHeight) + 1;
    }""", timeout=VIEW)
    # a click on another row moves the mark to that statement
    page.locator("#rag-quotes tr.rag-quote-row", has_text="burgeoning of late").click()
    page.wait_for_function("t => document.querySelector('#rag-quotes-source mark').innerText === t", arg=KIRBY,
                           timeout=VIEW)

    name, text = download(page, "#rag-quotes-csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert name == "quotes.csv" and len(rows) == 4
    assert KIRBY in [r["quote"] for r in rows] and {r["role"] for r in rows} == {ROLE}
    assert all(r["quote"] in corpus_text(root) and r["doc_id"] == "000_d23a82ec91eb8c2b" for r in rows)
    name, markdown = download(page, "#rag-quotes-md")
    assert name == "quotes.md" and markdown.startswith("## Quotes — John Kirby") and markdown.count("| John Kirby |") == 4

    choose(page, "#rag-quotes-speaker", "All speakers (")
    page.wait_for_function("() => document.querySelectorAll('#rag-quotes tr.rag-quote-row').length > 4", timeout=VIEW)
    page.fill("#rag-quotes-word textarea", "bristle")  # a word: only the statements holding it
    page.wait_for_function("() => document.querySelectorAll('#rag-quotes tr.rag-quote-row').length === 1",
                           timeout=VIEW)
    assert "bristle" in page.locator("#rag-quotes .rag-quote").inner_text()
    page.fill("#rag-quotes-word textarea", "")
    print(f"Quotes tab: {seconds:.2f} s from the click to the table")


def test_coverage_sets_the_articles_side_by_side(page, served):
    url, root, engine = served
    page.get_by_role("tab", name="Coverage").click()
    page.fill("#rag-coverage-topic textarea", "Ukraine")
    started = time.monotonic()
    page.click("#rag-coverage-go")
    page.wait_for_selector("#rag-coverage .rag-cov-card", timeout=VIEW)
    seconds = time.monotonic() - started
    cards = page.locator("#rag-coverage .rag-cov-card")
    assert cards.count() >= 3
    boxes = [cards.nth(i).bounding_box() for i in range(cards.count())]
    assert len({round(b["y"]) for b in boxes}) == 1, boxes  # one row, side by side
    assert [b["x"] for b in boxes] == sorted(b["x"] for b in boxes)
    heads = cards.locator(".rag-cov-head").all_inner_texts()
    assert any(h.startswith("NBC News · ") for h in heads) and any(h.startswith("Washington Examiner · ") for h in heads)
    texts = articles(root)
    sentences = []
    for i in range(cards.count()):  # every line an exact sentence of its own article (as the index reads it)
        doc = cards.nth(i).get_attribute("data-doc")
        lines = cards.nth(i).locator(".rag-sentence").all_text_contents()  # as written, not as laid out
        assert lines and [s for s in lines if s not in texts[doc]] == [], doc
        sentences += lines
    name, exported = download(page, "#rag-coverage-csv")
    assert name == "coverage.csv" and {r["sentence"] for r in csv.DictReader(io.StringIO(exported))} == set(sentences)
    print(f"Coverage of Ukraine: {seconds:.2f} s from the click to the cards")


def test_timeline_draws_a_dot_per_event(page, served):
    seconds = open_tab(page, "Timeline", "#rag-timeline svg circle")
    dots = page.locator("#rag-timeline svg circle.rag-tl-dot")
    events = page.locator("#rag-timeline li.rag-tl-event")
    assert dots.count() == events.count() >= 2
    whens = [events.nth(i).get_attribute("data-when") for i in range(events.count())]
    assert whens == sorted(whens)  # oldest first
    xs = [float(dots.nth(i).get_attribute("cx")) for i in range(dots.count())]
    assert xs == sorted(xs)
    assert page.locator("#rag-timeline svg circle[data-when='2019-06-05']").count() == 1
    june = page.locator("#rag-timeline li.rag-tl-event[data-when='2019-06-05']")
    assert june.locator(".rag-tl-when").inner_text() == "5 June 2019"
    assert "June 5, 2019" in june.inner_text() and "file photo" in june.inner_text()
    assert page.locator("#rag-timeline svg .rag-tl-label").count() >= 2
    assert page.locator("#rag-timeline svg").bounding_box()["width"] > 600  # a picture, not a dot in a corner
    name, text = download(page, "#rag-timeline-md")
    assert name == "timeline.md" and "June 5, 2019" in text
    print(f"Timeline tab: {seconds:.2f} s")


def test_differences_lists_both_figures(page, served):
    seconds = open_tab(page, "Differences", "#rag-differences .rag-diff")
    diff = page.locator("#rag-differences .rag-diff").first
    assert diff.locator(".rag-diff-head strong").inner_text() == "hour"
    figures = diff.locator(".rag-figure-value").all_inner_texts()
    assert "more than four hours" in figures and "almost four and a half hours" in figures
    marked = diff.locator("blockquote mark").all_inner_texts()
    assert "more than four hours" in marked and "almost four and a half hours" in marked
    name, text = download(page, "#rag-differences-csv")
    assert name == "differences.csv" and "almost four and a half hours" in text
    print(f"Differences tab: {seconds:.2f} s")


def test_an_uploaded_articles_quote_comes_and_goes(page, served):
    url, root, engine = served
    open_tab(page, "Quotes", "#rag-quotes tr.rag-quote-row")
    assert "Zorvath Quillane" not in speakers(page)

    page.get_by_role("tab", name="Articles").click()
    page.wait_for_function("() => document.querySelector('#rag-summary').innerText.startsWith('5 articles')",
                           timeout=VIEW)
    page.locator("#rag-upload input[type=file]").set_input_files(
        [{"name": FILE, "mimeType": "text/plain", "buffer": ARTICLE.encode()}])
    page.wait_for_selector("#rag-report .rag-build", timeout=TIMEOUT)
    assert f"added {FILE}" in page.locator("#rag-report").inner_text()

    open_tab(page, "Quotes", "#rag-quotes tr.rag-quote-row")
    page.wait_for_function("() => document.querySelector('#rag-quotes').innerText.includes('Zorvath Quillane')",
                           timeout=VIEW)
    row = page.locator("#rag-quotes tr.rag-quote-row", has_text="Zorvath Quillane")
    assert row.count() == 1 and row.locator(".rag-quote").inner_text() == QUILLANE
    row.click()
    page.wait_for_function("t => document.querySelector('#rag-quotes-source mark')?.innerText === t", arg=QUILLANE,
                           timeout=VIEW)
    page.locator("#rag-quotes-speaker input").click()
    assert page.get_by_role("option", name="Zorvath Quillane (1)").count() == 1
    page.keyboard.press("Escape")

    page.get_by_role("tab", name="Articles").click()
    page.locator("#rag-remove-choice input").click()
    page.get_by_role("option", name="Zorvath Quillane opens a rye bakery in Oslo [quillane_bakery]").click()
    page.click("#rag-remove")
    page.wait_for_selector("#rag-confirm-text >> text=Remove", timeout=VIEW)
    page.click("#rag-remove-yes")
    page.wait_for_selector("#rag-report .rag-removed", timeout=TIMEOUT)

    open_tab(page, "Quotes", "#rag-quotes tr.rag-quote-row")
    page.wait_for_function("() => !document.querySelector('#rag-quotes').innerText.includes('Zorvath Quillane')",
                           timeout=VIEW)
    assert speakers(page).count("John Kirby") == 4
    page.locator("#rag-quotes-speaker input").click()
    assert page.get_by_role("option", name="Zorvath Quillane (1)").count() == 0
    page.keyboard.press("Escape")


def test_one_article_without_quotes_or_dates_gives_empty_views(browser, served, tmp_path):
    root = tmp_path
    (root / "corpus").mkdir()
    (root / "corpus" / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    demo, url, engine = serve(root, embedder=served[2].embedder)
    try:
        page = open_page(browser, url)
        lines = {}
        for tab, view in (("Quotes", "#rag-quotes"), ("Timeline", "#rag-timeline"), ("Differences", "#rag-differences")):
            open_tab(page, tab, f"{view} .rag-desk-empty")
            lines[tab] = page.locator(f"{view} .rag-desk-empty").inner_text()
            assert page.locator(f"{view}-csv").is_disabled() and page.locator(f"{view}-md").is_disabled()
        page.get_by_role("tab", name="Coverage").click()
        page.fill("#rag-coverage-topic textarea", "Ukraine")
        page.press("#rag-coverage-topic textarea", "Enter")
        page.wait_for_selector("#rag-coverage .rag-desk-empty", timeout=VIEW)
        lines["Coverage"] = page.locator("#rag-coverage .rag-desk-empty").inner_text()
        assert lines == {
            "Quotes": "Nothing to list: no sentence of the articles is attributed to a named speaker.",
            "Timeline": "Nothing to list: no sentence gives a date the articles let us place (relative days need "
                        "the article's date).",
            "Differences": "Nothing to list: only one article is indexed: there is no other to differ from.",
            "Coverage": "Nothing to list: no article has a sentence about that topic.",
        }, json.dumps(lines, indent=1)
        assert page.locator(".rag-error").count() == 0
        page.context.close()
    finally:
        demo.close()
