"""Scale benchmark (issue 10): search at 100k and 1M chunks for FAISS exact, FAISS approximate and Milvus embedded;
start-up with an unchanged corpus; answer throughput of 4 concurrent clients, LLM server vs in-process.

    nice -n 19 .venv/bin/python bench/scale.py                       # 100k and 1M (the 1M part takes ~1 h)
    nice -n 19 .venv/bin/python bench/scale.py --sizes 20000 --milvus-max 20000 --answers 2   # a quick check

Search uses synthetic unit vectors (384-d, clustered around n/100 centres like sentence embeddings of related
texts; queries are fresh points of the same clusters), so no embedding model runs. Start-up builds a real index
folder through `rag.build.build` from synthetic articles with a fake embedder, then times `build.open_index` on
the unchanged corpus in a fresh process. Throughput runs the real pipeline with a real model. Results go to
bench/scale_results.md and bench/scale_results.json (rewritten after each section).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DIM = 384
now = time.perf_counter


def rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentiles(seconds: list[float]) -> dict:
    return {"p50_ms": float(np.percentile(seconds, 50)) * 1000, "p95_ms": float(np.percentile(seconds, 95)) * 1000}


def clustered(n: int, seed: int, centers: np.ndarray, noise: float = 0.05, block: int = 100_000) -> np.ndarray:
    """n unit vectors: a random centre plus Gaussian noise (per-dimension std `noise`), normalized."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), dtype=np.float32)
    for i in range(0, n, block):
        m = min(block, n - i)
        x = centers[rng.integers(0, len(centers), m)] + rng.normal(0, noise, (m, DIM)).astype(np.float32)
        out[i:i + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def centres(seed: int = 0, k: int = 2000) -> np.ndarray:
    """k random unit centres. Search uses n // 100 of them: ~100 vectors a cluster, so the true top 10 are
    distinct neighbours rather than a tie among unrelated clusters."""
    c = np.random.default_rng(seed).normal(size=(k, DIM)).astype(np.float32)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def search_section(n: int, queries: int, milvus_max: int, out: dict,
                   backends: tuple[str, ...] = ("faiss", "bm25", "milvus")) -> None:
    """FAISS exact, FAISS approximate (rag.store's IVF with exact re-scoring) and Milvus embedded at n vectors.
    Only `backends` are measured (exact search always runs: it is the truth recall is measured against); the
    rows of the others keep their last figures."""
    import faiss

    from rag import store
    from rag.bm25 import BM25

    c = centres(k=min(max(n // 100, 100), 10_000))
    matrix = clustered(n, 1, c)
    qs = clustered(queries, 2, c)
    rows = range(n)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "vectors.npy", matrix)
        mapped = np.load(Path(tmp) / "vectors.npy", mmap_mode="r")

        before, t0 = rss_mb(), now()
        flat = faiss.IndexFlatIP(DIM)
        flat.add(matrix)
        exact = store.Index(rows, flat, BM25.build([]), {}, mapped)
        results["faiss exact"] = {"build_s": now() - t0, "memory_mb": rss_mb() - before}
        truth = [[r for r, _ in exact.search_dense(q, 10)] for q in qs]

        def measure(name: str, index) -> None:
            for q in qs[:10]:
                index.search_dense(q, 10)
            times, recall = [], []
            for q, want in zip(qs, truth):
                t = now()
                got = index.search_dense(q, 10)
                times.append(now() - t)
                recall.append(len({r for r, _ in got} & set(want)) / 10)
            results[name].update(percentiles(times), recall_at_10=float(np.mean(recall)))
            print(f"  {n:>9,} {name:<16} {results[name]}", flush=True)

        measure("faiss exact", exact)
        del flat, exact
        if "faiss" not in backends:
            del results["faiss exact"]

        if "faiss" in backends:
            saved = store.APPROX_MIN
            store.APPROX_MIN = 0  # the index rag builds above its threshold, whatever n is here
            before, t0 = rss_mb(), now()
            ivf = store.dense_index(matrix)
            results["faiss approx"] = {"build_s": now() - t0, "memory_mb": rss_mb() - before,
                                       "index": f"IVF{ivf.nlist},SQ8 nprobe={ivf.nprobe} + exact rescore"}
            store.APPROX_MIN = saved
            measure("faiss approx", store.Index(rows, ivf, BM25.build([]), {}, mapped))
            del ivf

        if "bm25" in backends:
            results["bm25s (ours)"] = bm25_search(n)
            print(f"  {n:>9,} bm25s            {results['bm25s (ours)']}", flush=True)

        if "milvus" in backends and n <= milvus_max:
            results["milvus embedded"] = milvus_search(n, matrix, qs, truth, Path(tmp))
            print(f"  {n:>9,} milvus embedded  {results['milvus embedded']}", flush=True)
        elif "milvus" in backends:
            results["milvus embedded"] = {"skipped": f"n > --milvus-max {milvus_max:,}"}
    out.setdefault("search", {}).setdefault(str(n), {}).update(results)


def bm25_search(n: int, queries: int = 200) -> dict:
    """rag.bm25.BM25 (bm25s under our tokenizer) on n synthetic chunks of 60 words drawn from a Zipf
    vocabulary of 50,000 words; queries of 4 words. Recall is 1 by construction (exact scoring)."""
    from rag.bm25 import BM25

    rng = np.random.default_rng(5)
    vocab = np.array([f"w{i}x" for i in range(50_000)])
    draw = lambda size: vocab[np.minimum(rng.zipf(1.2, size) - 1, len(vocab) - 1)]  # noqa: E731
    texts = [" ".join(row) for row in draw((n, 60))]
    before, t0 = rss_mb(), now()
    bm25 = BM25.build(texts)
    result = {"build_s": now() - t0, "memory_mb": rss_mb() - before}
    del texts
    qs = [" ".join(vocab[rng.integers(0, 2000, 4)]) for _ in range(queries)]
    for q in qs[:10]:
        bm25.search(q, 20)
    times = []
    for q in qs:
        t = now()
        bm25.search(q, 20)
        times.append(now() - t)
    return {**result, **percentiles(times), "recall_at_10": 1.0}


def milvus_search(n: int, matrix: np.ndarray, qs: np.ndarray, truth: list[list[int]], tmp: Path) -> dict:
    """The same vectors in a milvus-lite file with the index rag.milvus_store creates (HNSW, IP)."""
    from pymilvus import DataType, MilvusClient

    client = MilvusClient(str(tmp / "bench.db"))
    schema = client.create_schema(auto_id=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIM)
    params = client.prepare_index_params()
    params.add_index("vector", index_type="HNSW", metric_type="IP", params={"M": 16, "efConstruction": 100})
    before, t0 = rss_mb(), now()
    client.create_collection("bench", schema=schema, index_params=params)
    for i in range(0, n, 5000):
        client.insert("bench", [{"row": i + j, "vector": v.tolist()} for j, v in enumerate(matrix[i:i + 5000])])
    client.flush("bench")
    client.load_collection("bench")
    search = lambda q: client.search("bench", data=[q.tolist()], anns_field="vector", limit=10, output_fields=["row"],  # noqa: E731,E501
                                     search_params={"metric_type": "IP", "params": {"ef": 64}})
    search(qs[0])
    result = {"build_s": now() - t0, "memory_mb": rss_mb() - before}
    times, recall = [], []
    for q, want in zip(qs, truth):
        t = now()
        got = search(q)
        times.append(now() - t)
        recall.append(len({int(h["entity"]["row"]) for h in got[0]} & set(want)) / 10)
    client.close()
    from milvus_lite import server_manager_instance

    server_manager_instance.release_server(str(tmp / "bench.db"))  # stop its in-process server before cleanup
    return {**result, **percentiles(times), "recall_at_10": float(np.mean(recall))}


class FakeEmbedder:
    """Clustered random vectors, fast: the start-up section measures the store, not a model."""

    name, dim = "bench-fake", DIM

    def __init__(self):
        self.c = centres()
        self.seed = 0

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.seed += 1
        return clustered(len(texts), self.seed, self.c)


WORDS = ("government minister trade exports talks summit sanctions economy election court police market bank "
         "energy climate border troops ceasefire president reporters statement officials agreement budget inflation "
         "growth prices oil gas security meeting visit china russia ukraine europe washington beijing moscow").split()


def synthetic_corpus(folder: Path, chunks: int, per_article: int = 20) -> None:
    """Articles of plain sentences, ~per_article chunks each once chunked (420-character chunks)."""
    rng = np.random.default_rng(3)
    folder.mkdir(parents=True)
    articles = max(1, chunks // per_article)
    for a in range(articles):
        sentences = []
        for _ in range(per_article * 2):  # ~3 sentences a chunk, one of them shared with the next
            words = rng.choice(WORDS, 14)
            sentences.append(" ".join(words).capitalize() + f" {rng.integers(1, 999)}.")
        (folder / f"{a:07d}.txt").write_text(f"Article {a}\n\n" + " ".join(sentences) + "\n", encoding="utf-8")


def startup_section(n: int, out: dict) -> None:
    """Build a real FAISS index folder of ~n chunks, then time opening it unchanged in a fresh process."""
    from rag import build

    with tempfile.TemporaryDirectory() as tmp:
        corpus, index = Path(tmp) / "corpus", Path(tmp) / "index"
        synthetic_corpus(corpus, n)
        t0 = now()
        built, report = build.open_index(corpus, index, FakeEmbedder(), 420, 1)
        build_s = now() - t0
        code = (
            "import time, sys; t0 = time.perf_counter(); from rag import build; sys.path.insert(0, %r);"
            "from scale import FakeEmbedder; t1 = time.perf_counter();"
            "index, report = build.open_index(%r, %r, FakeEmbedder(), 420, 1); t2 = time.perf_counter();"
            "assert not report.rebuilt; print(t1 - t0, t2 - t1, len(index.chunks), index.manifest['dense'])"
        ) % (str(HERE), str(corpus), str(index))
        runs = []
        for _ in range(3):
            line = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            imports, opened, chunks, dense = line.split()
            runs.append((float(imports), float(opened)))
        size = sum(p.stat().st_size for p in index.rglob("*") if p.is_file()) / 2**20
        result = {"chunks": report.chunks, "articles": len(list(corpus.iterdir())), "build_s": build_s,
                  "startup_s": float(np.median([o for _, o in runs])), "imports_s": float(np.median([i for i, _ in runs])),
                  "dense": dense, "index_mb": size}
        print(f"  start-up {result}", flush=True)
    out.setdefault("startup", {})[str(n)] = result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def throughput_section(model: str, answers: int, clients: int, out: dict) -> None:
    """`clients` threads each asking `answers` questions: in-process llama.cpp vs llama_cpp.server over HTTP."""
    from rag import Config, Pipeline
    from rag.models import resolve

    questions = [json.loads(line)["question"] for line in open(HERE.parent / "eval" / "questions.jsonl")
                 if json.loads(line).get("answerable")][:clients * answers]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        config = replace(Config().with_env({}), index_dir=Path(tmp) / "index", llm=model)
        base = Pipeline(config)
        base.reindex()

        def run(pipeline, name: str) -> None:
            pipeline.ask(questions[0])  # warm: model loaded, caches filled
            done, errors = [], []

            def client(mine: list[str]) -> None:
                for q in mine:
                    try:
                        t = now()
                        a = pipeline.ask(q)
                        done.append((now() - t, a.completion_tokens, a.refused))
                    except Exception as e:  # counted, not hidden
                        errors.append(repr(e))
            t0 = now()
            threads = [threading.Thread(target=client, args=(questions[i::clients],)) for i in range(clients)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            wall = now() - t0
            results[name] = {"answers": len(done), "errors": errors[:3], "wall_s": wall,
                             "answers_per_min": 60 * len(done) / wall,
                             "tokens_per_s": sum(t for _, t, _ in done) / wall,
                             **percentiles([s for s, _, _ in done])}
            print(f"  {name}: {results[name]}", flush=True)

        run(base, "in-process")
        port = free_port()
        threads = str(os.cpu_count() or 1)
        server = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(resolve(model)),
                                   "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(config.n_ctx),
                                   "--n_threads", threads, "--n_threads_batch", threads, "--seed", "0",
                                   "--interrupt_requests", "False"],  # else a new request cuts off a stream
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            import httpx

            deadline = time.time() + 300
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.time() > deadline:
                    raise RuntimeError("llama_cpp.server did not start")
                time.sleep(0.5)
            served = Pipeline(replace(config, llm_url=f"http://127.0.0.1:{port}"), embedder=base.embedder,
                              index=base.index)
            run(served, "llama_cpp.server")
        finally:
            server.terminate()
            server.wait(timeout=30)
    out["throughput"] = {"model": model, "clients": clients, **results}


def write(out: dict) -> None:
    (HERE / "scale_results.json").write_text(json.dumps(out, indent=1), encoding="utf-8")
    lines = [f"# Scale benchmark ({out['machine']['date']}, {out['machine']['cores']} cores, "
             f"load {out['machine']['load_avg_at_start']:.1f} at start)", ""]
    if out.get("search"):
        lines += ["| chunks | backend | build s | memory MB | search p50 ms | p95 ms | recall@10 |", "|---|---|---:|---:|---:|---:|---:|"]
        for n, by in out["search"].items():
            for name, r in by.items():
                if "skipped" in r:
                    lines.append(f"| {int(n):,} | {name} | {r['skipped']} | | | | |")
                else:
                    lines.append(f"| {int(n):,} | {name} | {r['build_s']:.1f} | {r['memory_mb']:.0f} | {r['p50_ms']:.2f} "
                                 f"| {r['p95_ms']:.2f} | {r['recall_at_10']:.3f} |")
        lines.append("")
    if out.get("startup"):
        lines += ["| chunks | articles | build s | start-up s (unchanged corpus) | imports s | dense | index MB |",
                  "|---|---:|---:|---:|---:|---|---:|"]
        for n, r in out["startup"].items():
            lines.append(f"| {r['chunks']:,} | {r['articles']:,} | {r['build_s']:.1f} | {r['startup_s']:.2f} | "
                         f"{r['imports_s']:.2f} | {r['dense']} | {r['index_mb']:.0f} |")
        lines.append("")
    if out.get("throughput", {}).get("clients"):  # (an entry without figures says why it is void)
        t = out["throughput"]
        lines += [f"Throughput, {t['clients']} concurrent clients, model {t['model']}:", "",
                  "| path | answers | wall s | answers/min | answer tokens/s | latency p50 s | p95 s |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for name in ("in-process", "llama_cpp.server"):
            if name in t:
                r = t[name]
                lines.append(f"| {name} | {r['answers']} | {r['wall_s']:.1f} | {r['answers_per_min']:.1f} | "
                             f"{r['tokens_per_s']:.1f} | {r['p50_ms'] / 1000:.1f} | {r['p95_ms'] / 1000:.1f} |")
    lines += [f"- {note}" for note in out.get("notes", [])]  # when each section ran, if not in this run
    (HERE / "scale_results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--milvus-max", type=int, default=100_000,
                    help="skip Milvus above this many vectors (milvus-lite is pure Python: 1M takes long)")
    ap.add_argument("--startup-sizes", type=int, nargs="*", default=None, help="default: --sizes")
    ap.add_argument("--model", default="qwen2.5-coder-1.5b", help="LLM for the throughput part")
    ap.add_argument("--answers", type=int, default=3, help="questions per client")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--skip", nargs="*", default=[], choices=["search", "startup", "throughput"])
    ap.add_argument("--backends", nargs="+", default=["faiss", "bm25", "milvus"], choices=["faiss", "bm25", "milvus"],
                    help="search backends to measure (the others' rows keep their last figures)")
    args = ap.parse_args()
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    saved = HERE / "scale_results.json"  # sections not run this time keep their last figures
    out = json.loads(saved.read_text(encoding="utf-8")) if saved.exists() else {}
    out["machine"] = {"cores": os.cpu_count(), "load_avg_at_start": os.getloadavg()[0],
                      "faiss": faiss.__version__, "date": time.strftime("%Y-%m-%d %H:%M")}
    if "search" not in args.skip:
        for n in args.sizes:
            search_section(n, args.queries, args.milvus_max, out, tuple(args.backends))
            write(out)
    if "startup" not in args.skip:
        out["startup"] = {}
        for n in args.startup_sizes if args.startup_sizes is not None else args.sizes:
            startup_section(n, out)
            write(out)
    if "throughput" not in args.skip:
        throughput_section(args.model, args.answers, args.clients, out)
    out["machine"]["load_avg_at_end"] = os.getloadavg()[0]
    write(out)
    print((HERE / "scale_results.md").read_text())


if __name__ == "__main__":
    main()
