"""app.py's Articles tab, filters, Markdown download and serving rules, without a browser: a real Pipeline with the
fake models, its corpus and index under tmp_path."""
import re
from pathlib import Path

import pytest
from test_app import handler

import app
from rag import Answer
from rag.export import quotes
from rag.library import Article, Change, FileReport, Listing

ZORVATH = ("Zorvath Quillane opens a rye bakery in Oslo\n\n2024-02-01\n\n"
           "The baker Zorvath Quillane said the sourdough rye sells out by nine every morning.\n")
HOSTILE = "<img src=x onerror=alert(1)>${x}"


class Progress:
    def __call__(self, fraction, desc=None):
        pass


@pytest.fixture
def demo(make_pipeline):
    pipeline = make_pipeline(*["The baker said the rye sells out by nine [1]."] * 3)
    return app.create_app(pipeline, models=["scripted"])


def test_render_articles_and_report_escape_titles_and_file_names():
    listing = Listing([Article(HOSTILE, HOSTILE, HOSTILE, "2024-01-01", HOSTILE + ".txt", 3, byline=HOSTILE)], "m<b>",
                      "2026-11-23T21:00:00", 3)
    table = app.render_articles(listing)
    assert "<img" not in table and "${" not in table and "&lt;img src=x" in table
    assert '<div class="rag-byline">By &lt;img' in table  # who wrote it, under the title, escaped
    assert app.render_summary(listing).startswith("**1 article** · 3 passages · embedding model m&lt;b&gt;")
    report = app.render_report(Change([FileReport(HOSTILE + ".txt", "skipped", "unsafe name", "unsafe <b>")]))
    assert "<img" not in report and "unsafe &lt;b&gt;" in report and "Index unchanged" in report


def test_the_scope_is_shown_on_the_answer():
    bubble = app.render_reply(Answer(question="q", text="x [1].", scope="2 of 6 articles"), 1, "q")
    assert '<span class="rag-scope">Searched 2 of 6 articles</span>' in bubble
    assert "rag-scope" not in app.render_reply(Answer(question="q", text="x."), 1, "q")


@pytest.mark.parametrize("host, share, env, ok, auth", [
    ("127.0.0.1", False, {}, True, None),
    ("localhost", False, {"RAG_PASSWORD": "pw"}, True, ("rag", "pw")),
    ("0.0.0.0", False, {}, False, None),
    ("192.168.1.5", False, {"RAG_PASSWORD": ""}, False, None),
    ("127.0.0.1", True, {}, False, None),
    ("0.0.0.0", False, {"RAG_PASSWORD": "pw", "RAG_USER": "ed"}, True, ("ed", "pw")),
])
def test_serving_beyond_this_machine_needs_a_password(host, share, env, ok, auth):
    got, refusal = app.password_for(host, share, env)
    assert got == auth and (refusal == "") == ok
    if not ok:
        assert "RAG_PASSWORD" in refusal


def test_main_refuses_to_start_on_another_host_without_a_password(monkeypatch, capsys):
    monkeypatch.delenv("RAG_PASSWORD", raising=False)
    started = []
    monkeypatch.setattr(app, "create_app", lambda *a, **k: started.append(1))
    assert app.main(["--host", "0.0.0.0"]) == 2
    assert app.main(["--share"]) == 2
    err = capsys.readouterr().err
    assert err.count("error: refusing to serve") == 2 and started == []
    with pytest.raises(RuntimeError, match="RAG_PASSWORD"):
        app.launch(None, host="0.0.0.0")


