"""The index on disk: FAISS + BM25 + chunks in a build folder that manifest.json points at; load, save, lock.

Layout: <index_dir>/manifest.json names <index_dir>/build-<ns>/ holding chunks.sqlite (texts and metadata, read
lazily), vectors.npy (exact float32 vectors, memory-mapped), dense.faiss (flat, or IVF at scale), bm25/ (bm25s)
and articles.json (each article's header: title, byline, date, publisher and where its file writes them).
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
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np

from .bm25 import BM25
from .errors import StoreError
from .types import Chunk, Header, HeaderLine

# 3: chunks record who said each sentence; 4: HTML by trafilatura, any text encoding;
# 5: chunks.sqlite + vectors.npy + bm25s, IVF above APPROX_MIN chunks; 6: photo captions kept, credits cut;
# 7: a short first-line heading is the title; 8: who speaks by the role-word rule; 9: the speaker index reads more speech verbs,
# appositions (", the UCU general secretary, said") and "according to" a person the article named;
# 10: articles.json, each article's header (title, byline, date, publisher and where its file writes them);
# 11: the tail of an acronym is no speaker ('the U.S. said' named 'S.'); 12: epithets, 'they' after 'A and B';
# 13: chunks.sqlite indexes doc_id (an article's text is read whole when a question names someone)
FORMAT = 13  # bump when the on-disk layout or the cleaning/chunking rules change
ARTICLES_KEPT = 2048  # articles' texts an Index keeps in memory (search reads those of its candidates)
LOCK_TIMEOUT = 600.0  # seconds to wait for another build of the same index before giving up with a StoreError


class Index:
    """A loaded index: chunks, their dense vectors (FAISS inner product) and BM25 weights.

    `matrix` is the exact float32 vectors (memory-mapped from vectors.npy when loaded): `vectors()` reads
    cosines from it, and when `dense` is approximate (IVF, see `dense_index`) the candidates it returns are
    re-scored exactly from it, so refusals and scores never see quantization error."""

    def __init__(self, chunks, dense, bm25: BM25, manifest: dict, matrix: np.ndarray | None = None,
                 articles: dict[str, Header] | None = None):
        self.chunks, self.dense, self.bm25, self.manifest, self.matrix = chunks, dense, bm25, manifest, matrix
        self.articles = articles or {}  # doc id -> its header: title, byline, date, publisher, where each is written
        self.article_text = lru_cache(maxsize=ARTICLES_KEPT)(self._article_text)  # thread-safe, per index
        self._rows_by_doc: dict[str, list[int]] | None = None

    def article_rows(self, doc_ids) -> list[int]:
        """The rows of these articles' chunks, in index order; the article -> rows map is read once per index,
        from SQLite's own index (`rows_by_doc`), the first time it is asked for."""
        if self._rows_by_doc is None:
            self._rows_by_doc = rows_by_doc(self.chunks)
        return sorted(r for d in doc_ids for r in self._rows_by_doc.get(d, ()))

    def _article_text(self, doc_id: str) -> str:
        """The article's title and chunks' text (a sentence two chunks share appears twice)."""
        if hasattr(self.chunks, "doc_chunks"):
            chunks = self.chunks.doc_chunks(doc_id)
        else:
            chunks = [c for c in self.chunks if c.doc_id == doc_id]
        return "\n".join(([chunks[0].title] if chunks else []) + [c.text for c in chunks])

    def search_dense(self, query_vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        if not len(self.chunks):
            return []
        query = query_vector.reshape(1, -1).astype(np.float32)
        if self.matrix is None or self.dense.__class__.__name__ == "IndexFlatIP":
            scores, ids = self.dense.search(query, min(n, len(self.chunks)))
            return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
        _, ids = self.dense.search(query, min(max(2 * n, RESCORE), len(self.chunks)))
        rows = np.sort(ids[0][ids[0] >= 0])
        exact = self.matrix[rows] @ query[0]
        order = np.lexsort((rows, -exact))[:n]
        return [(int(rows[i]), float(exact[i])) for i in order]

    def search_bm25(self, query: str, n: int) -> list[tuple[int, float]]:
        return self.bm25.search(query, n)

    def vectors(self, rows: list[int]) -> np.ndarray:
        if self.matrix is not None:
            return np.asarray(self.matrix[np.asarray(rows, dtype=np.int64)], dtype=np.float32).reshape(len(rows), -1)
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

        chunks = ChunkTable(folder / "chunks.sqlite")
        n_chunks = len(chunks)
        matrix = np.load(folder / "vectors.npy", mmap_mode="r")
        dense = faiss.read_index(str(folder / "dense.faiss"))
        if hasattr(dense, "nprobe"):
            dense.nprobe = NPROBE
        bm25 = BM25.load(folder)
        articles = read_headers(folder / "articles.json")
    except Exception as e:  # any unreadable part means the whole index is unusable
        raise StoreError(f"index at {index_dir} is corrupt or incomplete ({type(e).__name__}: {e})") from e
    if not dense.ntotal == n_chunks == bm25.n_docs == matrix.shape[0] == manifest.get("n_chunks", n_chunks):
        raise StoreError(f"index at {index_dir} is corrupt: {n_chunks} chunks but {dense.ntotal} vectors")
    if dense.d != manifest.get("dim") or matrix.shape[1] != dense.d:
        raise StoreError(f"index at {index_dir} is corrupt: vectors of dimension {dense.d}, manifest says {manifest.get('dim')}")
    return Index(chunks, dense, bm25, manifest, matrix, articles)


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


def save(index_dir: Path, manifest: dict, chunks: list[Chunk], dense, bm25: BM25,
         matrix: np.ndarray | None = None, articles: dict[str, Header] | None = None) -> None:
    """Write a build folder, fsync it, switch manifest.json to it, remove the folders it replaced.
    Call it holding lock(index_dir). `matrix`: the exact vectors (default: read back from a flat `dense`)."""
    import faiss

    if matrix is None:
        matrix = dense.reconstruct_n(0, dense.ntotal) if dense.ntotal else np.zeros((0, dense.d), np.float32)

    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    folder = index_dir / manifest["build"]
    tmp = index_dir / (manifest["build"] + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    write_chunks(tmp / "chunks.sqlite", chunks)
    np.save(tmp / "vectors.npy", matrix)
    faiss.write_index(dense, str(tmp / "dense.faiss"))
    bm25.save(tmp)
    write_headers(tmp / "articles.json", articles or {})
    for path in tmp.iterdir():
        _fsync(path)
    _fsync(tmp)
    os.replace(tmp, folder)
    _fsync(index_dir)
    write_manifest(index_dir, manifest)
    tidy(index_dir)


def write_manifest(index_dir: Path, manifest: dict) -> None:
    """Replace manifest.json atomically and durably (the commit point of a build). Hold lock(index_dir)."""
    manifest_tmp = index_dir / "manifest.json.tmp"
    with open(manifest_tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(manifest, indent=1))
        f.flush()
        os.fsync(f.fileno())
    os.replace(manifest_tmp, index_dir / "manifest.json")  # the commit point
    _fsync(index_dir)  # the rename itself survives a power cut


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


# ---- At scale (issue 10): approximate search, chunks on disk, start-up without re-reading the corpus ----

APPROX_MIN = 200_000  # chunks from which search is IVF (exact flat search is ~150 ms a query at 1M here)
NPROBE = 64  # IVF lists searched per query: recall@10 >= 0.95 vs exact in bench/scale.py
RESCORE = 50  # approximate candidates re-scored exactly from the float32 matrix


def dense_index(matrix: np.ndarray):
    """Exact inner product below APPROX_MIN rows; above, IVF over 8-bit quantized vectors, whose candidates
    `Index.search_dense` re-scores exactly. (HNSW recalls as well but took 125 s to build 100k vectors on
    this machine against 15 s for IVF.)

    matrix (1_000_000, 384) -> IndexIVFScalarQuantizer with 4,000 lists
    """
    import faiss

    n, dim = matrix.shape
    if n < APPROX_MIN:
        dense = faiss.IndexFlatIP(dim)
        dense.add(matrix)
        return dense
    nlist = int(4 * np.sqrt(n))
    dense = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(n, min(n, 40 * nlist), replace=False)
    dense.train(np.ascontiguousarray(matrix[np.sort(sample)]))
    dense.add(matrix)
    dense.nprobe = NPROBE
    return dense


class ChunkTable:
    """The chunks of a build in SQLite: `table[row]`, `len(table)` and iteration read from disk, so a million
    chunks are not a million Python objects at start. Safe to share between threads."""

    def __init__(self, path: Path):
        import sqlite3
        import threading

        if not Path(path).is_file():
            raise FileNotFoundError(path)
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._len = self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, row: int) -> Chunk:
        row = int(row)
        if not 0 <= row < self._len:
            raise IndexError(row)
        with self._lock:
            found = self._db.execute(f"SELECT {_COLUMNS} FROM chunks WHERE row = ?", (row,)).fetchone()
        return _chunk(found)

    def __iter__(self):
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM chunks ORDER BY row").fetchall()
        return (_chunk(r) for r in rows)

    def __eq__(self, other) -> bool:
        try:
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        except TypeError:
            return NotImplemented

    def doc_chunks(self, doc_id: str) -> list[Chunk]:
        """One article's chunks in row order (SQLite's index on doc_id finds them; FORMAT 13 on)."""
        with self._lock:
            found = self._db.execute(f"SELECT {_COLUMNS} FROM chunks WHERE doc_id = ? ORDER BY row", (doc_id,)).fetchall()
        return [_chunk(r) for r in found]

    def doc_rows(self) -> dict[str, list[int]]:
        with self._lock:
            pairs = self._db.execute("SELECT doc_id, row FROM chunks ORDER BY row").fetchall()
        out: dict[str, list[int]] = {}
        for doc_id, row in pairs:
            out.setdefault(doc_id, []).append(row)
        return out


_COLUMNS = "chunk"


def _chunk(r) -> Chunk:
    return Chunk(**json.loads(r[0]))  # Chunk turns JSON lists back into tuples


def write_chunks(path: Path, chunks: list[Chunk]) -> None:
    """One row per chunk: its row number, article id (for incremental builds) and the whole Chunk as JSON."""
    import sqlite3

    db = sqlite3.connect(path)
    try:
        db.execute("CREATE TABLE chunks (row INTEGER PRIMARY KEY, doc_id TEXT, chunk TEXT)")
        db.executemany("INSERT INTO chunks VALUES (?, ?, ?)",
                       ((i, c.doc_id, json.dumps(asdict(c), ensure_ascii=False)) for i, c in enumerate(chunks)))
        db.execute("CREATE INDEX chunks_doc ON chunks (doc_id)")
        db.commit()
    finally:
        db.close()


def rows_by_doc(chunks) -> dict[str, list[int]]:
    """{doc id: the rows of its chunks}, from SQLite's own index when the chunks are a ChunkTable."""
    if hasattr(chunks, "doc_rows"):
        return chunks.doc_rows()
    out: dict[str, list[int]] = {}
    for row, c in enumerate(chunks):
        out.setdefault(c.doc_id, []).append(row)
    return out


# ---- Article headers (issue 24): title, byline, date and publisher as each article's file writes them ----


def write_headers(path: Path, articles: dict[str, Header]) -> None:
    path.write_text(json.dumps({k: asdict(v) for k, v in articles.items()}, ensure_ascii=False), encoding="utf-8")


def read_headers(path: Path) -> dict[str, Header]:
    if not path.is_file():
        return {}
    rows = json.loads(path.read_text(encoding="utf-8"))
    return {k: Header(**{**v, "lines": tuple(HeaderLine(**x) for x in v["lines"])}) for k, v in rows.items()}
