"""The Articles tab as a person uses it, in headless Chromium, with the real engine and models over a corpus copy
and an index under tmp_path: upload an article written for this test, ask about it, ask within it, download
the answer as Markdown, remove the article; unsafe and binary uploads are refused with a message.
The browser is Debian's chromium; Playwright never downloads one."""
import re
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pytest
from test_browser import BOT, BOX, CHROMIUM, CHROMIUM_ARGS, free_port, wait_answer

import app
import rag
from rag.export import md_text, quotes

pytestmark = pytest.mark.browser

PROJECT = Path(__file__).resolve().parent.parent
TIMEOUT = 600_000  # a CPU model answering on a shared machine
TITLE = "Zorvath Quillane opens a rye bakery in Oslo"
ARTICLE = (
    f"{TITLE}\n\n"
    "By Ann Lee\n\n"
    "2024-02-01\n\n"
    "OSLO — Zorvath Quillane opened a rye bakery on Grünerløkka on Thursday. "
    "Zorvath Quillane said the bakery sells 400 loaves of rye bread every morning.\n\n"
    "The bakery employs four bakers and opens at six o'clock. "
    "Quillane said the sourdough starter came from his grandmother in Bergen.\n"
)
FILE = "zorvath_bakery.txt"
QUESTION = "How many loaves of rye bread does Zorvath Quillane's bakery sell every morning?"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("articles")
    shutil.copytree(PROJECT / "corpus", root / "corpus")
    config = replace(rag.Config().with_env(), corpus_dir=root / "corpus", index_dir=root / "index", index_named=False)
    engine = rag.Pipeline(config)
    demo = app.create_app(engine)
    port = free_port()
    app.launch(demo, port=port, block=False)
    yield f"http://127.0.0.1:{port}/", root, engine
    demo.close()


