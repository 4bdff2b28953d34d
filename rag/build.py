"""Corpus folder -> index on disk: load articles, chunk, embed (reusing unchanged articles' vectors), save.

Also the rebuild policy: a current index is loaded, a missing/stale/corrupt one is rebuilt, an index the
user named is refused with the reason. The on-disk format itself is rag.store.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import store
from .bm25 import BM25
from .chunk import chunk_document
from .corpus import SUFFIXES, load_corpus
from .embed import Embedder
from .errors import StoreError
from .store import FORMAT, Index
from .types import Chunk, Document, Header


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


def index_text(chunk: Chunk) -> str:
    """What gets embedded and keyword-indexed: the title and the people quoted give a chunk its context
    ('he added, citing AUKUS' is found by 'What did Kirby say?' because Kirby is named here)."""
    quoted = f"Quotes from {', '.join(chunk.speakers)}.\n" if chunk.speakers else ""
    return f"{chunk.title}\n{quoted}{chunk.text}"


def doc_hash(doc: Document) -> str:
    header = "\0".join(f"{h.field}:{h.text}:{h.start}" for h in doc.header)
    return hashlib.sha256(f"{doc.title}\0{doc.publisher}\0{doc.date}\0{doc.byline}\0{header}\0{doc.text}".encode()).hexdigest()


def settings(embedder: Embedder, chunk_chars: int, chunk_overlap: int) -> dict:
    return {"format": FORMAT, "embed_model": embedder.name, "dim": embedder.dim, "chunk_chars": chunk_chars,
            "chunk_overlap": chunk_overlap}


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


def build(docs: list[Document], embedder: Embedder, index_dir: Path, chunk_chars: int, chunk_overlap: int,
          previous: Index | None = None, progress: bool = False, corpus_dir: Path | None = None,
          files: dict[str, list[int]] | None = None) -> tuple[Index, BuildReport]:
    """Chunk, embed (reusing vectors of unchanged documents from `previous`), save atomically under the lock."""
    with store.lock(index_dir):
        return _build(docs, embedder, Path(index_dir), chunk_chars, chunk_overlap, previous, progress, corpus_dir,
                      files)


def _build(docs, embedder, index_dir, chunk_chars, chunk_overlap, previous, progress, corpus_dir, files=None):
    t0 = time.perf_counter()
    wanted = settings(embedder, chunk_chars, chunk_overlap)
    old_docs: dict[str, str] = {}
    reuse: dict[str, np.ndarray] = {}
    if previous is not None and all(previous.manifest.get(k) == v for k, v in wanted.items()):
        old_docs = previous.manifest.get("docs", {})
        rows_by_doc = store.rows_by_doc(previous.chunks)
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
    dense = store.dense_index(matrix)  # exact, or IVF above store.APPROX_MIN chunks
    bm25 = BM25.build([index_text(c) for c in chunks])
    new_docs = {d.doc_id: doc_hash(d) for d in docs}
    manifest = {
        **wanted, "build": f"build-{time.time_ns()}", "docs": new_docs, "n_chunks": len(chunks),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "corpus_dir": str(Path(corpus_dir).resolve()) if corpus_dir else None,  # `--index X` alone finds it
        "dense": type(dense).__name__, "files": files or {},  # size and mtime per file: start-up skips reading
    }
    articles = {d.doc_id: Header(d.doc_id, d.title, d.publisher, d.date, d.byline, Path(d.path).name if d.path else "",
                                 d.header) for d in docs}
    store.save(index_dir, manifest, chunks, dense, bm25, matrix, articles)
    report = BuildReport(
        added=sorted(k for k in new_docs if k not in old_docs),
        changed=sorted(k for k in new_docs if k in old_docs and old_docs[k] != new_docs[k]),
        removed=sorted(k for k in old_docs if k not in new_docs),
        unchanged=len(reuse), chunks=len(chunks), embedded=len(todo), seconds=time.perf_counter() - t0,
    )
    return store.load(index_dir), report  # chunks from SQLite, vectors memory-mapped: as every start sees them


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
    current = _current(index_dir, wanted, docs, named, corpus_dir)
    if current is not None:
        _remember_files(index_dir, current, files)
        return current, BuildReport(unchanged=len(docs), chunks=len(current.chunks), rebuilt=False)
    with store.lock(index_dir):  # one build at a time; the one that waited may find the index current now
        current = _current(index_dir, wanted, docs, named, corpus_dir)
        if current is not None:
            return current, BuildReport(unchanged=len(docs), chunks=len(current.chunks), rebuilt=False)
        try:
            previous = store.load(index_dir)
        except StoreError:
            previous = None
        return _build(docs, embedder, Path(index_dir), chunk_chars, chunk_overlap, previous, progress, corpus_dir,
                      files)


def open_configured(config, embedder: Embedder, named: bool, progress: bool = False):
    """The store a Config names, brought up to date with its corpus: FAISS files (default) or Milvus.
    -> (index, report)"""
    c = config
    if c.store == "milvus":
        from .milvus_store import open_milvus
        uri = c.milvus_uri or str(c.index_dir / "milvus.db")
        return open_milvus(c.corpus_dir, uri, c.milvus_collection, embedder, c.chunk_chars, c.chunk_overlap,
                           named=named, progress=progress)
    if c.store != "faiss":
        raise StoreError(f"unknown store {c.store!r}: use faiss or milvus")
    return open_index(c.corpus_dir, c.index_dir, embedder, c.chunk_chars, c.chunk_overlap, named=named,
                      progress=progress)


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
        manifest = store.read_manifest(Path(index_dir))
    except StoreError:
        return None
    if manifest is None or not files or manifest.get("files") != files:
        return None
    if any(manifest.get(k) != v for k, v in wanted.items()):
        return None
    try:
        return store.load(index_dir)
    except StoreError:
        return None


def _remember_files(index_dir: Path, index: Index, files: dict[str, list[int]]) -> None:
    """Files touched but not changed: record their new stamps, so the next start skips reading them."""
    if index.manifest.get("files") == files:
        return
    with store.lock(index_dir):
        if (store.read_manifest(Path(index_dir)) or {}).get("build") == index.manifest.get("build"):
            index.manifest = {**index.manifest, "files": files}
            store.write_manifest(Path(index_dir), index.manifest)


def _current(index_dir, wanted, docs, named, corpus_dir) -> Index | None:
    """The index on disk if it matches; None if it must be built; StoreError for a named index that doesn't."""
    try:
        previous = store.load(index_dir)
        reasons = stale_reasons(previous.manifest, wanted, docs)
    except StoreError as e:
        if named and (Path(index_dir) / "manifest.json").exists():
            raise StoreError(f"{e}; rebuild it with: rag index {corpus_dir} --index {index_dir}") from e
        return None
    if reasons and named:
        raise StoreError(f"index at {index_dir} is out of date: {'; '.join(reasons)}; "
                         f"rebuild it with: rag index {corpus_dir} --index {index_dir}")
    return None if reasons else previous
