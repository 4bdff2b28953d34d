"""Answer speed on this CPU, every lever beside the raw library, on questions the eval does not hold (issue 25).

    .venv/bin/python bench/answer_speed.py [--limit N] [--modes raw,engine,...] [--search]

Questions: bench/questions.jsonl, those that reach the model (who-said answers and early refusals never do).
Each row runs in its own process, one after the other (llama.cpp on all cores must run alone):
  raw      llama-cpp-python alone: the packaged Q4_K_M, a fresh context for every question, the five best
           passages pasted whole under a one-line instruction (create_chat_completion, streamed). The yardstick.
  engine   the engine's prompt and generator as configured: system prompt restored from the saved KV state,
           the four best passages (Config defaults)
  q4_0     engine with the Q4_0 file derived from the Q4_K_M at setup
  q8_0     engine with the Q8_0 file derived from the Q4_K_M at setup
  focus    engine with passages cut to their most relevant sentences, the prompt kept within FOCUS_TARGET tokens
           (RAG_PROMPT_TOKENS; each passage keeps its best sentence)
  lookup   engine with prompt-lookup decoding (RAG_LOOKUP=10 draft tokens copied from the passages)
  flash    engine with llama.cpp's flash attention kernel (RAG_FLASH_ATTN=1)
  rawflash raw, with flash attention on in the library too (the yardstick with the same kernel)
  ask      rag's Pipeline.ask end to end (search, prompt, model, checks, second pass) as configured
The first call of each process is a warm-up on another prompt, never timed. Prints medians and ratios against
raw; writes bench/answer_speed.md and .json (git-ignored: machine-dependent). "read" is the prompt tokens a
question makes the model read (the restored fixed start left out); "first token" includes that read.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
MODES = ("raw", "rawflash", "engine", "flash", "q4_0", "q8_0", "focus", "lookup", "passages", "ask")
RAW_PASSAGES = 5
FOCUS_TARGET = 300  # prompt tokens of the focus row (system prompt included)
now = time.perf_counter


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def build_variant() -> str:
    kept = PROJECT / ".venv" / ".llama-build"
    return kept.read_text().split(" -D")[0].strip() if kept.exists() else "unknown"


def prompts(limit: int | None) -> list[dict]:
    """Per question: the raw prompt (five whole passages), the engine's (whole) and the focused one."""
    from rag import Config, Pipeline, attribution, refusal
    from rag.embed import memo
    from rag.kinds.model import sentence_scores
    from rag.prompt import build_messages

    config = Config().with_env()
    p = Pipeline(config)
    count = p.generator.count_tokens
    budget = config.n_ctx - config.max_tokens
    out = []
    for line in open(HERE / "questions.jsonl", encoding="utf-8"):
        question = json.loads(line)["question"]
        hits = p.search(question, max(config.k, RAW_PASSAGES))
        if attribution.parse(question) or refusal.before_generation(question, hits, p.index.bm25.vocab,
                                                                    p.initials()).refused:
            continue
        shown = hits[:config.k]
        engine, _, _ = build_messages(question, shown, count, budget)
        scores = sentence_scores(question, shown, memo(p.embedder.embed))
        focused, _, _ = build_messages(question, shown, count, budget, target=FOCUS_TARGET, scores=scores)
        pasted = "\n\n".join(h.chunk.text for h in hits[:RAW_PASSAGES])
        raw = [{"role": "system", "content": "Answer the question using the passages."},
               {"role": "user", "content": f"{pasted}\n\nQuestion: {question}"}]
        out.append({"question": question, "raw": raw, "engine": engine, "focus": focused})
        if limit and len(out) == limit:
            break
    return out