@pytest.fixture(scope="module")
def page(served):
    if not Path(CHROMIUM).exists():
        pytest.fail("no browser: apt-get install chromium (Debian's; Playwright must not download one)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True).new_page()
        page.goto(served[0])
        page.wait_for_selector("#rag-status >> text=Models loaded", timeout=TIMEOUT)
        yield page
        browser.close()


def ask(page, question: str):
    before = page.locator(BOT).count()
    page.fill(BOX, question)
    page.press(BOX, "Enter")
    return wait_answer(page, before, TIMEOUT)


def test_upload_ask_filter_export_remove(page, served, tmp_path):
    url, root, engine = served
    corpus = root / "corpus"
    page.get_by_role("tab", name="Articles").click()
    page.wait_for_selector("#rag-articles tbody tr")
    # (while the tab's load event runs, Gradio's "queue: 1/1" status stands before the summary: wait it out)
    page.wait_for_function("() => document.querySelector('#rag-summary').innerText.startsWith('5 articles')")

    # upload: the article, a name that climbs out of the corpus folder, a binary file
    page.locator("#rag-upload input[type=file]").set_input_files([
        {"name": FILE, "mimeType": "text/plain", "buffer": ARTICLE.encode()},
        {"name": "../../evil.txt", "mimeType": "text/plain", "buffer": b"A perfectly good article, but its name."},
        {"name": "photo.txt", "mimeType": "text/plain", "buffer": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"},
    ])
    page.wait_for_selector("#rag-report .rag-build", timeout=TIMEOUT)
    report = page.locator("#rag-report")
    assert "Index updated" in report.inner_text()
    added, evil, binary = report.locator("li").all_inner_texts()
    assert added.startswith(f"added {FILE}: saved as {FILE}")
    assert evil.startswith("skipped ../../evil.txt: unsafe file name")
    assert binary.startswith("skipped photo.txt: a binary file")
    assert (corpus / FILE).read_text() == ARTICLE
    assert sorted(p.name for p in root.rglob("evil.txt")) == [] and not (corpus / "photo.txt").exists()
    page.wait_for_function("() => document.querySelector('#rag-summary').innerText.startsWith('6 articles')")
    assert page.locator("#rag-articles tbody tr").first.locator(".rag-title").inner_text() == TITLE  # newest first

    # ask about it right away: a cited answer quoting the article
    page.get_by_role("tab", name="Chat").click()
    bubble = ask(page, QUESTION)
    assert bubble.locator(".rag-refusal").count() == 0, bubble.inner_text()
    assert "400" in bubble.inner_text() and bubble.locator("a.rag-cite").count() >= 1
    mark = page.locator("#rag-sources mark").first
    assert mark.inner_text().strip() and mark.inner_text() in ARTICLE
    assert TITLE in page.locator("#rag-sources").inner_text()

    # within one article: the answer says so, and every source is that article
    page.locator("#rag-filters").get_by_text("Search within").click()
    page.locator("#rag-f-articles input").click()
    page.get_by_role("option", name=f"{TITLE} [zorvath_bakery]").click()
    page.keyboard.press("Escape")
    bubble = ask(page, "What did Quillane say about the sourdough starter?")
    assert "Searched 1 of 6 articles" in bubble.locator(".rag-scope").inner_text()
    titles = page.locator("#rag-sources .rag-answer").first.locator(".rag-title").all_inner_texts()
    assert titles and set(titles) == {TITLE}, bubble.inner_text()

    # take it with you: Markdown whose footnotes quote the article exactly
    with page.expect_download() as download:
        page.click("#rag-export")
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert download.value.suggested_filename == "answer.md"
    assert markdown.startswith("## What did Quillane say about the sourdough starter?")
    found = quotes(markdown)
    assert found and all(q in ARTICLE for q in found), (found, markdown)
    assert f"[^1]: {md_text(TITLE)} · {md_text('2024-02-01')} · {md_text(FILE)}" in markdown
    assert "[^1]" in markdown.split("\n\n")[1]

    # remove it, with confirmation: gone from the folder and the index, and questions about it are refused
    page.get_by_role("tab", name="Articles").click()
    page.locator("#rag-remove-choice input").click()
    page.get_by_role("option", name=f"{TITLE} [zorvath_bakery]").click()
    page.click("#rag-remove")
    page.wait_for_selector("#rag-confirm-text >> text=Remove", timeout=30_000)
    assert TITLE in page.locator("#rag-confirm-text").inner_text()
    assert (corpus / FILE).exists()  # nothing happens before the confirmation
    page.click("#rag-remove-yes")
    page.wait_for_selector("#rag-report .rag-removed", timeout=TIMEOUT)
    page.wait_for_function("() => document.querySelector('#rag-summary').innerText.startsWith('5 articles')")
    assert not (corpus / FILE).exists()
    assert "zorvath_bakery" not in {c.doc_id for c in engine.index.chunks}
    assert TITLE not in page.locator("#rag-articles").inner_text()

    page.reload()  # a fresh page: no filter
    page.wait_for_selector("#rag-status >> text=Models loaded", timeout=TIMEOUT)
    bubble = ask(page, QUESTION)
    assert bubble.locator(".rag-refusal").inner_text().startswith("The articles don't say")


def test_a_second_upload_waits_visibly(page, served):
    """Two uploads from two tabs at once: one index build at a time, the second shows its place in the queue."""
    url, root, engine = served
    page.get_by_role("tab", name="Articles").click()
    files = [{"name": f"note{i}.txt", "mimeType": "text/plain",
              "buffer": (f"Harbour note number {i} from the Oslo port authority\n\n" + "The ferry left on time. " * 1500).encode()}
             for i in range(2)]
    second = page.context.new_page()
    second.goto(url)
    second.wait_for_selector("#rag-status >> text=Models loaded", timeout=TIMEOUT)
    second.get_by_role("tab", name="Articles").click()
    page.locator("#rag-upload input[type=file]").set_input_files(files[:1])
    second.locator("#rag-upload input[type=file]").set_input_files(files[1:])
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any("queue:" in s for s in seen):
        seen.append(second.locator("#rag-report").inner_text() + " | " + page.locator("#rag-report").inner_text())
        if "note1" in seen[-1] and "note0" in seen[-1]:
            break
        time.sleep(0.05)
    queued = any(re.search(r"queue: \d+/\d+", s) for s in seen)
    second.wait_for_selector("#rag-report .rag-build", timeout=TIMEOUT)
    page.wait_for_selector("#rag-report .rag-build", timeout=TIMEOUT)
    assert "added note1.txt" in second.locator("#rag-report").inner_text()
    assert "added note0.txt" in page.locator("#rag-report").inner_text()
    assert queued, f"the second upload did not show that it waits: {seen[:3]} ... {seen[-3:]}"
    second.close()
