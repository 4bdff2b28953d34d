"""rag/milvus_store.py: the Milvus backend passes the same retrieval and citation checks as FAISS, embedded
(milvus-lite file under tmp_path) and, in one test, through a milvus-lite server on a loopback port."""
import os
import socket
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest
from conftest import HashEmbedder, ScriptedGenerator, stop

from rag import Pipeline, StoreError
from rag.milvus_store import MilvusIndex, open_milvus, row_id
from rag.prompt import REFUSAL

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

KIRBY_Q = "How did Kirby describe the two countries?"  # answered by the LLM (not a who-said listing)
KIRBY_REPLY = "Kirby said these two countries have grown closer [1]."
EXPORTS_Q = "How much did China export to Russia in April?"
EXPORTS_REPLY = "China’s exports to Russia hit a record in April, jumping 153% [1]."


def milvus_config(config, uri):
    return replace(config, store="milvus", milvus_uri=str(uri))


@pytest.fixture(params=["faiss", "milvus"])
def backend(request, config, tmp_path):
    """A Config for each store: the default FAISS files, or an embedded milvus-lite file under tmp_path."""
    if request.param == "faiss":
        return config
    return milvus_config(config, tmp_path / "milvus.db")


def pipeline(config, *replies, embedder=None):
    return Pipeline(config, embedder=embedder or HashEmbedder(), generator=ScriptedGenerator(*replies))


# ---- the shared assertions: any store must pass them -------------------------------------------------

def check_retrieval(config):
    p = pipeline(config)
    hits = p.search("What did Kirby say?", k=5)
    assert "John Kirby" in hits[0].chunk.speakers, hits[0].chunk.text[:80]
    assert any("grown closer" in h.chunk.text for h in hits)
    bm25 = pipeline(replace(config, retrieval="bm25")).search("What did the U.S. say?", k=5)
    assert bm25 and all(h.bm25_rank for h in bm25)  # our tokenizer on both sides: 'U.S.' -> 'us'
    assert any("U.S." in h.chunk.text for h in bm25)
    dense = pipeline(replace(config, retrieval="dense")).search("What did Kirby say?", k=5)
    assert any("John Kirby" in h.chunk.speakers for h in dense) and all(h.dense_rank for h in dense)
    assert any("153%" in h.chunk.text for h in p.search(EXPORTS_Q, k=4))
    for h in hits:  # the chunk came back whole: text, offsets and metadata
        assert h.chunk.text and h.chunk.end - h.chunk.start == len(h.chunk.text) and h.chunk.title
        assert h.chunk.publisher
    own = sorted((c for c in p.chunks() if c.doc_id == hits[0].chunk.doc_id), key=lambda c: c.start)
    assert p.index.article_text(hits[0].chunk.doc_id) == "\n".join([own[0].title] + [c.text for c in own])
    # exact cosines, as the refusal threshold needs them
    question = p.embedder.embed(["What did Kirby say?"])[0]
    chunk_vectors = p.embedder.embed([_index_text(h.chunk) for h in hits])
    assert [h.similarity for h in hits] == pytest.approx(list(chunk_vectors @ question), abs=1e-3)


def _index_text(chunk):
    from rag.build import index_text
    return index_text(chunk)


def check_answers(config):
    p = pipeline(config, KIRBY_REPLY, EXPORTS_REPLY)
    for question in (KIRBY_Q, EXPORTS_Q):
        answer = p.ask(question)
        assert not answer.refused and answer.citations, answer.text
        for c in answer.citations:
            assert c.chunk == answer.hits[c.n - 1].chunk
            assert c.quote and c.chunk.text[c.quote_start:c.quote_start + len(c.quote)] == c.quote
    off = pipeline(config, "Argentina won [1].")
    answer = off.ask("Who won the 2022 FIFA World Cup?")
    assert answer.refused and answer.text == REFUSAL and off.generator.prompts == []


def test_retrieval_is_the_same_on_every_store(backend):
    check_retrieval(backend)


def test_answers_and_citations_are_the_same_on_every_store(backend):
    check_answers(backend)


def test_the_exports_answer_quotes_the_153_percent_sentence(backend):
    answer = pipeline(backend, EXPORTS_REPLY).ask(EXPORTS_Q)
    [c] = answer.citations
    assert c.quote.startswith("China’s exports to Russia hit a record in April, jumping 153%")


