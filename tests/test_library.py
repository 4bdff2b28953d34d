"""rag/library.py (add, remove, list), rag/retrieve.py's Filter (applied in retrieval), rag/export.py, and the
`rag add | remove | list` commands: fake models, every corpus and index under tmp_path."""
import json
import threading
from dataclasses import replace

import numpy as np
import pytest
from conftest import HashEmbedder, ScriptedGenerator

from rag import Answer, Chunk, Citation, CorpusError, Filter, Pipeline, QuestionError
from rag.cli import main
from rag.export import quotes, to_markdown
from rag.library import Library, Verdict, check_bytes, check_size, safe_name, slug
from rag.retrieve import iso_date, search

ZORVATH = (
    "Zorvath Quillane opens a rye bakery in Oslo\n\nBy Ann Lee\n\n2024-02-01\n\n"
    "The baker Zorvath Quillane said the sourdough rye sells out by nine every morning. "
    "He added that Oslo has always loved dark bread.\n\nThe bakery employs four people.\n"
)
KIRBY_REPLY = "Kirby said these two countries have grown closer [1]."


@pytest.fixture
def lib(make_pipeline) -> Library:
    return Library(make_pipeline())


def write(tmp_path, name, data):
    path = tmp_path / "uploads" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def doc_ids(pipeline):
    return {c.doc_id for c in pipeline.index.chunks}


# ---- names and bytes ----


@pytest.mark.parametrize("name, saved", [
    ("kirby.txt", "kirby.txt"),
    ("Kirby speech (1).TXT", "Kirby_speech_1.txt"),
    ("été à Paris.md", "été_à_Paris.md"),
    (".hidden.html", "hidden.html"),
    ("a;rm -rf ~.htm", "a_rm_-rf.htm"),
])
def test_safe_name_keeps_a_plain_name_in_the_corpus(name, saved):
    assert safe_name(name) == Verdict(name=saved)


@pytest.mark.parametrize("name", ["../../etc/evil.txt", "..\\evil.txt", "/etc/passwd.txt", "sub/x.txt", "..",
                                  "a\x00.txt", "new\nline.txt", "...txt"])
def test_safe_name_refuses_folders_and_control_characters(name):
    verdict = safe_name(name)
    assert verdict.name == "" and verdict.reason == "unsafe name" and verdict.detail


@pytest.mark.parametrize("name", ["report.pdf", "photo.png", "noext"])
def test_safe_name_refuses_other_types(name):
    assert (safe_name(name).name, safe_name(name).reason) == ("", "not text")


def test_check_bytes_reasons():
    assert check_bytes(b"An article.") == Verdict()
    assert check_bytes(b"").reason == "empty" and check_bytes(b" \n\t ").reason == "empty"
    assert check_bytes(b"text\x00more").reason == "binary"
    assert check_bytes(b"%PDF-1.7 ...").reason == "binary"
    assert check_size(11, max_bytes=10).reason == "too large" and check_size(10, max_bytes=10) == Verdict()


def test_slug():
    assert slug("Kirby: “We're closer”!") == "Kirby_We_re_closer"
    assert slug("../../") == "article"


# ---- add ----


def test_add_saves_indexes_and_reports_per_file(lib, tmp_path):
    _ = lib.pipeline.index  # the index of the shipped articles, as the web chat has at start-up
    corpus = lib.corpus_dir
    before = set(corpus.iterdir())
    steps = []
    change = lib.add([
        ("zorvath.txt", write(tmp_path, "zorvath.txt", ZORVATH)),
        ("../../evil.txt", write(tmp_path, "evil.txt", ZORVATH.replace("rye", "oat"))),
        ("blob.txt", write(tmp_path, "blob.txt", b"\x89PNG\r\n\x1a\n\x00\x00binary")),
        ("empty.md", write(tmp_path, "empty.md", "  \n")),
        ("big.txt", write(tmp_path, "big.txt", "word " * 2_000_000)),
    ], progress=lambda fraction, message: steps.append((fraction, message)))
    got = {f.name: (f.status, f.reason) for f in change.files}
    assert got == {"zorvath.txt": ("added", ""), "../../evil.txt": ("skipped", "unsafe name"),
                   "blob.txt": ("skipped", "binary"), "empty.md": ("skipped", "empty"),
                   "big.txt": ("skipped", "too large")}
    assert "10.0 MB" in change.files[4].detail and "5 MB" in change.files[4].detail
    assert set(corpus.iterdir()) - before == {corpus / "zorvath.txt"}  # nothing else written, nowhere else
    assert not (tmp_path / "evil.txt").exists() and not (corpus.parent.parent / "evil.txt").exists()
    assert change.build.added == ["zorvath"] and change.build.embedded == change.files[0].passages > 0
    assert "zorvath" in doc_ids(lib.pipeline)  # the pipeline answers from the new index
    assert steps[0][0] == 0.0 and steps[-1][0] == 1.0 and any("embedding" in m for _, m in steps)
    hits = lib.pipeline.search("Where does Zorvath Quillane bake sourdough rye?", k=1)
    assert hits[0].chunk.doc_id == "zorvath"


