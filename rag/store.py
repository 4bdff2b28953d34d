"""The index on disk: FAISS + BM25 + chunks in a build folder that manifest.json points at; load, save, lock.

Layout: <index_dir>/manifest.json names <index_dir>/build-<ns>/ holding chunks.jsonl, dense.faiss, bm25.*.
`save` writes a new folder, fsyncs it, then replaces manifest.json atomically (the commit point), so a
build killed at any moment leaves the previous index intact. Builders take `lock(index_dir)` first: one
build at a time across processes, and only the lock holder removes folders no manifest names.
Building an index from a corpus (chunk, embed, rebuild policy) is rag.build.
"""
from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

import numpy as np

from .bm25 import BM25
from .errors import StoreError
from .types import Chunk

# 3: chunks record who said each sentence; 4: HTML by trafilatura, any text encoding
FORMAT = 4  # bump when the on-disk layout or the cleaning/chunking rules change
LOCK_TIMEOUT = 600.0  # seconds to wait for another build of the same index before giving up with a StoreError


class Index:
    """A loaded index: chunks, their dense vectors (FAISS inner product) and BM25 weights."""

    def __init__(self, chunks: list[Chunk], dense, bm25: BM25, manifest: dict):
        self.chunks, self.dense, self.bm25, self.manifest = chunks, dense, bm25, manifest

    def search_dense(self, query_vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        if not self.chunks:
            return []
        scores, ids = self.dense.search(query_vector.reshape(1, -1).astype(np.float32), min(n, len(self.chunks)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def search_bm25(self, query: str, n: int) -> list[tuple[int, float]]:
        return self.bm25.search(query, n)

    def vectors(self, rows: list[int]) -> np.ndarray:
        return np.vstack([self.dense.reconstruct(int(r)) for r in rows]) if rows else np.zeros((0, self.dense.d))


def read_manifest(index_dir: Path) -> dict | None:
    path = Path(index_dir) / "manifest.json"
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as e:
        raise StoreError(f"index manifest {path} is corrupt ({type(e).__name__})") from e
    if not isinstance(manifest, dict) or not {"build", "docs", "dim"} <= manifest.keys():
        raise StoreError(f"index manifest {path} is corrupt (fields missing)")
    return manifest


def recorded_corpus(index_dir: Path) -> Path | None:
    """The corpus folder that built this index, if the manifest names one that still exists."""
    try:
        manifest = read_manifest(index_dir)
    except StoreError:
        return None
    folder = (manifest or {}).get("corpus_dir")
    return Path(folder) if isinstance(folder, str) and Path(folder).is_dir() else None


def load(index_dir: Path) -> Index:
    """The index manifest.json points at (StoreError if missing, corrupt or incomplete)."""
    index_dir = Path(index_dir)
    for attempt in range(2):
        manifest = read_manifest(index_dir)
        if manifest is None:
            raise StoreError(f"no index at {index_dir}")
        try:
            return _read(index_dir, manifest)
        except StoreError:
            again = read_manifest(index_dir)
            if attempt or again is None or again.get("build") == manifest.get("build"):
                raise
            # a build committed and tidied away our folder between reading the manifest and the files: once more


def _read(index_dir: Path, manifest: dict) -> Index:
    folder = index_dir / str(manifest["build"])
    try:
        import faiss

        with open(folder / "chunks.jsonl", encoding="utf-8") as f:
            chunks = [Chunk(**row) for row in map(json.loads, f)]
        dense = faiss.read_index(str(folder / "dense.faiss"))
        bm25 = BM25.load(folder)
    except Exception as e:  # any unreadable part means the whole index is unusable
        raise StoreError(f"index at {index_dir} is corrupt or incomplete ({type(e).__name__}: {e})") from e
    if dense.ntotal != len(chunks) or bm25.weights.shape[0] != len(chunks):
        raise StoreError(f"index at {index_dir} is corrupt: {len(chunks)} chunks but {dense.ntotal} vectors")
    if dense.d != manifest.get("dim"):
        raise StoreError(f"index at {index_dir} is corrupt: vectors of dimension {dense.d}, manifest says {manifest.get('dim')}")
    return Index(chunks, dense, bm25, manifest)


@contextmanager
def lock(index_dir: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the index folder's build lock (waits for another build; StoreError after `timeout` seconds).

    filelock rather than raw fcntl: maintained, works on Linux, macOS and Windows, and the OS frees the
    lock when its holder dies, so a build killed with SIGKILL never leaves the index locked."""
    from filelock import FileLock, Timeout

    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(index_dir / ".lock"), timeout=timeout):
            yield
    except Timeout as e:
        raise StoreError(f"another build of {index_dir} has held its lock for {timeout:.0f}s; try again later") from e


def save(index_dir: Path, manifest: dict, chunks: list[Chunk], dense, bm25: BM25) -> None:
    """Write a build folder, fsync it, switch manifest.json to it, remove the folders it replaced.
    Call it holding lock(index_dir)."""
    import faiss

    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    folder = index_dir / manifest["build"]
    tmp = index_dir / (manifest["build"] + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
        for c in chunks:
            f.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
    faiss.write_index(dense, str(tmp / "dense.faiss"))
    bm25.save(tmp)
    for path in tmp.iterdir():
        _fsync(path)
    _fsync(tmp)
    os.replace(tmp, folder)
    _fsync(index_dir)
    manifest_tmp = index_dir / "manifest.json.tmp"
    with open(manifest_tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(manifest, indent=1))
        f.flush()
        os.fsync(f.fileno())
    os.replace(manifest_tmp, index_dir / "manifest.json")  # the commit point
    _fsync(index_dir)  # the rename itself survives a power cut
    tidy(index_dir)


def tidy(index_dir: Path) -> None:
    """Remove build folders (finished or half-written) that manifest.json does not name.
    Only safe under lock(index_dir): then no other build is writing one."""
    try:
        current = (read_manifest(index_dir) or {}).get("build")
    except StoreError:
        return  # keep everything: whatever is there may be all that is left of an index
    for old in Path(index_dir).glob("build-*"):
        if old.is_dir() and old.name != current:
            shutil.rmtree(old, ignore_errors=True)


def _fsync(path: Path) -> None:
    """Flush a file's or a folder's entry to disk (folders: where the OS allows opening them)."""
    try:
        fd = os.open(path, (os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if path.is_dir() else os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a folder; its renames are durable enough
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_BUILDING = {"BuildReport", "build", "doc_hash", "index_text", "open_index", "settings", "stale_reasons"}


def __getattr__(name: str):
    """Building moved to rag.build; `store.build`, `store.open_index` ... keep working for existing callers."""
    if name in _BUILDING:
        from . import build

        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
