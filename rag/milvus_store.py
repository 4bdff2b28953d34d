"""Milvus as the store: chunks, vectors and Milvus's own BM25 in one collection, hybrid RRF done by Milvus.

The same interface as `rag.store.Index` (`chunks`, `search_dense`, `search_bm25`, `vectors`, `manifest`,
`bm25.vocab`), so retrieval and the pipeline do not know which store they use. One code path for every
deployment: `uri` is a local `.db` file (milvus-lite, embedded, one process per file) or
`http://host:19530` (a Milvus server or cluster). Chosen with `RAG_STORE=milvus`, `RAG_MILVUS_URI=...`.

Two collections: `<name>_chunks` (one row per chunk) and `<name>_docs` (one row per article: its hash, plus a
`__settings__` row recording embedding model, dimension and chunk settings). Updates are incremental by
article hash: a changed article's chunks are upserted, its vanished chunks deleted by document id, and its
hash is written last, so an update killed half-way is redone on the next start.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .terms import tokenize
from .chunk import chunk_document
from .corpus import load_corpus
from .embed import Embedder
from .errors import StoreError
from .build import BuildReport, doc_hash, index_text, settings
from .types import Chunk, Document

SETTINGS_ID = "__settings__"
_CHUNK_FIELDS = ["row", "chunk_id", "doc_id", "title", "text", "start", "end", "publisher", "date", "meta"]
_BATCH = 500  # rows per insert/upsert call (gRPC messages stay well under 64 MB)


def row_id(chunk_id: str) -> int:
    """A stable 63-bit primary key per chunk id, so re-indexing an article upserts the same rows.

    'a:0' -> the same int on every machine and run
    """
    return int.from_bytes(hashlib.blake2b(chunk_id.encode(), digest_size=8).digest(), "big") & (2**63 - 1)


def _quote(value: str) -> str:
    return json.dumps(value)  # a Milvus string literal: double quotes, backslash escapes


def _connect(uri: str):
    try:
        from pymilvus import MilvusClient
    except ImportError as e:
        raise StoreError("the Milvus store needs pymilvus (and milvus-lite for a .db file): "
                         "pip install 'rag-news[scale]'") from e
    if not uri.startswith(("http://", "https://", "tcp://", "unix:")):
        Path(uri).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        uri = str(Path(uri).expanduser().resolve())
    try:
        return MilvusClient(uri)
    except Exception as e:
        raise StoreError(f"cannot open Milvus at {uri}: {e}") from e


class _Vocabulary:
    """`term in vocab`: is the term anywhere in the corpus? Answered by Milvus's TEXT_MATCH, cached, so the
    off-topic refusal works without holding the corpus vocabulary in this process."""

    def __init__(self, index: "MilvusIndex"):
        self.index = index
        self._known: dict[str, bool] = {}

    def __contains__(self, term: object) -> bool:
        if not isinstance(term, str):
            return False
        if term not in self._known:
            rows = self.index.client.query(self.index.chunks_name, filter=f"TEXT_MATCH(terms, {_quote(term)})",
                                           output_fields=["row"], limit=1)
            self._known[term] = bool(rows)
        return self._known[term]


class _Keywords:
    """Stands where `store.Index.bm25` stands: `.vocab`, and `search(query, n, rows)` for filtered search."""

    def __init__(self, index: "MilvusIndex"):
        self.index = index
        self.vocab = _Vocabulary(index)

    def search(self, query: str, n: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        return self.index.search_bm25(query, n, rows)


class MilvusChunks:
    """`index.chunks[row]` and `len(index.chunks)` on a Milvus collection. Rows are primary keys, not
    positions; searches prefetch the chunks they return, so `chunks[row]` after a search costs no round trip."""

    def __init__(self, index: "MilvusIndex"):
        self.index = index
        self._cache: dict[int, Chunk] = {}

    def remember(self, entity: dict) -> None:
        if len(self._cache) > 20_000:
            self._cache.clear()
        self._cache[int(entity["row"])] = _to_chunk(entity)

    def __getitem__(self, row: int) -> Chunk:
        row = int(row)
        if row not in self._cache:
            found = self.index.client.get(self.index.chunks_name, ids=[row], output_fields=_CHUNK_FIELDS)
            if not found:
                raise IndexError(f"no chunk with row {row}")
            self.remember(found[0])
        return self._cache[row]

    def __len__(self) -> int:
        res = self.index.client.query(self.index.chunks_name, filter="", output_fields=["count(*)"])
        return int(res[0]["count(*)"])

    def __iter__(self):
        """Every chunk, in article then offset order (for `Pipeline.chunks()`; use on small corpora)."""
        rows = _all(self.index.client, self.index.chunks_name, _CHUNK_FIELDS)
        return iter(sorted((_to_chunk(r) for r in rows), key=lambda c: (c.doc_id, c.start)))

    def __bool__(self) -> bool:
        return len(self) > 0


def _to_chunk(entity: dict) -> Chunk:
    return Chunk(id=entity["chunk_id"], doc_id=entity["doc_id"], title=entity["title"], text=entity["text"],
                 start=int(entity["start"]), end=int(entity["end"]), publisher=entity["publisher"],
                 date=entity["date"], **json.loads(entity["meta"]))


def _to_row(chunk: Chunk, vector: np.ndarray) -> dict:
    fields = asdict(chunk)
    meta = {k: v for k, v in fields.items() if k not in _PLAIN}  # speakers, who said which sentence, ...
    return {"row": row_id(chunk.id), "chunk_id": chunk.id, "doc_id": chunk.doc_id, "title": chunk.title,
            "text": chunk.text, "start": chunk.start, "end": chunk.end, "publisher": chunk.publisher,
            "date": chunk.date, "meta": json.dumps(meta, ensure_ascii=False),
            "terms": " ".join(tokenize(index_text(chunk))) or "_", "vector": vector.astype(np.float32).tolist()}


_PLAIN = {"id", "doc_id", "title", "text", "start", "end", "publisher", "date"}  # Chunk fields with their own column


class MilvusIndex:
    """A Milvus collection seen through the `store.Index` interface."""

    def __init__(self, client, name: str, manifest: dict):
        self.client, self.name, self.manifest = client, name, manifest
        self.chunks_name, self.docs_name = f"{name}_chunks", f"{name}_docs"
        self.chunks = MilvusChunks(self)
        self.bm25 = _Keywords(self)
        self.articles: dict = {}  # no article headers in Milvus: questions about an article get its title alone

    def article_text(self, doc_id: str) -> str:
        """The article's title and chunks' text, as `store.Index.article_text` gives it."""
        found = sorted(self.client.query(self.chunks_name, filter=f"doc_id == {_quote(doc_id)}",
                                         output_fields=["title", "text", "start"]), key=lambda r: r["start"])
        return "\n".join(([found[0]["title"]] if found else []) + [r["text"] for r in found])

    def _hits(self, result) -> list[tuple[int, float]]:
        out = []
        for hit in result[0] if result else []:
            self.chunks.remember(hit["entity"])
            out.append((int(hit["entity"]["row"]), float(hit["distance"])))
        return out

    def search_dense(self, query_vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        res = self.client.search(self.chunks_name, data=[np.asarray(query_vector, np.float32).tolist()],
                                 anns_field="vector", limit=n, output_fields=_CHUNK_FIELDS,
                                 search_params={"metric_type": "IP"})
        return self._hits(res)

    def search_bm25(self, query: str, n: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Milvus's BM25 over our tokens (so 'U.S.' still matches 'US'); best first; with `rows`, only those."""
        terms = " ".join(dict.fromkeys(tokenize(query)))
        if not terms or n <= 0 or (rows is not None and len(rows) == 0):
            return []
        where = "" if rows is None else f"row in {[int(r) for r in rows]}"
        res = self.client.search(self.chunks_name, data=[terms], anns_field="sparse", limit=n, filter=where,
                                 output_fields=_CHUNK_FIELDS, search_params={"metric_type": "BM25"})
        return [(row, abs(score)) for row, score in self._hits(res)]

    def rows_where(self, where) -> np.ndarray:
        """Row keys of the chunks a `retrieve.Filter` allows (decided once per article, as Filter.rows does)."""
        from types import SimpleNamespace

        decided: dict[str, bool] = {}
        keep = []
        for r in _all(self.client, self.chunks_name, ["row", "doc_id", "publisher", "date"]):
            if r["doc_id"] not in decided:
                decided[r["doc_id"]] = where.allows(SimpleNamespace(**r))
            if decided[r["doc_id"]]:
                keep.append(int(r["row"]))
        return np.asarray(sorted(keep), dtype=np.int64)

    def search_hybrid(self, query: str, query_vector: np.ndarray, n: int, rrf_k: int = 60) -> list[tuple[int, float]]:
        """Dense and BM25 candidate lists fused by reciprocal rank inside Milvus: one round trip to a server."""
        from pymilvus import AnnSearchRequest, RRFRanker

        terms = " ".join(dict.fromkeys(tokenize(query)))
        requests = [AnnSearchRequest([np.asarray(query_vector, np.float32).tolist()], "vector",
                                     {"metric_type": "IP"}, n)]
        if terms:
            requests.append(AnnSearchRequest([terms], "sparse", {"metric_type": "BM25"}, n))
        res = self.client.hybrid_search(self.chunks_name, requests, RRFRanker(rrf_k), limit=2 * n,
                                        output_fields=_CHUNK_FIELDS)
        return self._hits(res)

    def vectors(self, rows: list[int]) -> np.ndarray:
        """Exact stored vectors (cosines for the refusal threshold), in the order asked."""
        dim = int(self.manifest["dim"])
        if not rows:
            return np.zeros((0, dim), dtype=np.float32)
        found = {int(r["row"]): r["vector"] for r in
                 self.client.get(self.chunks_name, ids=[int(r) for r in rows], output_fields=["vector"])}
        return np.asarray([found[int(r)] for r in rows], dtype=np.float32)


