"""Per-setting summaries of the scored rows, and the results.json / results.md written from them.

Every metric is `None` when it has nothing to average over (say, no unanswerable questions); the
table shows that as '-' instead of a misleading 0.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from eval.harness import Row, SettingResult
from eval.metrics import has_placeholder, mean, percentile, share

FORMAT = 1  # bump when results.json changes shape
STAGES = ("retrieve", "first_token", "total")


@dataclass(frozen=True)
class Summary:
    questions: int
    answerable: int
    unanswerable: int
    reachability: float | None  # evidence spans whole inside some chunk: an upper bound on recall
    recall_at_1: float | None  # means over answerable questions with evidence
    recall_at_5: float | None
    recall_at_10: float | None
    mrr: float | None
    ndcg_at_10: float | None
    accuracy: float | None  # answerable: every keyword present and not refused
    citation_recall: float | None  # means over answerable, non-refused answers (ALCE: per answer)
    citation_precision: float | None
    quote_exact: float | None  # citations of those answers whose quote is verbatim in the passage
    refusal_rate: float | None  # over unanswerable questions
    false_refusal_rate: float | None  # over answerable questions
    prompt_tokens_p50: float | None  # answers that reached the model (prompt_tokens > 0)
    latency: dict[str, float | None]  # "<stage>_p50" / "<stage>_p90" seconds; the only run-dependent part
    refusal_reasons: dict[str, int] = dataclasses.field(default_factory=dict)  # Answer.reason -> refusals
    placeholders: int = 0  # answers shown with a template slot left in them ('[insert date]'): must stay 0
    second_passes: int = 0  # answers for which the engine ran its second, narrower pass (timings["second_pass"])
    second_pass_p50: float | None = None  # what that pass cost, seconds


def summarize(result: SettingResult) -> Summary:
    """Aggregate one setting's rows; see the field comments for each denominator."""
    rows = result.rows
    ans = [r for r in rows if r.answerable]
    una = [r for r in rows if not r.answerable]
    scored = [r for r in ans if r.recall_at_1 is not None]
    judged = [r for r in ans if r.citation_recall is not None]
    latency = {}
    for stage in STAGES:
        values = [r.timings[stage] for r in rows if stage in r.timings]
        for q in (50, 90):
            latency[f"{stage}_p{q}"] = percentile(values, q) if values else None
    tokens = [r.prompt_tokens for r in rows if r.prompt_tokens > 0]
    return Summary(
        questions=len(rows), answerable=len(ans), unanswerable=len(una), reachability=result.reachability,
        recall_at_1=mean([r.recall_at_1 for r in scored]), recall_at_5=mean([r.recall_at_5 for r in scored]),
        recall_at_10=mean([r.recall_at_10 for r in scored]), mrr=mean([r.mrr for r in scored]),
        ndcg_at_10=mean([r.ndcg_at_10 for r in scored]), accuracy=share([r.correct for r in ans]),
        citation_recall=mean([r.citation_recall for r in judged]),
        citation_precision=mean([r.citation_precision for r in judged]),
        quote_exact=share([c.exact for r in judged for c in r.citations]),
        refusal_rate=share([r.refused for r in una]), false_refusal_rate=share([r.refused for r in ans]),
        prompt_tokens_p50=percentile(tokens, 50) if tokens else None, latency=latency,
        refusal_reasons=_count(r.reason or "unstated" for r in rows if r.refused),
        placeholders=sum(has_placeholder(r.answer) for r in rows if not r.refused),
        second_passes=sum("second_pass" in r.timings for r in rows),
        second_pass_p50=percentile(retries, 50) if (retries := [r.timings["second_pass"] for r in rows
                                                              if "second_pass" in r.timings]) else None)


def _count(items) -> dict[str, int]:
    """['a', 'b', 'a'] -> {'a': 2, 'b': 1}"""
    out: dict[str, int] = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return dict(sorted(out.items()))


def to_json(results: Sequence[SettingResult], meta: dict | None = None) -> dict:
    """The results.json document: format, run metadata, then per setting its summary and rows."""
    return {"format": FORMAT, **(meta or {}), "settings": [
        {"model": r.setting.model, "retrieval": r.setting.retrieval, "qset": r.setting.qset,
         "engine": r.setting.engine, "label": r.setting.label,
         "summary": dataclasses.asdict(summarize(r)), "rows": [dataclasses.asdict(row) for row in r.rows]}
        for r in results]}


# (row label, Summary field or a "<stage>_pNN" latency key, number format), in table order
_RATE, _SECONDS, _COUNT = "{:.3f}", "{:.3f} s", "{:.0f}"
_TABLE = [("questions", "questions", _COUNT), ("answerable / unanswerable", None, None),
          ("reachability", "reachability", _RATE), ("recall@1", "recall_at_1", _RATE),
          ("recall@5", "recall_at_5", _RATE), ("recall@10", "recall_at_10", _RATE), ("MRR@10", "mrr", _RATE),
          ("nDCG@10", "ndcg_at_10", _RATE), ("accuracy", "accuracy", _RATE),
          ("citation recall", "citation_recall", _RATE), ("citation precision", "citation_precision", _RATE),
          ("exact quotes", "quote_exact", _RATE), ("refusal rate (unanswerable)", "refusal_rate", _RATE),
          ("false refusals (answerable)", "false_refusal_rate", _RATE)]