def test_upload_uses_the_name_sent_and_refreshes_the_listing(demo, tmp_path, make_pipeline):
    upload = handler(demo, "upload")
    (tmp_path / "up").mkdir()
    good = tmp_path / "up" / "zorvath.txt"
    good.write_text(ZORVATH)
    evil = tmp_path / "up" / "evil.txt"
    evil.write_text("Some text.")
    report, cleared, summary, table, f_articles, f_publishers, to_remove = upload(
        [{"path": str(good), "orig_name": "zorvath.txt"}, {"path": str(evil), "orig_name": "../evil.txt"}],
        progress=Progress())
    assert "<strong>added</strong> <code>zorvath.txt</code>" in report
    assert "<strong>skipped</strong> <code>../evil.txt</code>: unsafe file name" in report
    assert cleared is None and summary.startswith("**6 articles**")
    assert "Zorvath Quillane opens a rye bakery in Oslo" in table
    assert ("Zorvath Quillane opens a rye bakery in Oslo [zorvath]", "zorvath") in f_articles.choices
    assert not (tmp_path / "corpus" / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()


def test_answer_within_an_article_and_its_markdown_download(demo, tmp_path):
    handler(demo, "upload")([{"path": str(_write(tmp_path, ZORVATH)), "orig_name": "zorvath.txt"}], progress=Progress())
    answer = handler(demo, "answer")
    chat = [{"role": "user", "content": "What did Zorvath say?"}]
    *_, (chat, _, _, _, panel, download) = answer("What did Zorvath say?", chat, [], [], "", 4, ["zorvath"], [], "", "")
    assert "Searched 1 of 6 articles" in chat[-1]["content"]
    path = Path(download.value["path"])  # the component's value: the file, moved to Gradio's cache
    markdown = path.read_text()
    assert path.name == "answer.md"
    assert quotes(markdown) and all(q in ZORVATH for q in quotes(markdown))
    assert "zorvath\\.txt" in markdown
    *_, (chat, *_rest) = answer("What did Zorvath say?", chat, [], [], "", 4, [], [], "last week", "")
    assert "Since must be a date like 2023" in chat[-1]["content"]


def test_remove_needs_confirmation(demo, tmp_path):
    handler(demo, "upload")([{"path": str(_write(tmp_path, ZORVATH)), "orig_name": "zorvath.txt"}], progress=Progress())
    confirm, text = handler(demo, "confirm_remove")("zorvath")
    assert confirm.visible and "Zorvath Quillane opens a rye bakery in Oslo" in text
    corpus = tmp_path / "corpus"
    assert (corpus / "zorvath.txt").exists()  # asking is not removing
    report, hidden, summary, *_ = handler(demo, "remove")("zorvath", progress=Progress())
    assert "removed" in report and not hidden.visible and summary.startswith("**5 articles**")
    assert not (corpus / "zorvath.txt").exists()
    report, *_ = handler(demo, "remove")("zorvath", progress=Progress())
    assert re.search(r"rag-error.*No article with id", report)


def _write(tmp_path, text):
    path = tmp_path / "up" / "zorvath.txt"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_the_ask_endpoint_takes_the_filters(demo, tmp_path):
    handler(demo, "upload")([{"path": str(_write(tmp_path, ZORVATH)), "orig_name": "zorvath.txt"}], progress=Progress())
    ask = handler(demo, "ask")
    result = ask("What did Zorvath say?", articles=["zorvath"], since="2024-01-01")
    assert result["scope"] == "1 of 6 articles" and {h["chunk"]["doc_id"] for h in result["hits"]} == {"zorvath"}
    assert ask("What did Zorvath say?")["scope"] == ""


def test_paste_a_text_with_a_title(demo, tmp_path):
    paste = handler(demo, "paste")
    report, title, text, summary, table, *_ = paste("Quillane's bakery", "Zorvath Quillane said the rye sells out.",
                                                   progress=Progress())
    assert "<strong>added</strong> <code>Quillane_s_bakery.md</code>" in report and title == text == ""
    assert summary.startswith("**6 articles**") and "Quillane&#x27;s bakery" in table
    report, title, *_ = paste("", "No title.", progress=Progress())
    assert "skipped" in report and "give the pasted text a title" in report