def test_add_same_bytes_is_unchanged_and_embeds_nothing(lib, tmp_path):
    path = write(tmp_path, "zorvath.txt", ZORVATH)
    lib.add([("zorvath.txt", path)])
    again = lib.add([("zorvath.txt", path), ("copy of zorvath.txt", path)])
    assert [(f.status, f.doc_id) for f in again.files] == [("unchanged", "zorvath"), ("unchanged", "zorvath")]
    assert again.build is None  # no rebuild when nothing changed
    shipped = next(lib.corpus_dir.glob("000_*.txt"))
    assert lib.add([(shipped.name, shipped)]).files[0].status == "unchanged"


def test_a_name_taken_by_a_different_article_is_never_overwritten(lib, tmp_path):
    lib.add([("zorvath.txt", write(tmp_path, "zorvath.txt", ZORVATH))])
    other = ZORVATH.replace("rye", "oat")
    change = lib.add([("zorvath.txt", write(tmp_path, "other.txt", other)),
                      ("Zorvath.md", write(tmp_path, "other.md", other + "\nMore."))])
    assert [(f.status, f.reason, f.doc_id) for f in change.files] == [
        ("added", "renamed", "zorvath-2"), ("added", "renamed", "Zorvath-3")]
    assert (lib.corpus_dir / "zorvath.txt").read_text() == ZORVATH
    assert (lib.corpus_dir / "zorvath-2.txt").read_text() == other
    assert {"zorvath", "zorvath-2", "Zorvath-3"} <= doc_ids(lib.pipeline)


def test_not_utf8_or_no_article_text_is_skipped_with_the_reason(lib, tmp_path):
    latin_1 = "Un caf\xe9 \xe0 Paris ce matin\n\nCaf\xe9 \xe0 Paris. Caf\xe9 fort.".encode("latin-1")
    change = lib.add([("latin.txt", write(tmp_path, "latin.txt", latin_1)),
                      ("nav.html", write(tmp_path, "nav.html", "<html><nav>Home</nav><script>x()</script></html>"))])
    nav = change.files[1]
    assert (nav.status, nav.reason) == ("skipped", "no article text")
    latin = change.files[0]  # corpus.py may learn to decode Latin-1: then it is an article like any other
    assert latin.status == "added" or (latin.status, latin.reason) == ("skipped", "not text")


def test_add_text_makes_an_article_with_its_title(lib):
    change = lib.add_text("Quillane's bakery", "The baker Zorvath Quillane said the rye sells out by nine.")
    f = change.files[0]
    assert (f.status, f.doc_id) == ("added", "Quillane_s_bakery")
    article = next(a for a in lib.articles().articles if a.doc_id == f.doc_id)
    assert article.title == "Quillane's bakery" and article.file == "Quillane_s_bakery.md"
    assert lib.add_text("", "text").files[0].reason == "empty"
    assert lib.add_text("A title", "  ").files[0].reason == "empty"


def test_a_failed_build_leaves_the_corpus_and_the_index_as_they_were(lib, tmp_path, monkeypatch):
    index = lib.pipeline.index
    import rag.library

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(rag.build, "open_index", broken)
    with pytest.raises(RuntimeError):
        lib.add([("zorvath.txt", write(tmp_path, "zorvath.txt", ZORVATH))])
    assert not (lib.corpus_dir / "zorvath.txt").exists()
    assert lib.pipeline.index is index


# ---- remove and list ----