def _create(client, name: str, dim: int) -> None:
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    for field, length in [("chunk_id", 512), ("doc_id", 512), ("title", 2048), ("publisher", 512), ("date", 64),
                          ("meta", 65535)]:
        schema.add_field(field, DataType.VARCHAR, max_length=length)
    schema.add_field("text", DataType.VARCHAR, max_length=65535)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    # Our tokenizer's output, space-joined: Milvus's analyzer then splits on spaces and BM25 sees our terms.
    schema.add_field("terms", DataType.VARCHAR, max_length=65535, enable_analyzer=True, enable_match=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                                 output_field_names=["sparse"]))
    params = client.prepare_index_params()
    # HNSW: ~1 ms searches at 1M vectors; exact cosines for refusals come from `vectors()`, not from HNSW.
    params.add_index("vector", index_type="HNSW", metric_type="IP", params={"M": 16, "efConstruction": 100})
    params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    client.create_collection(f"{name}_chunks", schema=schema, index_params=params)

    docs = client.create_schema(auto_id=False)
    docs.add_field("doc_id", DataType.VARCHAR, is_primary=True, max_length=512)
    docs.add_field("hash", DataType.VARCHAR, max_length=65535)
    docs.add_field("dummy", DataType.FLOAT_VECTOR, dim=2)  # Milvus requires a vector field in a collection
    dparams = client.prepare_index_params()
    dparams.add_index("dummy", index_type="FLAT", metric_type="L2")
    client.create_collection(f"{name}_docs", schema=docs, index_params=dparams)