def worker(mode: str, path: Path) -> None:
    """Time one mode on every prompt of `path`; print one JSON line. Runs in its own process."""
    from rag import Config
    from rag.config import DEFAULT_LLM, threads
    from rag.generate import LlamaGenerator

    config = Config().with_env()
    items = json.loads(path.read_text(encoding="utf-8"))
    raw = mode in ("raw", "rawflash")  # the library alone, with its default kernel or with flash attention
    model = DEFAULT_LLM if raw else {"q4_0": f"{DEFAULT_LLM}-q4_0", "q8_0": f"{DEFAULT_LLM}-q8_0"}.get(mode, config.llm)
    gen = LlamaGenerator(model, config.n_ctx, threads(config), config.temperature, config.seed, reuse_prefix=not raw,
                         lookup=10 if mode == "lookup" else config.lookup,
                         flash_attn={"raw": False, "rawflash": True, "flash": True}.get(mode, config.flash_attn),
                         passage_cache=256 if mode == "passages" else config.passage_cache)
    key = "raw" if raw else mode if mode == "focus" else "engine"

    def once(messages: list[dict]) -> dict:
        t0, first, pieces = now(), None, []
        if raw:
            gen.llm.reset()  # a fresh context: the library reads the whole prompt
            stream = gen.llm.create_chat_completion(messages=messages, max_tokens=config.max_tokens, temperature=0.0,
                                                    top_k=1, seed=config.seed, stream=True)
            texts = (c["choices"][0]["delta"].get("content") for c in stream)
        else:
            texts = gen.stream(messages, config.max_tokens)
        for piece in texts:
            if piece:
                first = first if first is not None else now() - t0
                pieces.append(piece)
        total = now() - t0
        text = "".join(pieces)
        tokens = gen.count_tokens(text)
        return {"ttft_s": first or total, "total_s": total, "tokens": tokens, "text": text,
                "decode_tok_s": (tokens - 1) / max(total - (first or total), 1e-9)}

    warm = [{"role": "system", "content": items[0][key][0]["content"]},
            {"role": "user", "content": "Question: What is this bench warming up?"}]
    once(warm)
    if mode == "passages":  # each passage read once before (as by an earlier question on the same story)
        for item in items:
            once(item[key])
    rows = []
    for item in items:
        messages = item[key]
        total_tokens = len(gen.render(messages)[0])
        row = once(messages)
        row.update(question=item["question"], prompt_tokens=total_tokens,
                   read_tokens=total_tokens - gen.prefix_tokens(messages) - gen.placed)
        rows.append(row)
    print(json.dumps({"mode": mode, "model": model, "rows": rows}))


def ask_rows(items: list[dict]) -> list[dict]:
    """Pipeline.ask end to end, as a user calls it (second pass and checks included)."""
    from rag import Pipeline

    p = Pipeline()
    p.warm()
    p.ask("Question: What is this bench warming up?")
    rows = []
    for item in items:
        t0 = now()
        answer = p.ask(item["question"])
        total = now() - t0
        t = answer.timings
        rows.append({"question": item["question"], "ttft_s": t.get("first_token", total), "total_s": total,
                     "search_ms": 1000 * t["retrieve"], "text": answer.text, "refused": answer.refused})
    return rows