def test_remove_deletes_the_file_and_the_article_from_the_index(lib, tmp_path):
    lib.add([("zorvath.txt", write(tmp_path, "zorvath.txt", ZORVATH))])
    change = lib.remove("zorvath")
    assert change.removed == "zorvath" and change.build.removed == ["zorvath"]
    assert not (lib.corpus_dir / "zorvath.txt").exists()
    assert "zorvath" not in doc_ids(lib.pipeline)
    assert all(h.chunk.doc_id != "zorvath" for h in lib.pipeline.search("Zorvath Quillane sourdough rye", k=5))
    assert sorted(p.name for p in lib.corpus_dir.iterdir()) == sorted(
        p.name for p in lib.corpus_dir.glob("00*.txt"))  # no leftovers


def test_remove_unknown_or_the_last_article_is_refused(make_pipeline, tmp_path):
    lib = Library(make_pipeline())
    with pytest.raises(CorpusError, match="no article with id 'nope'"):
        lib.remove("nope")
    with pytest.raises(CorpusError, match="no article"):
        lib.remove("../corpus/000_d23a82ec91eb8c2b")
    for doc in sorted(doc_ids(lib.pipeline))[1:]:
        lib.remove(doc)
    with pytest.raises(CorpusError, match="last article"):
        lib.remove(next(iter(doc_ids(lib.pipeline))))


def test_list_is_newest_first_with_counts_model_and_build_time(lib, tmp_path):
    lib.add([("zorvath.txt", write(tmp_path, "zorvath.txt", ZORVATH))])
    listing = lib.articles()
    assert [a.doc_id for a in listing.articles[:2]] == ["zorvath", "003_61459b7c16ee4894"]  # 2024-02-01, 21 March 2023
    z = listing.articles[0]
    assert (z.title, z.date, z.file) == ("Zorvath Quillane opens a rye bakery in Oslo", "2024-02-01", "zorvath.txt")
    assert z.passages == sum(c.doc_id == "zorvath" for c in lib.pipeline.index.chunks)
    assert listing.passages == len(lib.pipeline.index.chunks) == sum(a.passages for a in listing.articles)
    assert listing.embed_model == "fake-hash" and listing.built[:2] == "20"


# ---- answers keep working while an upload is indexed; one build at a time ----


class GatedEmbedder(HashEmbedder):
    """Blocks a build's embedding (more than one text, or the test article) until `gate` is set."""

    def __init__(self):
        super().__init__()
        self.gate, self.entered = threading.Event(), threading.Event()

    def embed(self, texts, progress=False):
        if any("Zorvath" in t or "Velmora" in t for t in texts):
            self.entered.set()
            assert self.gate.wait(10)
        return super().embed(texts, progress)


def test_answers_use_the_previous_index_until_the_new_one_is_complete(make_pipeline, tmp_path):
    embedder = GatedEmbedder()
    pipeline = make_pipeline(embedder=embedder)
    lib = Library(pipeline)
    old = pipeline.index
    worker = threading.Thread(target=lib.add, args=([("zorvath.txt", write(tmp_path, "zorvath.txt", ZORVATH))],))
    worker.start()
    assert embedder.entered.wait(10)
    assert lib.busy
    hits = pipeline.search("Q: What did Kirby say?", k=3)  # answered meanwhile, from the old index
    assert hits and pipeline.index is old
    embedder.gate.set()
    worker.join(10)
    assert pipeline.index is not old and "zorvath" in doc_ids(pipeline)


def test_a_second_upload_waits_for_the_first_build(make_pipeline, tmp_path):
    embedder = GatedEmbedder()
    lib = Library(make_pipeline(embedder=embedder))
    _ = lib.pipeline.index
    done = []
    first = threading.Thread(target=lambda: done.append(lib.add([("zorvath.txt", write(tmp_path, "z.txt", ZORVATH))])))
    second = threading.Thread(target=lambda: done.append(
        lib.add([("velmora.txt", write(tmp_path, "v.txt", ZORVATH.replace("Zorvath", "Velmora")))])))
    first.start()
    assert embedder.entered.wait(10)
    second.start()
    second.join(0.5)
    assert second.is_alive() and done == []  # waiting for the lock, not building
    embedder.gate.set()
    first.join(10)
    second.join(10)
    assert [c.files[0].doc_id for c in done] == ["zorvath", "velmora"]
    assert {"zorvath", "velmora"} <= doc_ids(lib.pipeline)


# ---- filters, applied in retrieval ----