_TABLE += [(f"{s} p{q}", f"{s}_p{q}", _SECONDS) for s in STAGES for q in (50, 90)]
_TABLE += [("second passes run", "second_passes", _COUNT), ("second pass p50", "second_pass_p50", _SECONDS)]
_TABLE += [("prompt tokens p50", "prompt_tokens_p50", _COUNT), ("answers with a placeholder", "placeholders", _COUNT),
           ("refusals by reason", "refusal_reasons", None)]


def markdown_table(results: Sequence[SettingResult]) -> str:
    """One column per setting, one row per metric: rates to 3 places, latency in seconds."""
    return summary_table([(r.setting.label, summarize(r)) for r in results])


def summary_table(columns: Sequence[tuple[str, Summary]]) -> str:
    """The table from (label, Summary) columns: this run's, or summaries read back from results.json."""
    lines = ["| metric | " + " | ".join(_cell(label) for label, _ in columns) + " |",
             "|---|" + "---:|" * len(columns)]
    for label, name, form in _TABLE:
        cells = []
        for _, s in columns:
            if name is None:
                cells.append(f"{s.answerable} / {s.unanswerable}")
            elif name == "refusal_reasons":
                cells.append(", ".join(f"{k} {v}" for k, v in s.refusal_reasons.items()) or "-")
            else:
                cells.append(_fmt(s.latency[name] if name in s.latency else getattr(s, name), form))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def summaries(path: str | Path) -> list[tuple[str, Summary]]:
    """(label, Summary) of every setting in a results.json written earlier (to show a baseline beside)."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    fields = {f.name for f in dataclasses.fields(Summary)}
    return [(s["label"], Summary(**{k: v for k, v in s["summary"].items() if k in fields})) for s in doc["settings"]]


def markdown(results: Sequence[SettingResult], baseline: Sequence[tuple[str, Summary]] = ()) -> str:
    """results.md: the table (with any baseline columns), then every failed question per setting."""
    columns = [(r.setting.label, summarize(r)) for r in results]
    parts = ["# Evaluation results\n", summary_table(_interleave(columns, list(baseline)))]
    for r in results:
        failed = [row for row in r.rows if not row.correct]
        parts.append(f"\n## Failures: {r.setting.label} ({len(failed)} of {len(r.rows)})\n")
        parts.extend(_failure(row) for row in failed)
    return "\n".join(parts)


def write(results: Sequence[SettingResult], out_dir: str | Path, meta: dict | None = None,
          baseline: Sequence[tuple[str, Summary]] = ()) -> Path:
    """Write results.json and results.md into out_dir (created if missing); returns out_dir."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    doc = json.dumps(to_json(results, meta), indent=2, ensure_ascii=False, allow_nan=False)
    (out / "results.json").write_text(doc + "\n", encoding="utf-8")
    md = markdown(results, baseline)
    if (meta or {}).get("replayed"):
        md = md.replace("\n", f"\n\nModel replies replayed from a file ({meta['replayed']}): latencies are not real.\n", 1)
    (out / "results.md").write_text(md, encoding="utf-8")
    return out


def _interleave(columns: list, baseline: list) -> list:
    """Each baseline column right after this run's column of the same question set (same label prefix)."""
    out, rest = [], list(baseline)
    for label, s in columns:
        out.append((label, s))
        prefix = label.split(":")[0]
        for b in [b for b in rest if b[0].split(":")[0] == prefix]:
            out.append(b)
            rest.remove(b)
    return out + rest


def _failure(row: Row) -> str:
    why = "answered an unanswerable question" if not row.answerable else (
        "refused" if row.refused else "keywords missing")
    if row.refused and row.reason:
        why += f" ({row.reason})"
    lines = [f"- **{row.id}** ({row.type or 'untyped'}): {why}; recall@5 {_fmt(row.recall_at_5)}, "
             f"citation recall {_fmt(row.citation_recall)}",
             f"  - question: {_flat(row.question)}"]
    if row.searched and row.searched != row.question:  # a rewritten follow-up is often the failure
        lines.append(f"  - searched: {_flat(row.searched)}")
    lines.append(f"  - answer: {_flat(row.answer, 400)}")
    if row.expected:
        lines.append(f"  - expected: {_flat(row.expected, 300)}")
    lines += [f"  - [{c.n}] {c.doc_id}{'' if c.exact else ' (quote not exact)'}: \"{_flat(c.quote, 200)}\""
              for c in row.citations]
    lines += [f"  - unsupported: {_flat(s, 200)}" for s in row.unsupported]
    return "\n".join(lines)


def _fmt(v: float | None, form: str = _RATE) -> str:
    return "-" if v is None else form.format(v)


def _flat(text: str, limit: int = 1000) -> str:
    text = " ".join(text.split())  # one line per bullet, whatever the model emitted
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
