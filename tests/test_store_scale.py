"""rag/store.py at scale: approximate (IVF) search above a threshold with exact cosines kept, chunks read from
SQLite on demand, and a start-up that does not re-read an unchanged corpus."""
import os
import threading

import numpy as np
import pytest
from conftest import HashEmbedder

from rag import build, store
from rag.bm25 import BM25

CHARS, OVERLAP = 420, 1


def clustered(n: int, dim: int, seed: int, centers: np.ndarray | None = None):
    """Unit vectors scattered around a few hundred centres, like sentence embeddings of related texts."""
    rng = np.random.default_rng(seed)
    if centers is None:
        centers = rng.normal(size=(300, dim)).astype(np.float32)
    x = centers[rng.integers(0, len(centers), n)] + rng.normal(0, 0.05, (n, dim)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), centers


def test_approximate_search_recalls_exact_search_and_keeps_exact_cosines(monkeypatch):
    monkeypatch.setattr(store, "APPROX_MIN", 1_000)
    matrix, centers = clustered(20_000, 64, 0)
    queries, _ = clustered(100, 64, 1, centers)
    approx = store.Index(range(len(matrix)), store.dense_index(matrix), BM25.build([]), {}, matrix)
    assert type(approx.dense).__name__ == "IndexIVFScalarQuantizer"
    exact = store.Index(range(len(matrix)), _flat(matrix), BM25.build([]), {}, matrix)
    recall = []
    for q in queries:
        got = approx.search_dense(q, 10)
        want = exact.search_dense(q, 10)
        recall.append(len({r for r, _ in got} & {r for r, _ in want}) / 10)
        rows = [r for r, _ in got]
        assert [s for _, s in got] == pytest.approx(list(matrix[rows] @ q), abs=1e-6)  # exact, not quantized
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
    assert np.mean(recall) >= 0.95


def _flat(matrix):
    import faiss

    flat = faiss.IndexFlatIP(matrix.shape[1])
    flat.add(matrix)
    return flat


def test_a_corpus_above_the_threshold_gets_an_approximate_index_end_to_end(config, monkeypatch):
    exact, _ = build.open_index(config.corpus_dir, config.index_dir, HashEmbedder(), CHARS, OVERLAP)
    monkeypatch.setattr(store, "APPROX_MIN", 10)
    approx, _ = build.open_index(config.corpus_dir, config.index_dir.parent / "approx", HashEmbedder(), CHARS, OVERLAP)
    assert approx.manifest["dense"] == "IndexIVFScalarQuantizer" and exact.manifest["dense"] == "IndexFlatIP"
    loaded = store.load(config.index_dir.parent / "approx")
    assert loaded.dense.nprobe == store.NPROBE
    q = HashEmbedder().embed(["What did Kirby say?"])[0]
    rows = list(range(len(exact.chunks)))
    assert np.array_equal(loaded.vectors(rows), exact.vectors(rows))  # exact vectors for refusals
    top = loaded.search_dense(q, 5)
    assert top[0] == exact.search_dense(q, 5)[0]


def test_chunks_are_a_lazy_table_on_disk(config):
    index, _ = build.open_index(config.corpus_dir, config.index_dir, HashEmbedder(), CHARS, OVERLAP)
    table = index.chunks
    assert isinstance(table, store.ChunkTable)
    chunks = list(table)
    assert len(table) == len(chunks) == index.manifest["n_chunks"]
    assert table[3] == chunks[3] and table[len(table) - 1] == chunks[-1]
    with pytest.raises(IndexError):
        table[len(table)]
    assert all(isinstance(c.speakers, tuple) for c in chunks)
    assert any(c.speakers for c in chunks)
    seen = []
    threads = [threading.Thread(target=lambda: seen.append([table[i] for i in range(len(table))])) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [chunks] * 4


def test_an_unchanged_corpus_is_not_read_again_at_start(config, monkeypatch):
    emb = HashEmbedder()
    first, _ = build.open_index(config.corpus_dir, config.index_dir, emb, CHARS, OVERLAP)
    assert first.manifest["files"] and all(len(v) == 2 for v in first.manifest["files"].values())
    reads = []
    real = build.load_corpus
    monkeypatch.setattr(build, "load_corpus", lambda folder: reads.append(folder) or real(folder))

    again, report = build.open_index(config.corpus_dir, config.index_dir, emb, CHARS, OVERLAP)
    assert reads == [] and not report.rebuilt and report.unchanged == 5 and len(again.chunks) == len(first.chunks)

    [path] = config.corpus_dir.glob("003_*.txt")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # touched, same bytes: read, not re-embedded
    calls = emb.calls
    _, report = build.open_index(config.corpus_dir, config.index_dir, emb, CHARS, OVERLAP)
    assert len(reads) == 1 and not report.rebuilt and emb.calls == calls
    _, report = build.open_index(config.corpus_dir, config.index_dir, emb, CHARS, OVERLAP)
    assert len(reads) == 1  # the new stamp was remembered

    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("the", "teh", 1), encoding="utf-8")  # same size, new content
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2 * 10**9))
    _, report = build.open_index(config.corpus_dir, config.index_dir, emb, CHARS, OVERLAP)
    assert len(reads) == 2 and report.changed == [path.stem]


def test_another_embedder_is_not_served_by_the_fast_path(config, monkeypatch):
    build.open_index(config.corpus_dir, config.index_dir, HashEmbedder(), CHARS, OVERLAP)
    index, report = build.open_index(config.corpus_dir, config.index_dir, HashEmbedder(name="other"), CHARS, OVERLAP)
    assert report.rebuilt and index.manifest["embed_model"] == "other"


def test_chunks_read_back_are_the_chunks_that_were_made(config):
    from rag.chunk import chunk_document
    from rag.corpus import load_corpus

    index, _ = build.open_index(config.corpus_dir, config.index_dir, HashEmbedder(), CHARS, OVERLAP)
    made = [c for d in load_corpus(config.corpus_dir) for c in chunk_document(d, CHARS, OVERLAP)]
    assert list(store.load(config.index_dir).chunks) == made  # every field, who-said-what included
    assert any(c.said for c in made)