def test_iso_date():
    assert iso_date("21 March 2023") == "2023-03-21"
    assert iso_date("Mar. 20, 2023") == "2023-03-20"
    assert iso_date("May 4 2023") == "2023-05-04"
    assert iso_date("2023-05-24T10:00:00Z") == "2023-05-24"
    assert iso_date("") == iso_date("yesterday") == iso_date("2023-02-30") == ""


def test_filter_fields_and_bad_dates():
    assert not Filter() and Filter(articles="zorvath").articles == ("zorvath",)
    assert Filter(publishers=["NBC News", " "]).publishers == ("NBC News",)
    with pytest.raises(QuestionError, match="since must be a date like 2023-03-21"):
        Filter(since="last week")
    with pytest.raises(QuestionError, match="until"):
        Filter(until="2023-13-01")


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_a_filtered_search_returns_only_allowed_articles_even_when_others_score_higher(make_pipeline, mode):
    pipeline = make_pipeline()
    index, embedder = pipeline.index, pipeline.embedder
    query = "What did Xi Jinping and Putin say about Russia and China?"  # words of every article
    vector = embedder.embed([query])[0]
    unfiltered = search(index, query, vector, k=3, mode=mode, candidates=3)
    target = next(d for d in sorted({c.doc_id for c in index.chunks})
                  if d not in {h.chunk.doc_id for h in unfiltered})
    # post-filtering the unfiltered candidates would find nothing of `target`; searching within finds 3 passages
    hits = search(index, query, vector, k=3, mode=mode, candidates=3, where=Filter(articles=(target,)))
    assert len(hits) == 3 and {h.chunk.doc_id for h in hits} == {target}


def test_filters_by_publisher_and_date(make_pipeline):
    pipeline = make_pipeline()
    hits = pipeline.search("Xi Putin Russia China", k=8, where=Filter(publishers="nbc NEWS"))
    assert hits and {h.chunk.publisher for h in hits} == {"NBC News"}
    hits = pipeline.search("Xi Putin Russia China", k=8, where=Filter(since="2023-03-21", until="2023-03-21"))
    assert hits and {h.chunk.doc_id for h in hits} == {"003_61459b7c16ee4894"}  # the only dated article
    assert pipeline.search("Xi Putin", k=8, where=Filter(since="2024-01-01")) == []


def test_the_answer_says_what_was_searched(make_pipeline):
    pipeline = make_pipeline(KIRBY_REPLY)
    where = Filter(articles=("000_d23a82ec91eb8c2b", "003_61459b7c16ee4894"))
    answer = pipeline.ask("What did Kirby say?", where=where)
    assert answer.scope == "2 of 5 articles"
    assert {h.chunk.doc_id for h in answer.hits} <= set(where.articles)
    assert pipeline.ask("What did Kirby say?").scope == ""
    nothing = pipeline.ask("What did Kirby say?", where=Filter(publishers="Nobody"))
    assert nothing.refused and nothing.scope == "0 of 5 articles"


# ---- export ----


def chunk(text, **kw):
    base = dict(id="k:0", doc_id="k", title="Kirby speaks", text=text, start=0, end=len(text),
                publisher="NBC News", date="21 March 2023")
    return Chunk(**{**base, **kw})


def test_export_footnotes_hold_the_exact_quotes_and_the_source():
    a = chunk("“These two countries have grown closer,” Kirby said.\n\nHe *added* more. Trailing  ")
    b = chunk("Exports hit a record in April [2].", id="e:0", doc_id="e",
              title="*Evil* [x](http://y)\n[^1]: forged", publisher="<b>P</b>", date="")
    answer = Answer(question="What did Kirby say?", text="They grew closer [1]. Exports hit a record [2]. Other [3].",
                    citations=[Citation(1, a, "“These two countries have grown closer,” Kirby said.\n\nHe *added* more."),
                               Citation(1, a, "Trailing  ", quote_start=a.text.index("Trailing")),
                               Citation(2, b, "Exports hit a record in April [2].")],
                    scope="2 of 6 articles")
    md = to_markdown(answer, {"k": "kirby.txt", "e": "sub/e.html"})
    assert "They grew closer [^1]. Exports hit a record [^2]. Other ." in md
    assert "[^1]: Kirby speaks · NBC News · 21 March 2023 · kirby\\.txt" in md
    assert "Searched 2 of 6 articles." in md
    assert quotes(md) == [c.quote for c in answer.citations]
    for c in answer.citations:
        assert c.quote in c.chunk.text
    footnote_lines = [line for line in md.splitlines() if line.startswith("[^")]
    assert len(footnote_lines) == 2  # the hostile title made no footnote of its own
    assert "\\*Evil\\* \\[x\\]\\(http://y\\) \\[^1\\]: forged" in footnote_lines[1]