def _all(client, collection: str, fields: list[str]) -> list[dict]:
    """Every row: an iterator, since a plain query stops at 16,384 rows."""
    it = client.query_iterator(collection, batch_size=1000, output_fields=fields)
    rows = []
    try:
        while batch := it.next():
            rows += batch
    finally:
        it.close()
    return rows


def _stored(client, name: str) -> tuple[dict | None, dict[str, str]]:
    """(settings, {doc_id: hash}) recorded in Milvus, or (None, {}) when there is no such collection."""
    if not (client.has_collection(f"{name}_chunks") and client.has_collection(f"{name}_docs")):
        return None, {}
    rows = _all(client, f"{name}_docs", ["doc_id", "hash"])
    hashes = {r["doc_id"]: r["hash"] for r in rows}
    raw = hashes.pop(SETTINGS_ID, None)
    return (json.loads(raw) if raw else {}), hashes


def open_milvus(corpus_dir: Path, uri: str, name: str, embedder: Embedder, chunk_chars: int, chunk_overlap: int,
                named: bool = False, progress: bool = False,
                docs: list[Document] | None = None) -> tuple[MilvusIndex, BuildReport]:
    """Bring the collection up to date with the corpus (only changed articles are re-embedded) and open it.
    Other embedding or chunk settings rebuild it, unless the user named the index (then: StoreError)."""
    t0 = time.perf_counter()
    docs = load_corpus(corpus_dir) if docs is None else docs
    client = _connect(uri)
    wanted = settings(embedder, chunk_chars, chunk_overlap)
    stored, old = _stored(client, name)
    if stored is not None and stored != wanted:
        diff = [f"{k}={stored.get(k)!r}, not {v!r}" for k, v in wanted.items() if stored.get(k) != v]
        if named:
            raise StoreError(f"Milvus collection {name!r} at {uri} was built with {'; '.join(diff)}; "
                             f"rebuild it with: rag index {corpus_dir}")
        client.drop_collection(f"{name}_chunks")
        client.drop_collection(f"{name}_docs")
        stored, old = None, {}
    if stored is None:
        _create(client, name, embedder.dim)
        client.upsert(f"{name}_docs", [{"doc_id": SETTINGS_ID, "hash": json.dumps(wanted), "dummy": [0.0, 0.0]}])
    new = {d.doc_id: doc_hash(d) for d in docs}
    todo = [d for d in docs if old.get(d.doc_id) != new[d.doc_id]]
    removed = sorted(k for k in old if k not in new)
    embedded = _update(client, name, todo, removed, embedder, chunk_chars, chunk_overlap, progress)
    manifest = {**wanted, "store": "milvus", "uri": uri, "collection": name, "docs": new}
    index = MilvusIndex(client, name, manifest)
    report = BuildReport(
        added=sorted(d.doc_id for d in todo if d.doc_id not in old),
        changed=sorted(d.doc_id for d in todo if d.doc_id in old), removed=removed,
        unchanged=len(docs) - len(todo), chunks=len(index.chunks), embedded=embedded,
        seconds=time.perf_counter() - t0, rebuilt=bool(todo or removed or stored is None))
    return index, report