def test_a_filter_limits_search_and_answers_on_every_store(backend):
    from rag import Filter

    p = pipeline(backend, EXPORTS_REPLY)
    [kirby_doc] = {h.chunk.doc_id for h in p.search("What did Kirby say?", k=1)}
    others = sorted({c.doc_id for c in p.chunks()} - {kirby_doc})
    where = Filter(articles=tuple(others))
    hits = p.search("What did Kirby say?", k=5, where=where)
    assert hits and all(h.chunk.doc_id in others for h in hits)
    bm25 = pipeline(replace(backend, retrieval="bm25")).search("Kirby", k=5, where=Filter(articles=(kirby_doc,)))
    assert bm25 and all(h.chunk.doc_id == kirby_doc for h in bm25)
    publisher = hits[0].chunk.publisher
    assert all(h.chunk.publisher == publisher for h in p.search(EXPORTS_Q, k=4, where=Filter(publishers=(publisher,))))


def test_both_stores_hold_the_same_chunks(config, tmp_path):
    faiss_chunks = pipeline(config).chunks()
    milvus_chunks = pipeline(milvus_config(config, tmp_path / "m.db")).chunks()
    assert sorted(milvus_chunks, key=lambda c: c.id) == sorted(faiss_chunks, key=lambda c: c.id)


# ---- Milvus specifics: incremental updates by article hash, settings, rows -------------------------

def open_(config, embedder, named=False):
    return open_milvus(config.corpus_dir, config.milvus_uri, config.milvus_collection, embedder, 420, 1, named=named)


@pytest.fixture
def mconfig(config, tmp_path):
    return milvus_config(config, tmp_path / "milvus.db")


def test_an_unchanged_corpus_is_not_re_embedded(mconfig):
    emb = HashEmbedder()
    index, report = open_(mconfig, emb)
    assert isinstance(index, MilvusIndex) and report.rebuilt and len(report.added) == 5
    assert report.chunks == report.embedded == emb.calls == len(index.chunks) > 0
    again, report = open_(mconfig, emb)
    assert not report.rebuilt and report.embedded == 0 and report.unchanged == 5
    assert emb.calls == len(index.chunks)


def test_editing_removing_and_adding_articles_updates_only_them(mconfig):
    emb = HashEmbedder()
    index, _ = open_(mconfig, emb)
    before = len(index.chunks)
    [edited] = mconfig.corpus_dir.glob("004_*.txt")
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text.replace("phone call Wednesday", "phone call Thursday"), encoding="utf-8")
    [gone] = mconfig.corpus_dir.glob("002_*.txt")
    gone_chunks = sum(c.doc_id == gone.stem for c in index.chunks)
    gone.unlink()
    (mconfig.corpus_dir / "short.txt").write_text("Short note\n\nKirby spoke to the press about tariffs today.",
                                                   encoding="utf-8")
    calls = emb.calls
    index, report = open_(mconfig, emb)
    assert report.changed == [edited.stem] and report.removed == [gone.stem] and report.added == ["short"]
    assert report.unchanged == 3
    chunks = list(index.chunks)
    edited_chunks = [c for c in chunks if c.doc_id == edited.stem]
    assert emb.calls - calls == report.embedded == len(edited_chunks) + 1
    assert any("phone call Thursday" in c.text for c in edited_chunks)
    assert not any("phone call Wednesday" in c.text for c in edited_chunks)
    assert not any(c.doc_id == gone.stem for c in chunks)
    assert len(chunks) == len(index.chunks) == before - gone_chunks + 1
    assert len({c.id for c in chunks}) == len(chunks)
    assert not open_(mconfig, emb)[1].rebuilt


def test_a_shortened_article_loses_the_chunks_it_no_longer_has(mconfig):
    emb = HashEmbedder()
    index, _ = open_(mconfig, emb)
    [path] = mconfig.corpus_dir.glob("001_*.txt")
    before = [c for c in index.chunks if c.doc_id == path.stem]
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:len(lines) // 3]), encoding="utf-8")
    index, report = open_(mconfig, emb)
    after = [c for c in index.chunks if c.doc_id == path.stem]
    assert report.changed == [path.stem] and 0 < len(after) < len(before)
    assert report.embedded == len(after)
    from rag.corpus import read_document

    text = read_document(path).text
    assert all(text[c.start:c.end] == c.text for c in after)