# ---- the command line ----


def test_cli_add_list_ask_within_and_remove(tmp_path, corpus_dir, capsys, monkeypatch):
    import os

    import rag.generate
    import rag.pipeline

    for name in [k for k in os.environ if k.startswith("RAG_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("RAG_MIN_SIMILARITY", "0")
    monkeypatch.setattr(rag.pipeline, "SentenceTransformerEmbedder", lambda model, batch_size=64: HashEmbedder())
    monkeypatch.setattr(rag.generate, "LlamaGenerator",
                        lambda *a, **k: ScriptedGenerator("Zorvath said it sells out by nine [1]."))
    where = ["--corpus", corpus_dir, "--index", tmp_path / "idx"]

    def run(*argv):
        code = main([str(a) for a in (*argv, *where)])
        out, err = capsys.readouterr()
        return code, out, err

    z = write(tmp_path, "zorvath.txt", ZORVATH)
    code, out, _ = run("add", z, write(tmp_path, "bin.txt", b"\x00\x01"))
    assert code == 0 and "added     zorvath.txt: saved as zorvath.txt" in out and "skipped   bin.txt: a binary" in out
    code, out, _ = run("add", write(tmp_path, "bin.txt", b"\x00\x01"))
    assert code == 1  # nothing added
    code, out, _ = run("list", "--json")
    listing = json.loads(out)
    assert listing["articles"][0]["doc_id"] == "zorvath" and len(listing["articles"]) == 6
    code, out, _ = run("search", "sourdough rye", "--article", "zorvath", "--json")
    assert {h["chunk"]["doc_id"] for h in json.loads(out)} == {"zorvath"}
    code, out, _ = run("ask", "What did Zorvath say?", "--article", "zorvath", "--since", "2024-01-01", "--json")
    answer = json.loads(out)
    assert answer["scope"] == "1 of 6 articles" and answer["citations"][0]["chunk"]["doc_id"] == "zorvath"
    code, _, err = run("ask", "x?", "--since", "soon")
    assert code == 2 and err.startswith("error: since must be a date")
    code, out, _ = run("remove", "zorvath")
    assert code == 0 and "removed zorvath" in out and not (corpus_dir / "zorvath.txt").exists()
    code, _, err = run("remove", "zorvath")
    assert code == 2 and "no article with id 'zorvath'" in err


def test_vectors_of_unchanged_articles_are_reused(lib, tmp_path):
    embedder = lib.pipeline.embedder
    _ = lib.pipeline.index
    before = embedder.calls
    change = lib.add([("zorvath.txt", write(tmp_path, "zorvath.txt", ZORVATH))])
    assert embedder.calls - before == change.build.embedded == change.files[0].passages


def test_filter_rows_are_the_allowed_chunks(make_pipeline):
    chunks = make_pipeline().index.chunks
    rows = Filter(articles="003_61459b7c16ee4894").rows(chunks)
    assert rows.dtype == np.int64 and [chunks[r].doc_id for r in rows] == ["003_61459b7c16ee4894"] * len(rows)
    assert replace(Filter(), since="2023-01-01").describe(chunks) == "1 of 5 articles"


def test_who_said_what_quotes_only_the_allowed_articles(make_pipeline):
    pipeline = make_pipeline(*[KIRBY_REPLY] * 5)
    docs = sorted(doc_ids(pipeline))
    quoting = {c.chunk.doc_id for c in pipeline.ask("What did Kirby say?").citations}
    assert quoting  # Kirby is quoted: his own words, from the articles that quote him
    for doc in docs:
        answer = pipeline.ask("What did Kirby say?", where=Filter(articles=doc))
        assert {c.chunk.doc_id for c in answer.citations} <= {doc}
        assert {h.chunk.doc_id for h in answer.hits} <= {doc}


def test_export_of_a_refusal_says_so_and_why():
    md = to_markdown(Answer(question="Who is Zorvath?", text="The articles don't say.", refused=True,
                            note="No article mentions *Zorvath*."))
    assert md.count("The articles don't say.") == 1 and "*No article mentions \\*Zorvath\\*\\.*" in md
    assert "[^" not in md and quotes(md) == []
