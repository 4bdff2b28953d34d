"""FAISS + BM25 on disk: build (incrementally), load with manifest checks, search.

Layout: <index_dir>/manifest.json points at <index_dir>/<build>/ holding chunks.jsonl, dense.faiss, bm25.*.
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
from .corpus import load_corpus
from .embed import Embedder
from .errors import StoreError
from .types import Chunk, Document

FORMAT = 3  # 3: chunks record who said each sentence; bump when the on-disk layout or the cleaning/chunking rules change


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


def build(docs: list[Document], embedder: Embedder, index_dir: Path, chunk_chars: int, chunk_overlap: int,
          previous: Index | None = None, progress: bool = False) -> tuple[Index, BuildReport]:
    """Chunk, embed (reusing vectors of unchanged documents from `previous`), write atomically."""
    import faiss

    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    wanted = settings(embedder, chunk_chars, chunk_overlap)
    old_docs: dict[str, str] = {}
    reuse: dict[str, np.ndarray] = {}
    if previous is not None and all(previous.manifest.get(k) == v for k, v in wanted.items()):
        old_docs = previous.manifest.get("docs", {})
        rows_by_doc: dict[str, list[int]] = {}
        for row, c in enumerate(previous.chunks):
            rows_by_doc.setdefault(c.doc_id, []).append(row)
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
    dense = faiss.IndexFlatIP(dim)
    dense.add(matrix)
    bm25 = BM25.build([index_text(c) for c in chunks])
    new_docs = {d.doc_id: doc_hash(d) for d in docs}
    manifest = {
        **wanted, "build": f"build-{time.time_ns()}", "docs": new_docs, "n_chunks": len(chunks),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    _write(index_dir, manifest, chunks, dense, bm25)
    report = BuildReport(
        added=sorted(k for k in new_docs if k not in old_docs),
        changed=sorted(k for k in new_docs if k in old_docs and old_docs[k] != new_docs[k]),
        removed=sorted(k for k in old_docs if k not in new_docs),
        unchanged=len(reuse), chunks=len(chunks), embedded=len(todo), seconds=time.perf_counter() - t0,
    )
    return Index(chunks, dense, bm25, manifest), report


def _write(index_dir: Path, manifest: dict, chunks: list[Chunk], dense, bm25: BM25) -> None:
    import faiss

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
    os.replace(tmp, folder)
    manifest_tmp = index_dir / "manifest.json.tmp"
    manifest_tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(manifest_tmp, index_dir / "manifest.json")  # the commit point
    for old in index_dir.glob("build-*"):
        if old.name != manifest["build"]:
            shutil.rmtree(old, ignore_errors=True)


def open_index(corpus_dir: Path, index_dir: Path, embedder: Embedder, chunk_chars: int, chunk_overlap: int,
               named: bool = False, progress: bool = False) -> tuple[Index, BuildReport]:
    """The policy: a current index is loaded; a missing, stale or corrupt one is (re)built, except that an
    index the user named explicitly is refused with the reason rather than silently rebuilt."""
    docs = load_corpus(corpus_dir)
    wanted = settings(embedder, chunk_chars, chunk_overlap)
    previous = None
    try:
        previous = load(index_dir)
        reasons = stale_reasons(previous.manifest, wanted, docs)
    except StoreError as e:
        if named and (Path(index_dir) / "manifest.json").exists():
            raise StoreError(f"{e}; rebuild it with: rag index {corpus_dir} --index {index_dir}") from e
        reasons = [str(e)]
    if not reasons:
        return previous, BuildReport(unchanged=len(docs), chunks=len(previous.chunks), rebuilt=False)
    if named and previous is not None:
        raise StoreError(f"index at {index_dir} is out of date: {'; '.join(reasons)}; "
                         f"rebuild it with: rag index {corpus_dir} --index {index_dir}")
    return build(docs, embedder, index_dir, chunk_chars, chunk_overlap, previous=previous, progress=progress)
