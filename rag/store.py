"""FAISS + BM25 on disk: build (incrementally), load with manifest checks, search.

Layout: <index_dir>/manifest.json points at <index_dir>/<build>/ holding chunks.sqlite (texts and metadata, read
lazily), vectors.npy (exact float32 vectors, memory-mapped), dense.faiss (flat, or IVF at scale) and bm25/ (bm25s).
A build writes a new folder and then replaces manifest.json atomically, so a killed build leaves the
previous index intact; old build folders are removed afterwards.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .bm25 import BM25
from .chunk import chunk_document
from .corpus import SUFFIXES, load_corpus
from .embed import Embedder
from .errors import StoreError
from .types import Chunk, Document

FORMAT = 4  # 4: chunks.sqlite + vectors.npy + bm25s (issue 10); 3: chunks record who said each sentence


@dataclass(frozen=True)
class BuildReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    chunks: int = 0
    embedded: int = 0  # chunks that went through the embedding model this time
    seconds: float = 0.0
    rebuilt: bool = True  # False when the index on disk was already current


class Index:
    """A loaded index: chunks, their dense vectors (FAISS inner product) and BM25 weights.

    `matrix` is the exact float32 vectors (memory-mapped from vectors.npy when loaded): `vectors()` reads
    cosines from it, and when `dense` is approximate (IVF, see `dense_index`) the candidates it returns are
    re-scored exactly from it, so refusals and scores never see quantization error."""

    def __init__(self, chunks, dense, bm25: BM25, manifest: dict, matrix: np.ndarray | None = None):
        self.chunks, self.dense, self.bm25, self.manifest, self.matrix = chunks, dense, bm25, manifest, matrix

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


def index_text(chunk: Chunk) -> str:
    """What gets embedded and keyword-indexed: the title and the people quoted give a chunk its context
    ('he added, citing AUKUS' is found by 'What did Kirby say?' because Kirby is named here)."""
    quoted = f"Quotes from {', '.join(chunk.speakers)}.\n" if chunk.speakers else ""
    return f"{chunk.title}\n{quoted}{chunk.text}"


def doc_hash(doc: Document) -> str:
    return hashlib.sha256(f"{doc.title}\0{doc.publisher}\0{doc.date}\0{doc.text}".encode()).hexdigest()


def settings(embedder: Embedder, chunk_chars: int, chunk_overlap: int) -> dict:
    return {"format": FORMAT, "embed_model": embedder.name, "dim": embedder.dim, "chunk_chars": chunk_chars,
            "chunk_overlap": chunk_overlap}


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


def stale_reasons(manifest: dict, wanted: dict, docs: list[Document]) -> list[str]:
    """Why an index no longer matches: [] when current.

    manifest built with 'other-model' -> ["built with embedding model 'other-model', not 'all-MiniLM-L6-v2'"]
    """
    reasons = []
    if manifest.get("format") != wanted["format"]:
        reasons.append(f"index format {manifest.get('format')}, this version reads {wanted['format']}")
    if manifest.get("embed_model") != wanted["embed_model"]:
        reasons.append(f"built with embedding model {manifest.get('embed_model')!r}, not {wanted['embed_model']!r}")
    for key in ("dim", "chunk_chars", "chunk_overlap"):
        if manifest.get(key) != wanted[key]:
            reasons.append(f"built with {key}={manifest.get(key)}, not {wanted[key]}")
    old = manifest.get("docs", {})
    new = {d.doc_id: doc_hash(d) for d in docs}
    changed = sorted(k for k in new if old.get(k) != new[k])
    removed = sorted(k for k in old if k not in new)
    if changed or removed:
        reasons.append(f"corpus changed since the build ({len(changed)} new or edited, {len(removed)} removed)")
    return reasons


def load(index_dir: Path, wanted: dict | None = None, docs: list[Document] | None = None) -> Index:
    """Load the index; with `wanted`/`docs`, refuse one that no longer matches them (StoreError)."""
    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise StoreError(f"no index at {index_dir}")
    if wanted is not None:
        reasons = stale_reasons(manifest, wanted, docs or [])
        if reasons:
            raise StoreError(f"index at {index_dir} is out of date: {'; '.join(reasons)}")
    folder = index_dir / manifest["build"]
    try:
        import faiss

        chunks = ChunkTable(folder / "chunks.sqlite")
        n_chunks = len(chunks)
        matrix = np.load(folder / "vectors.npy", mmap_mode="r")
        dense = faiss.read_index(str(folder / "dense.faiss"))
        if hasattr(dense, "nprobe"):
            dense.nprobe = NPROBE
        bm25 = BM25.load(folder)
    except Exception as e:  # any unreadable part means the whole index is unusable
        raise StoreError(f"index at {index_dir} is corrupt or incomplete ({type(e).__name__}: {e})") from e
    if not dense.ntotal == n_chunks == bm25.n_docs == matrix.shape[0] == manifest.get("n_chunks", n_chunks):
        raise StoreError(f"index at {index_dir} is corrupt: {n_chunks} chunks but {dense.ntotal} vectors")
    if dense.d != manifest.get("dim") or matrix.shape[1] != dense.d:
        raise StoreError(f"index at {index_dir} is corrupt: vectors of dimension {dense.d}, manifest says {manifest.get('dim')}")
    return Index(chunks, dense, bm25, manifest, matrix)


def build(docs: list[Document], embedder: Embedder, index_dir: Path, chunk_chars: int, chunk_overlap: int,
          previous: Index | None = None, progress: bool = False,
          files: dict[str, list[int]] | None = None) -> tuple[Index, BuildReport]:
    """Chunk, embed (reusing vectors of unchanged documents from `previous`), write atomically."""
    import faiss

    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    wanted = settings(embedder, chunk_chars, chunk_overlap)
    old_docs: dict[str, str] = {}
    reuse: dict[str, np.ndarray] = {}
    if previous is not None and all(previous.manifest.get(k) == v for k, v in wanted.items()):
        old_docs = previous.manifest.get("docs", {})
        rows_by_doc = _rows_by_doc(previous.chunks)
        for doc in docs:
            if old_docs.get(doc.doc_id) == doc_hash(doc) and doc.doc_id in rows_by_doc:
                reuse[doc.doc_id] = previous.vectors(rows_by_doc[doc.doc_id])
    chunks: list[Chunk] = []
    per_doc: list[tuple[Document, list[Chunk]]] = []
    for doc in docs:
        doc_chunks = chunk_document(doc, chunk_chars, chunk_overlap)
        per_doc.append((doc, doc_chunks))
        chunks += doc_chunks
    todo = [c for doc, cs in per_doc if doc.doc_id not in reuse for c in cs]
    fresh = embedder.embed([index_text(c) for c in todo], progress=progress) if todo else None
    parts, k = [], 0
    for doc, cs in per_doc:
        if doc.doc_id in reuse:
            parts.append(reuse[doc.doc_id])
        else:
            parts.append(fresh[k:k + len(cs)])
            k += len(cs)
    dim = embedder.dim
    matrix = np.vstack(parts).astype(np.float32) if chunks else np.zeros((0, dim), dtype=np.float32)
    dense = dense_index(matrix)
    bm25 = BM25.build([index_text(c) for c in chunks])
    new_docs = {d.doc_id: doc_hash(d) for d in docs}
    manifest = {
        **wanted, "build": f"build-{time.time_ns()}", "docs": new_docs, "n_chunks": len(chunks),
        "dense": type(dense).__name__, "files": files or {}, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    _write(index_dir, manifest, chunks, dense, bm25, matrix)
    report = BuildReport(
        added=sorted(k for k in new_docs if k not in old_docs),
        changed=sorted(k for k in new_docs if k in old_docs and old_docs[k] != new_docs[k]),
        removed=sorted(k for k in old_docs if k not in new_docs),
        unchanged=len(reuse), chunks=len(chunks), embedded=len(todo), seconds=time.perf_counter() - t0,
    )
    return load(index_dir), report


def _write(index_dir: Path, manifest: dict, chunks: list[Chunk], dense, bm25: BM25, matrix: np.ndarray) -> None:
    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    folder = index_dir / manifest["build"]
    tmp = index_dir / (manifest["build"] + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    write_chunks(tmp / "chunks.sqlite", chunks)
    np.save(tmp / "vectors.npy", matrix)
    faiss.write_index(dense, str(tmp / "dense.faiss"))
    bm25.save(tmp)
    os.replace(tmp, folder)
    _write_manifest(index_dir, manifest)  # the commit point
    for old in index_dir.glob("build-*"):
        if old.name != manifest["build"]:
            shutil.rmtree(old, ignore_errors=True)


def open_index(corpus_dir: Path, index_dir: Path, embedder: Embedder, chunk_chars: int, chunk_overlap: int,
               named: bool = False, progress: bool = False) -> tuple[Index, BuildReport]:
    """The policy: a current index is loaded; a missing, stale or corrupt one is (re)built, except that an
    index the user named explicitly is refused with the reason rather than silently rebuilt."""
    wanted = settings(embedder, chunk_chars, chunk_overlap)
    files = corpus_files(corpus_dir)  # stat before reading: a file edited meanwhile is re-read next time
    current = unchanged_index(index_dir, wanted, files)
    if current is not None:
        return current, BuildReport(unchanged=len(current.manifest["docs"]), chunks=len(current.chunks), rebuilt=False)
    docs = load_corpus(corpus_dir)
    previous = None
    try:
        previous = load(index_dir)
        reasons = stale_reasons(previous.manifest, wanted, docs)
    except StoreError as e:
        if named and (Path(index_dir) / "manifest.json").exists():
            raise StoreError(f"{e}; rebuild it with: rag index {corpus_dir} --index {index_dir}") from e
        reasons = [str(e)]
    if not reasons:
        if previous.manifest.get("files") != files:  # touched, not changed: remember the new stamps
            previous.manifest = {**previous.manifest, "files": files}
            _write_manifest(Path(index_dir), previous.manifest)
        return previous, BuildReport(unchanged=len(docs), chunks=len(previous.chunks), rebuilt=False)
    if named and previous is not None:
        raise StoreError(f"index at {index_dir} is out of date: {'; '.join(reasons)}; "
                         f"rebuild it with: rag index {corpus_dir} --index {index_dir}")
    return build(docs, embedder, index_dir, chunk_chars, chunk_overlap, previous=previous, progress=progress,
                 files=files)


def _write_manifest(index_dir: Path, manifest: dict) -> None:
    manifest_tmp = index_dir / "manifest.json.tmp"
    manifest_tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(manifest_tmp, index_dir / "manifest.json")


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
        db.commit()
    finally:
        db.close()


def _rows_by_doc(chunks) -> dict[str, list[int]]:
    if hasattr(chunks, "doc_rows"):
        return chunks.doc_rows()
    out: dict[str, list[int]] = {}
    for row, c in enumerate(chunks):
        out.setdefault(c.doc_id, []).append(row)
    return out


def corpus_files(corpus_dir: Path) -> dict[str, list[int]]:
    """{relative path: [size, mtime_ns]} of the files `load_corpus` would read: a stat per file, no reading."""
    root = Path(corpus_dir)
    if not root.is_dir():
        return {}
    out = {}
    for p in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES):
        st = p.stat()
        out[str(p.relative_to(root))] = [st.st_size, st.st_mtime_ns]
    return out


def unchanged_index(index_dir: Path, wanted: dict, files: dict[str, list[int]]) -> Index | None:
    """The index, loaded without reading the corpus, when its settings match and every corpus file has the
    size and modification time the manifest recorded; else None (the caller then reads and hashes)."""
    try:
        manifest = read_manifest(Path(index_dir))
    except StoreError:
        return None
    if manifest is None or not files or manifest.get("files") != files:
        return None
    if any(manifest.get(k) != v for k, v in wanted.items()):
        return None
    try:
        return load(index_dir)
    except StoreError:
        return None
