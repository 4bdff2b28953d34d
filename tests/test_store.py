"""rag/store.py: build/load, manifest checks, incremental rebuilds, corrupt and half-written indexes."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import faiss
import numpy as np
import pytest
from conftest import PROJECT, HashEmbedder

from rag import StoreError, build, store
from rag.bm25 import BM25
from rag.corpus import load_corpus

CHARS, OVERLAP = 420, 1


def open_(config, embedder, named=False):
    return build.open_index(config.corpus_dir, config.index_dir, embedder, CHARS, OVERLAP, named=named)


def build_folder(config):
    return config.index_dir / json.loads((config.index_dir / "manifest.json").read_text())["build"]


def article(config, prefix):
    [path] = config.corpus_dir.glob(f"{prefix}_*.txt")
    return path


def snapshot(index_dir):
    """Every file of the index and its bytes."""
    return {p.relative_to(index_dir): p.read_bytes() for p in sorted(index_dir.rglob("*")) if p.is_file()}


@pytest.fixture
def built(config):
    """(embedder, index, report) after a first build of the five articles."""
    emb = HashEmbedder()
    index, report = open_(config, emb)
    return emb, index, report


def test_build_then_load_round_trip(config):
    docs = load_corpus(config.corpus_dir)
    emb = HashEmbedder()
    index, report = build.build(docs, emb, config.index_dir, CHARS, OVERLAP)
    loaded = store.load(config.index_dir)
    assert loaded.chunks == index.chunks
    assert loaded.manifest == index.manifest
    assert loaded.dense.ntotal == len(index.chunks) == report.chunks == report.embedded
    rows = list(range(len(index.chunks)))
    assert np.array_equal(loaded.vectors(rows), index.vectors(rows))
    query = emb.embed(["What did Kirby say?"])[0]
    assert loaded.search_dense(query, 5) == index.search_dense(query, 5)
    assert loaded.search_bm25("exports to Russia April", 5) == index.search_bm25("exports to Russia April", 5)
    assert all(isinstance(c.speakers, tuple) for c in loaded.chunks)


def test_an_articles_chunks_are_found_by_its_id_through_an_sqlite_index(built, config):
    _, index, _ = built
    loaded = store.load(config.index_dir)
    doc = loaded.chunks[len(loaded.chunks) // 2].doc_id
    assert loaded.chunks.doc_chunks(doc) == [c for c in loaded.chunks if c.doc_id == doc]
    plan = " ".join(str(r) for r in loaded.chunks._db.execute(
        "EXPLAIN QUERY PLAN SELECT chunk FROM chunks WHERE doc_id = ?", (doc,)).fetchall())
    assert "USING INDEX chunks_doc" in plan  # not a scan of every chunk per article
    assert loaded.article_text(doc).startswith(loaded.chunks.doc_chunks(doc)[0].title + "\n")


def test_first_build_report(built):
    _, index, report = built
    assert report.rebuilt and len(report.added) == 5 and not report.changed and not report.removed
    assert report.chunks == report.embedded == len(index.chunks)


def test_manifest(built, config):
    emb, index, _ = built
    manifest = json.loads((config.index_dir / "manifest.json").read_text())
    assert manifest["format"] == store.FORMAT
    assert manifest["embed_model"] == "fake-hash"
    assert manifest["dim"] == emb.dim == 256
    assert (manifest["chunk_chars"], manifest["chunk_overlap"]) == (CHARS, OVERLAP)
    assert manifest["n_chunks"] == len(index.chunks)
    docs = load_corpus(config.corpus_dir)
    assert manifest["docs"] == {d.doc_id: build.doc_hash(d) for d in docs}
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in manifest["docs"].values())


def test_index_text_names_the_speakers(built):
    _, index, _ = built
    kirby = next(c for c in index.chunks if "he added, citing the AUKUS deal" in c.text)
    assert build.index_text(kirby).startswith(f"{kirby.title}\nQuotes from John Kirby.\n")


def test_a_current_index_is_loaded_not_re_embedded(built, config):
    emb, index, _ = built
    calls = emb.calls
    again, report = open_(config, emb)
    assert emb.calls == calls
    assert not report.rebuilt and report.embedded == 0 and report.unchanged == 5
    assert again.chunks == index.chunks


def test_editing_one_article_re_embeds_only_its_chunks(built, config):
    emb, index, _ = built
    path = article(config, "004")
    path.write_text(path.read_text(encoding="utf-8").replace("phone call Wednesday", "phone call Thursday"),
                    encoding="utf-8")
    calls = emb.calls
    updated, report = open_(config, emb)
    edited = [c for c in updated.chunks if c.doc_id == path.stem]
    assert emb.calls - calls == len(edited) == report.embedded
    assert report.changed == [path.stem] and not report.added and not report.removed
    assert report.unchanged == 4
    assert any("phone call Thursday" in c.text for c in edited)
    # the reused vectors are the old ones, row for row
    old = {c.id: r for r, c in enumerate(index.chunks)}
    for row, c in enumerate(updated.chunks):
        if c.doc_id != path.stem:
            assert np.array_equal(updated.vectors([row]), index.vectors([old[c.id]]))
    assert open_(config, emb)[1].rebuilt is False


def test_editing_only_boilerplate_changes_nothing(built, config):
    emb, _, _ = built
    path = article(config, "004")
    path.write_text(path.read_text(encoding="utf-8").replace("Fix or repair daily", "Another reader comment"),
                    encoding="utf-8")
    calls = emb.calls
    _, report = open_(config, emb)
    assert emb.calls == calls and not report.rebuilt


def test_added_and_removed_files_are_reported(built, config):
    emb, _, _ = built
    source = article(config, "001")
    (config.corpus_dir / "new_article.txt").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    article(config, "002").unlink()
    calls = emb.calls
    index, report = open_(config, emb)
    assert report.added == ["new_article"]
    assert report.removed == ["002_0826091b66aa6d04"]
    assert not report.changed and report.unchanged == 4
    assert emb.calls - calls == report.embedded == sum(c.doc_id == "new_article" for c in index.chunks)
    assert not any(c.doc_id.startswith("002") for c in index.chunks)
    assert set(index.manifest["docs"]) == {c.doc_id for c in index.chunks}


def test_another_embedder_rebuilds_the_default_index(built, config):
    other = HashEmbedder(name="other")
    index, report = open_(config, other)
    assert report.rebuilt and report.embedded == len(index.chunks) == other.calls
    assert index.manifest["embed_model"] == "other"
    assert store.load(config.index_dir).manifest["embed_model"] == "other"


def test_another_embedder_is_refused_for_a_named_index(built, config):
    before = snapshot(config.index_dir)
    other = HashEmbedder(name="other")
    with pytest.raises(StoreError) as info:
        open_(config, other, named=True)
    message = str(info.value)
    assert "'fake-hash'" in message and "'other'" in message
    assert "rag index" in message  # says how to fix it
    assert other.calls == 0
    assert snapshot(config.index_dir) == before


def test_other_chunk_settings_are_refused_for_a_named_index(built, config):
    emb, _, _ = built
    with pytest.raises(StoreError, match="chunk_chars=420, not 300"):
        build.open_index(config.corpus_dir, config.index_dir, emb, 300, OVERLAP, named=True)


def test_a_named_index_that_does_not_exist_yet_is_built(config):
    emb = HashEmbedder()
    index, report = open_(config, emb, named=True)
    assert report.rebuilt and index.chunks


def test_an_embedder_of_another_dimension_is_not_taken_as_current(built, config):
    small = HashEmbedder(dim=128)  # same name, other width: e.g. a local model folder whose weights were swapped
    index, report = open_(config, small)
    assert index.dense.d == 128 and report.rebuilt


def truncate_dense(config):
    path = build_folder(config) / "dense.faiss"
    path.write_bytes(path.read_bytes()[:100])


def garbage_manifest(config):
    (config.index_dir / "manifest.json").write_text("{not json at all", encoding="utf-8")


def delete_chunks(config):
    (build_folder(config) / "chunks.sqlite").unlink()


def truncate_chunks(config):
    path = build_folder(config) / "chunks.sqlite"
    path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])


def truncate_vectors(config):
    path = build_folder(config) / "vectors.npy"
    path.write_bytes(path.read_bytes()[:1000])


def manifest_without_docs(config):
    (config.index_dir / "manifest.json").write_text('{"format": 2}', encoding="utf-8")


CORRUPTIONS = [truncate_dense, garbage_manifest, delete_chunks, truncate_chunks, truncate_vectors, manifest_without_docs]


@pytest.mark.parametrize("corrupt", CORRUPTIONS)
def test_a_corrupt_named_index_is_refused(built, config, corrupt):
    corrupt(config)
    emb = HashEmbedder()
    with pytest.raises(StoreError, match="corrupt") as info:
        open_(config, emb, named=True)
    assert str(config.index_dir) in str(info.value)
    assert emb.calls == 0


@pytest.mark.parametrize("corrupt", CORRUPTIONS)
def test_a_corrupt_default_index_is_rebuilt(built, config, corrupt):
    _, index, _ = built
    chunks = list(index.chunks)  # read before the files under this index are damaged
    corrupt(config)
    emb = HashEmbedder()
    rebuilt, report = open_(config, emb)
    assert report.rebuilt and emb.calls == len(rebuilt.chunks) == len(chunks)
    assert store.load(config.index_dir).chunks == chunks
    assert not open_(config, emb)[1].rebuilt


@pytest.mark.parametrize("corrupt", CORRUPTIONS)
def test_load_raises_store_error_on_corruption(built, config, corrupt):
    corrupt(config)
    with pytest.raises(StoreError):
        store.load(config.index_dir)


def test_load_without_an_index(tmp_path):
    with pytest.raises(StoreError, match="no index at"):
        store.load(tmp_path / "nothing")


def test_stale_reasons_of_a_loaded_index(built, config):
    docs = load_corpus(config.corpus_dir)
    manifest = store.load(config.index_dir).manifest
    wanted = build.settings(HashEmbedder(name="other"), CHARS, OVERLAP)
    assert build.stale_reasons(manifest, wanted, docs) == ["built with embedding model 'fake-hash', not 'other'"]
    assert build.stale_reasons(manifest, build.settings(HashEmbedder(), CHARS, OVERLAP), docs) == []


def _boom(*args, **kwargs):
    raise OSError("disk full")


@pytest.mark.parametrize("owner, method", [(faiss, "write_index"), (BM25, "save")], ids=["faiss", "bm25"])
def test_a_build_that_fails_half_way_leaves_the_previous_index(built, config, monkeypatch, owner, method):
    _, index, _ = built
    before = snapshot(config.index_dir)
    path = article(config, "004")
    path.write_text(path.read_text(encoding="utf-8").replace("phone call Wednesday", "phone call Thursday"),
                    encoding="utf-8")
    monkeypatch.setattr(owner, method, _boom)
    with pytest.raises(OSError, match="disk full"):
        open_(config, HashEmbedder())
    after = {k: v for k, v in snapshot(config.index_dir).items() if ".tmp" not in str(k)}
    assert after == before
    assert store.load(config.index_dir).chunks == index.chunks
    monkeypatch.undo()
    updated, report = open_(config, HashEmbedder())  # the next good build picks up the edit and tidies up
    assert report.changed == [path.stem]
    assert not [p for p in config.index_dir.rglob("*") if p.name.endswith(".tmp")]


def test_a_good_build_leaves_no_temporary_files_and_one_build_folder(built, config):
    emb, _, _ = built
    path = article(config, "000")
    path.write_text(path.read_text(encoding="utf-8").replace("on Monday", "on Tuesday"), encoding="utf-8")
    open_(config, emb)
    assert not [p for p in config.index_dir.rglob("*") if ".tmp" in p.name]
    folders = [p.name for p in config.index_dir.iterdir() if p.is_dir()]
    assert folders == [build_folder(config).name]
    assert sorted(p.name for p in build_folder(config).iterdir()) == [
        "articles.json", "bm25", "chunks.sqlite", "dense.faiss", "vectors.npy"]


def test_stale_reasons():
    manifest = {"format": store.FORMAT, "embed_model": "other-model", "dim": 256, "chunk_chars": CHARS, "chunk_overlap": OVERLAP,
                "docs": {"gone": "x"}}
    wanted = build.settings(HashEmbedder(name="all-MiniLM-L6-v2"), CHARS, OVERLAP)
    reasons = build.stale_reasons(manifest, wanted, [])
    assert reasons[0] == "built with embedding model 'other-model', not 'all-MiniLM-L6-v2'"
    assert "1 removed" in reasons[1]
    assert build.stale_reasons({**manifest, "embed_model": "all-MiniLM-L6-v2", "docs": {}}, wanted, []) == []


# ---- builders as real separate processes ----

BUILDER = '''
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])  # tests/, for the fake embedder
from conftest import HashEmbedder
from rag import build
from rag.bm25 import BM25

corpus, index, slow_write, marker = sys.argv[2], sys.argv[3], float(sys.argv[4]), Path(sys.argv[5])
save = BM25.save

def slow_save(self, folder):  # the build folder is half-written while this sleeps
    marker.write_text("writing")
    time.sleep(slow_write)
    save(self, folder)

BM25.save = slow_save
index_, report = build.open_index(Path(corpus), Path(index), HashEmbedder(), 420, 1)
print(report.rebuilt, len(index_.chunks))
'''


def start_builder(tmp_path, corpus, index, slow_write: float, name: str) -> tuple[subprocess.Popen, Path]:
    script = tmp_path / "builder.py"
    script.write_text(BUILDER, encoding="utf-8")
    marker = tmp_path / f"{name}.writing"
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    proc = subprocess.Popen([sys.executable, str(script), str(PROJECT / "tests"), str(corpus), str(index),
                             str(slow_write), str(marker)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    return proc, marker


def wait_for(path: Path, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


def assert_answers(index_dir: Path, corpus_dir: Path):
    """The index loads, matches a corpus, and finds the Kirby article for a Kirby question."""
    index = store.load(index_dir)
    docs = load_corpus(corpus_dir)
    assert index.manifest["docs"] == {d.doc_id: build.doc_hash(d) for d in docs}
    assert len(index.chunks) == index.manifest["n_chunks"]
    [(row, _)] = index.search_bm25("Kirby AUKUS", 1)
    assert index.chunks[row].doc_id.startswith("000_")
    [(row, _)] = index.search_dense(HashEmbedder().embed(["he added, citing the AUKUS deal"])[0], 1)
    assert index.chunks[row].doc_id.startswith("000_")
    folders = sorted(p.name for p in index_dir.iterdir() if p.is_dir())
    assert folders == [index.manifest["build"]], folders  # nothing half-written or superseded is left
    assert not (index_dir / "manifest.json.tmp").exists()


def test_two_builders_at_once_both_finish_and_the_index_answers(tmp_path, corpus_dir):
    other = tmp_path / "other-corpus"  # the second builder indexes a different corpus into the same folder
    shutil.copytree(corpus_dir, other)
    (other / "extra.txt").write_text("A headline about an extra article\n\nXi met Putin again.", encoding="utf-8")
    index_dir = tmp_path / "index"
    slow, slow_marker = start_builder(tmp_path, corpus_dir, index_dir, 3.0, "slow")
    wait_for(slow_marker, slow)  # the slow one is mid-write...
    fast, _ = start_builder(tmp_path, other, index_dir, 0.0, "fast")  # ...when the other one starts
    for proc in (slow, fast):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.startswith("True")  # each built: the second waited for the first, then rebuilt for its corpus
    assert_answers(index_dir, other)  # the later build is the index


def test_a_builder_killed_mid_write_leaves_the_previous_index_answering(tmp_path, config):
    first, _ = open_(config, HashEmbedder())
    path = article(config, "004")
    path.write_text(path.read_text(encoding="utf-8").replace("phone call Wednesday", "phone call Thursday"),
                    encoding="utf-8")
    proc, marker = start_builder(tmp_path, config.corpus_dir, config.index_dir, 600.0, "killed")
    wait_for(marker, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert [p for p in config.index_dir.iterdir() if p.name.endswith(".tmp")]  # it was killed half-way
    index = store.load(config.index_dir)
    assert index.chunks == first.chunks  # the previous index, whole
    [(row, _)] = index.search_bm25("Kirby AUKUS", 1)
    assert index.chunks[row].doc_id.startswith("000_")
    # the lock died with the killed builder: the next build runs at once, picks up the edit, tidies the leftovers
    t0 = time.monotonic()
    _, report = open_(config, HashEmbedder())
    assert report.changed == [path.stem] and time.monotonic() - t0 < 30
    assert_answers(config.index_dir, config.corpus_dir)