def _update(client, name: str, todo: list[Document], removed: list[str], embedder: Embedder, chunk_chars: int,
            chunk_overlap: int, progress: bool) -> int:
    """Upsert the chunks of new and edited articles, delete what they and removed articles no longer have."""
    chunks_name, docs_name = f"{name}_chunks", f"{name}_docs"
    per_doc = [(d, chunk_document(d, chunk_chars, chunk_overlap)) for d in todo]
    texts = [index_text(c) for _, cs in per_doc for c in cs]
    vectors = embedder.embed(texts, progress=progress) if texts else np.zeros((0, embedder.dim), np.float32)
    k = 0
    for doc, cs in per_doc:
        rows = [_to_row(c, vectors[k + i]) for i, c in enumerate(cs)]
        k += len(cs)
        for i in range(0, len(rows), _BATCH):
            client.upsert(chunks_name, rows[i:i + _BATCH])
        keep = [r["row"] for r in rows]
        client.delete(chunks_name, filter=f"doc_id == {_quote(doc.doc_id)} and row not in {keep}")
        client.upsert(docs_name, [{"doc_id": doc.doc_id, "hash": doc_hash(doc), "dummy": [0.0, 0.0]}])  # commit
    for doc_id in removed:
        client.delete(chunks_name, filter=f"doc_id == {_quote(doc_id)}")
        client.delete(docs_name, filter=f"doc_id == {_quote(doc_id)}")
    if todo or removed:
        client.flush(chunks_name)
    return len(texts)