def run(mode: str, path: Path) -> dict:
    if mode == "ask":
        return {"mode": mode, "rows": ask_rows(json.loads(path.read_text(encoding="utf-8")))}
    out = subprocess.run([sys.executable, __file__, "--worker", mode, str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        return {"mode": mode, "rows": [], "error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(rows: list[dict], key: str) -> float:
    values = [r[key] for r in rows if key in r]
    return statistics.median(values) if values else float("nan")


def search_p50(n: int = 200) -> dict:
    """Search latency (ms) on the five articles, new questions each time (no cache hits), beside the raw
    library on the same questions: sentence-transformers `encode` of the question alone."""
    from rag import Pipeline

    p = Pipeline()
    questions = [json.loads(line)["question"] for line in open(PROJECT / "eval" / "questions.jsonl")]
    questions = [f"{questions[i % len(questions)]} ({i})" for i in range(n)]  # distinct: no cache hits
    p.search("warm up")
    model = p.embedder.model
    model.encode(["warm up"], normalize_embeddings=True)

    def timed(f) -> list[float]:
        out = []
        for q in questions:
            t0 = now()
            f(q)
            out.append(1000 * (now() - t0))
        return out

    search = timed(p.search)
    raw = timed(lambda q: model.encode([q], normalize_embeddings=True, convert_to_numpy=True))
    return {"search_ms": statistics.median(search), "raw_encode_ms": statistics.median(raw)}


LABELS = {
    "raw": "raw llama-cpp-python: Q4_K_M, fresh context, five whole passages",
    "engine": "engine: prefix state restored, four passages (default)",
    "q4_0": "engine with the Q4_0 file",
    "q8_0": "engine with the Q8_0 file",
    "focus": f"engine, passages cut to their best sentences (prompt <= {FOCUS_TARGET} tokens)",
    "lookup": "engine with prompt-lookup decoding (10 draft tokens)",
    "flash": "engine with flash attention (RAG_FLASH_ATTN=1)",
    "rawflash": "raw llama-cpp-python with flash attention on (flash_attn=True)",
    "passages": "engine with the passage cache, each passage read before (RAG_PASSAGE_CACHE)",
    "ask": "Pipeline.ask end to end (search, checks, second pass)",
}


def report(results: dict, n: int) -> str:
    raw = results.get("raw", {}).get("rows", [])
    engine = results.get("engine", {}).get("rows", [])
    lines = [f"# Answer speed ({n} questions not in the eval, medians)", "",
             f"{results['cpu']}, {os.cpu_count()} cores, llama-cpp-python build `{results['build']}`; "
             f"load average {results['load'][0]:.1f} at start, {results['load'][1]:.1f} at end.", "",
             "| setup | prompt tokens (read) | first token s | vs raw | decode tok/s | total s | same text as engine |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for mode in MODES:
        result = results.get(mode)
        if result is None:
            continue
        rows = result["rows"]
        if not rows:
            lines.append(f"| {LABELS[mode]} | {result.get('error', 'no rows')} | | | | | |")
            continue
        ratio = median(rows, "ttft_s") / median(raw, "ttft_s") if raw else float("nan")
        same = ""
        if engine and mode in ("q4_0", "q8_0", "focus", "lookup", "passages", "flash"):
            same = f"{sum(a['text'] == b['text'] for a, b in zip(rows, engine))}/{len(rows)}"
        tokens = (f"{median(rows, 'prompt_tokens'):.0f} ({median(rows, 'read_tokens'):.0f})"
                  if "prompt_tokens" in rows[0] else "")
        decode = f"{median(rows, 'decode_tok_s'):.1f}" if "decode_tok_s" in rows[0] else ""
        lines.append(f"| {LABELS[mode]} | {tokens} | {median(rows, 'ttft_s'):.2f} | {ratio:.2f}x | {decode} | "
                     f"{median(rows, 'total_s'):.2f} | {same} |")
    ask = results.get("ask", {}).get("rows", [])
    if ask:
        totals = [r["total_s"] for r in ask]
        p90 = sorted(totals)[max(0, int(round(0.9 * len(totals))) - 1)]
        lines += ["", f"Pipeline.ask: total p50 {statistics.median(totals):.2f} s, p90 {p90:.2f} s "
                      f"({p90 / statistics.median(totals):.2f}x p50); search p50 {median(ask, 'search_ms'):.1f} ms"]
    if "search" in results:
        s = results["search"]
        lines.append(f"Search alone (200 distinct questions, five articles): p50 {s['search_ms']:.1f} ms; raw "
                     f"sentence-transformers encode of the question {s['raw_encode_ms']:.1f} ms")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="first N questions that reach the model")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, from {', '.join(MODES)}")
    parser.add_argument("--search", action="store_true", help="only the search latency (no model loaded)")
    parser.add_argument("--worker", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker[0], Path(args.worker[1]))
    if args.search:
        print(search_p50())
        return None
    modes = [m for m in args.modes.split(",") if m]
    bad = [m for m in modes if m not in MODES]
    if bad:
        parser.error(f"unknown mode(s) {', '.join(bad)}")
    items = prompts(args.limit)
    results: dict = {"cpu": cpu_name(), "build": build_variant(), "questions": len(items)}
    start_load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prompts.json"
        path.write_text(json.dumps(items), encoding="utf-8")
        for mode in modes:
            results[mode] = run(mode, path)
            print(f"{mode}: done", file=sys.stderr, flush=True)
    results["search"] = search_p50()
    results["load"] = (start_load, os.getloadavg()[0])
    text = report(results, len(items))
    (HERE / "answer_speed.md").write_text(text, encoding="utf-8")
    (HERE / "answer_speed.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
