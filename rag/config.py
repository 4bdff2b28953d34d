"""All settings in one frozen dataclass; CLI flags and RAG_* environment variables become `replace()`."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
# The default model file: the packaged Q4_K_M. Its Q4_0 and Q8_0 requantizations (rag.models.DERIVED) were measured
# against it (bench/README.md, eval/README.md stop 26). AMD EPYC Zen 5 (AVX-512, no AMX): Q4_0 reads ~24% faster
# (first token 0.80x of raw llama-cpp-python against 1.05x) but answers worse: rag eval accuracy news-dev 84.6 -> 69.2%,
# news-test (held out) 70.3 -> 62.2%, wiki (held out) 87.9 -> 78.8%, unanswerable refused 93/100/89 -> 87/70/78%;
# Q8_0 reads slower (1.64x). Zen 1 (AVX2): both slower. The Q4_K_M stays; on an AMX CPU a derived file may read faster,
# and taking one needs the same rag eval first (at most one question lost on any set).
DEFAULT_LLM = "qwen2.5-coder-1.5b"  # name of a packaged model (see rag.models)
SMALL_LLM = "smollm2-135m"


@dataclass(frozen=True)
class Config:
    corpus_dir: Path = PROJECT_DIR / "corpus"  # folder of .txt/.md/.html articles
    index_dir: Path = PROJECT_DIR / "index"  # where the built index lives
    index_named: bool = False  # True when the user chose index_dir: a stale index is refused, not rebuilt
    embed_model: str = "all-MiniLM-L6-v2"  # packaged name, a local folder, or a hub id
    embed_batch: int = 64  # sentences per encode call
    chunk_chars: int = 420  # target chunk size; whole sentences only, so chunks may run a little over
    chunk_overlap: int = 1  # sentences repeated at the start of the next chunk
    retrieval: str = "hybrid"  # hybrid | dense | bm25
    k: int = 4  # passages shown to the model (prompt tokens dominate CPU latency)
    candidates: int = 40  # per retriever, before fusion; 20 -> 40 lifted recall@5 beside 3,000 unrelated articles
    # (news-test, held out, 85.1 -> 87.8%; news-dev 87.9 -> 89.5%) and changed no top five of the corpora alone
    anchor: bool = True  # a question that names someone ranks their articles' chunks first (retrieve.search);
    # recall@5 beside 3,000 articles with it: news-test 87.8 -> 90.5%, wiki alone 97.0 -> 98.5%, no question lost
    named_only: bool = True  # with anchor: chunks of articles naming none of the question's names are not shown at
    # all when any chunk's article names one. rag eval, alone and beside 3,000 articles: no answer changed on
    # news-dev, news-test or wiki; prompt tokens p50 on wiki (held out) 446 -> 408 alone, 449 -> 418 at +3000
    # ... and when the whole index's candidates hold fewer than k chunks of those articles, the rest are searched
    # within those articles alone, not with a filter nor on a Milvus server (beside 3,000: 'In which city is CSIS,
    # where Brian Hart is a fellow, located?' was shown one passage and refused; now the four it gets alone)
    top_each: bool = True  # each retriever's best chunk is placed among the k shown, however fusion ranked it (a
    # retriever's ranking drifts in a large archive; a Milvus server fuses on its side). rag eval with both (stop
    # 27): recall@5 news-dev 91.8 -> 93.8% alone, 89.5 -> 91.0% at +3000; news-test (held out) 93.2 -> 95.9%, 90.5 ->
    # 94.6%; wiki (held out) unchanged; accuracy news-dev 84.6 -> 86.2%, 80.0 -> 81.5%; news-test 70.3% alone, 67.6
    # -> 70.3% at +3000; wiki 87.9% alone, 84.8 -> 87.9% at +3000; unanswerable refused unchanged
    rrf_k: int = 60  # reciprocal rank fusion constant (Cormack et al. 2009)
    prompt_tokens: int = 0  # >0: cut passages to their most relevant sentences to keep the prompt within this many
    # tokens (system prompt included; each passage keeps its best sentence); 0 = whole passages. At 300 the first
    # token comes at 0.68x raw llama-cpp-python instead of 0.94-1.05x (Zen 5), but accuracy falls news-dev 84.6 ->
    # 80.0%, news-test 70.3 -> 64.9%, wiki 87.9 -> 81.8% (eval/README.md, stop 26), so it is off
    examples: bool = False  # worked examples (invented news) before the question, read once with the system prompt:
    # the 1.5B default then answers near misses (eval/README.md, stop 19), so they are off unless asked for
    llm: str = DEFAULT_LLM  # packaged name, a .gguf path, or "hub_repo_id:file.gguf"
    n_ctx: int = 2048  # model context; the prompt is budgeted to fit with max_tokens
    max_tokens: int = 200  # answer length cap
    temperature: float = 0.0  # deterministic by default
    seed: int = 0
    n_threads: int = 0  # 0 = all cores (llama.cpp's own default is half)
    reuse_prefix: bool = True  # restore the KV state of the prompt's fixed start instead of re-reading it
    lookup: int = 0  # >0: prompt-lookup decoding (llama-cpp-python's LlamaPromptLookupDecoding), drafting this many
    # tokens copied from the passages; off: see bench/README.md for what it measured
    passage_cache: int = 0  # >0: keep each passage's KV (up to this many MB, ~2 MB a passage with the default model)
    # and place it in later prompts instead of reading it again. First token 0.11-0.12x raw llama-cpp-python with the
    # passages read before (Zen 3; the engine 1.13-1.15x), but passages no longer attend to one another: news-test
    # (held out) accuracy 67.6 -> 59.5%, unanswerable refused 100 -> 80% (eval/README.md, stop 28), so it is off
    flash_attn: bool = False  # llama.cpp's fused attention kernel for the in-process model. Measured on the Zen 3
    # (stop 29): first token within the host's noise (the engine 0.81-1.14x its time without it over four bench runs,
    # raw llama-cpp-python 0.92-1.03x), decode 3-14% slower, 5-8 answers of 42-80 worded differently: news-dev 83.1 ->
    # 81.5%, news-test 67.6 -> 64.9%, wiki 87.9% both (eval/README.md, stop 29), so it stays off; `make bench` shows it
    max_question_chars: int = 2000  # longer questions are rejected with a clear error
    store: str = "faiss"  # faiss (embedded, the default) | milvus (pymilvus: a milvus-lite file or a server)
    milvus_uri: str = ""  # "" = <index_dir>/milvus.db (embedded); or http://host:19530 for a server/cluster
    milvus_collection: str = "rag_news"  # collections <name>_chunks and <name>_docs
    llm_url: str = ""  # "" = in-process llama.cpp; else an OpenAI-compatible server, e.g. http://host:8000/v1
    llm_key: str = ""  # API key for llm_url, if the server wants one
    llm_model: str = ""  # model name sent to llm_url ("" = the server's first model)

    def with_env(self, environ: dict[str, str] | None = None) -> "Config":
        """RAG_LLM=/x.gguf RAG_K=6 ... -> a copy with those fields replaced."""
        env = os.environ if environ is None else environ
        changes = {}
        for f in fields(self):
            raw = env.get("RAG_" + f.name.upper())
            if raw is not None and raw != "":
                changes[f.name] = _coerce(getattr(self, f.name), raw)
        return replace(self, **changes)


def _coerce(current, raw: str):
    if isinstance(current, bool):
        return raw.lower() in ("1", "true", "yes", "on")
    if isinstance(current, Path):
        return Path(raw).expanduser()
    return type(current)(raw)


def threads(config: Config) -> int:
    return config.n_threads or os.cpu_count() or 1