def test_an_update_killed_half_way_is_redone_on_the_next_start(mconfig, monkeypatch):
    emb = HashEmbedder()
    open_(mconfig, emb)
    [edited] = mconfig.corpus_dir.glob("004_*.txt")
    edited.write_text(edited.read_text(encoding="utf-8").replace("phone call Wednesday", "phone call Thursday"),
                      encoding="utf-8")
    from rag import milvus_store

    real = milvus_store._to_row
    calls = {"n": 0}

    def dies_after_a_few(*args):
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError("killed")
        return real(*args)

    monkeypatch.setattr(milvus_store, "_to_row", dies_after_a_few)
    with pytest.raises(OSError):
        open_(mconfig, emb)
    monkeypatch.undo()
    index, report = open_(mconfig, emb)  # the article hash was not committed: the edit is picked up now
    assert report.changed == [edited.stem]
    assert any("phone call Thursday" in c.text for c in index.chunks if c.doc_id == edited.stem)


def test_another_embedder_rebuilds_unless_the_index_was_named(mconfig):
    open_(mconfig, HashEmbedder())
    with pytest.raises(StoreError, match="fake-hash"):
        open_(mconfig, HashEmbedder(name="other"), named=True)
    other = HashEmbedder(name="other", dim=128)
    index, report = open_(mconfig, other)
    assert report.rebuilt and report.embedded == other.calls == len(index.chunks)
    first = next(iter(index.chunks))
    assert index.manifest["embed_model"] == "other" and index.vectors([row_id(first.id)]).shape == (1, 128)


def test_vectors_are_exact_and_in_the_order_asked(mconfig):
    emb = HashEmbedder()
    index, _ = open_(mconfig, emb)
    chunks = list(index.chunks)[:4][::-1]
    got = index.vectors([row_id(c.id) for c in chunks])
    assert np.allclose(got, emb.embed([_index_text(c) for c in chunks]), atol=1e-6)


def test_the_vocabulary_answers_from_milvus(mconfig):
    index, _ = open_(mconfig, HashEmbedder())
    assert "kirby" in index.bm25.vocab and "us" in index.bm25.vocab
    assert "zzyzx" not in index.bm25.vocab and 3 not in index.bm25.vocab


def test_hybrid_is_fused_in_milvus_like_our_rrf(mconfig):
    from rag.retrieve import rrf

    emb = HashEmbedder()
    index, _ = open_(mconfig, emb)
    vector = emb.embed([KIRBY_Q])[0]
    ours = rrf([[r for r, _ in index.search_dense(vector, 20)], [r for r, _ in index.search_bm25(KIRBY_Q, 20)]])
    theirs = index.search_hybrid(KIRBY_Q, vector, 20)
    assert {r: round(s, 5) for r, s in theirs} == {r: round(s, 5) for r, s in ours}


# ---- the same checks through a Milvus server on a loopback port ------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_milvus_server_through_a_uri_passes_the_same_checks(config, tmp_path):
    port = free_port()
    log = tmp_path / "server.log"  # a file, not a pipe: a pipe nobody reads can block the server, and
    # reading one from a server that is still running never returns
    with open(log, "wb") as err:
        server = subprocess.Popen(
            ["nice", "-n", "19", sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(tmp_path / "server"),
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.time() + 180  # a loaded 2-core machine takes minutes, not seconds
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"milvus-lite server did not start: {log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.2)
        served = milvus_config(config, f"http://127.0.0.1:{port}")
        check_retrieval(served)
        check_answers(served)
        index, report = open_(served, HashEmbedder())
        assert not report.rebuilt and index.manifest["uri"].startswith("http://127.0.0.1:")
    finally:
        stop(server, 10)


def test_an_article_added_through_the_library_reaches_milvus(config, tmp_path):
    """The web chat's article manager rebuilds through the pipeline's own store: with RAG_STORE=milvus a
    new article is searchable in Milvus, and no FAISS index files appear beside it."""
    from rag.library import Library

    p = pipeline(milvus_config(config, tmp_path / "milvus.db"))
    assert isinstance(p.index, MilvusIndex)
    change = Library(p).add_text("Harbour bridge vote", "The council of Port Ellen approved a harbour bridge on "
                                 "Tuesday. Mayor Ines Varga said the bridge would open in 2031.")
    assert change.build is not None and change.build.embedded >= 1
    assert isinstance(p.index, MilvusIndex)
    hits = p.search("When will the Port Ellen harbour bridge open?", k=3)
    assert "2031" in hits[0].chunk.text
    assert not (config.index_dir / "manifest.json").exists()
