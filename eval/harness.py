"""Run a question set through one pipeline per setting and score every answer.

Only the public engine API is used (duck-typed, so tests pass a fake): `standalone(question,
history) -> str`, `search(question, k) -> list[Hit]`, `ask(question, history) -> Answer`,
`chunks() -> list[Chunk]`. Nothing here is random and rows keep file order, so two runs of the
same settings give the same results apart from timings.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from eval import judge, metrics
from eval.judge import Embed

RANKS = (1, 5, 10)  # recall@k cut-offs; retrieval metrics search this deep (max)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answerable: bool
    history: tuple[dict, ...] = ()  # earlier {"role", "content"} messages for follow-ups
    answer: str = ""  # reference answer, for the reader of a failure
    keywords: tuple = ()  # each a string or a tuple of alternatives; all must match
    evidence: tuple[str, ...] = ()  # exact substrings of article text
    evidence_docs: tuple[str, ...] = ()  # doc_ids, parallel to evidence
    type: str = ""
    tags: tuple[str, ...] = ()  # finer kinds: alias, role, quote, number, multi-doc, conflict


@dataclass(frozen=True)
class Setting:
    model: str
    retrieval: str
    qset: str = ""  # the question set (and corpus) this setting ran on, e.g. 'news-test'
    engine: str = ""  # '' for this engine; a name for another one measured beside it ('previous')

    @property
    def label(self) -> str:
        """Setting('smollm2-135m', 'bm25').label -> 'smollm2-135m / bm25';
        with qset 'wiki' and engine 'previous' -> 'wiki: smollm2-135m / bm25 (previous)'."""
        label = f"{self.model} / {self.retrieval}"
        if self.qset:
            label = f"{self.qset}: {label}"
        return f"{label} ({self.engine})" if self.engine else label


@dataclass(frozen=True)
class CitationRow:
    n: int
    doc_id: str
    quote: str
    exact: bool  # quote nonempty and verbatim in its passage


@dataclass(frozen=True)
class Row:
    """Everything needed to read one question's outcome under one setting."""

    id: str
    question: str
    type: str
    answerable: bool
    searched: str
    answer: str
    expected: str  # the reference answer, so a failure reads without the question file
    refused: bool
    correct: bool  # answerable: keywords all present and not refused; unanswerable: refused
    recall_at_1: float | None  # retrieval scores are None when not scored (unanswerable, no evidence)
    recall_at_5: float | None
    recall_at_10: float | None
    mrr: float | None
    ndcg_at_10: float | None
    citation_recall: float | None  # None when not judged (unanswerable or refused)
    citation_precision: float | None
    unsupported: tuple[str, ...]  # answer sentences the judge found unsupported
    citations: tuple[CitationRow, ...]
    timings: dict[str, float]
    prompt_tokens: int
    reason: str = ""  # why the engine refused (Answer.reason), '' when it answered
    tags: tuple[str, ...] = ()


def load_questions(path: str | Path, limit: int | None = None) -> list[Question]:
    """Read a JSONL question file (blank lines skipped); `limit` keeps the first N."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(Question(
                id=str(d["id"]), question=d["question"], answerable=bool(d.get("answerable", True)),
                history=tuple(d.get("history") or ()), answer=d.get("answer", ""),
                keywords=tuple(k if isinstance(k, str) else tuple(k) for k in d.get("keywords") or ()),
                evidence=tuple(d.get("evidence") or ()), evidence_docs=tuple(d.get("evidence_docs") or ()),
                type=d.get("type", ""), tags=tuple(d.get("tags") or ())))
    return out[:limit] if limit is not None else out


def select(questions: Sequence[Question], ids: Sequence[str] | None) -> list[Question]:
    """The questions whose id is in `ids` (all of them when ids is None), in file order."""
    if ids is None:
        return list(questions)
    wanted = set(ids)
    return [q for q in questions if q.id in wanted]


def settings(models: Sequence[str], retrievals: Sequence[str]) -> list[Setting]:
    """Cross product in the order given: (['a', 'b'], ['bm25']) -> [Setting('a','bm25'), Setting('b','bm25')]."""
    return [Setting(m, r) for m, r in itertools.product(models, retrievals)]


def evaluate(pipeline: Any, q: Question, index_texts: Sequence[str], embed: Embed | None = None) -> Row:
    """Ask one question, score its retrieval (answerable with evidence only) and its answer."""
    history = [dict(m) for m in q.history]
    scored = q.answerable and bool(q.evidence)
    recall: dict[int, float | None] = dict.fromkeys(RANKS)
    mrr = ndcg = None
    if scored:
        # Retrieval is measured on the question the engine really searches, as a follow-up is rewritten.
        hits = pipeline.search(pipeline.standalone(q.question, history), k=max(RANKS))
        ranked = [h.chunk.text for h in hits]
        recall = {k: metrics.recall_at_k(ranked, q.evidence, k) for k in RANKS}
        mrr = metrics.reciprocal_rank(ranked, q.evidence, max(RANKS))
        ndcg = metrics.ndcg_at_k(ranked, q.evidence, max(RANKS), metrics.count_relevant(index_texts, q.evidence))
    ans = pipeline.ask(q.question, history=history)
    if q.answerable:
        correct = not ans.refused and metrics.keywords_match(ans.text, q.keywords)
    else:
        correct = ans.refused
    c_recall = c_precision = None
    unsupported: tuple[str, ...] = ()
    if q.answerable and not ans.refused:
        judged = judge.judge(ans.text, [h.chunk.text for h in ans.hits], q.evidence,
                             " ".join([q.question, ans.searched]), embed)
        c_recall, c_precision = judge.citation_recall(judged), judge.citation_precision(judged)
        unsupported = tuple(j.sentence for j in judged if not j.supported)
    cites = tuple(CitationRow(c.n, c.chunk.doc_id, c.quote, metrics.quote_exact(c.quote, c.chunk.text))
                  for c in sorted(ans.citations, key=lambda c: (c.n, c.quote)))
    return Row(id=q.id, question=q.question, type=q.type, answerable=q.answerable, searched=ans.searched,
               answer=ans.text, expected=q.answer, refused=ans.refused, correct=correct,
               recall_at_1=recall[1], recall_at_5=recall[5], recall_at_10=recall[10], mrr=mrr, ndcg_at_10=ndcg,
               citation_recall=c_recall, citation_precision=c_precision, unsupported=unsupported,
               citations=cites, timings={k: float(v) for k, v in sorted(ans.timings.items())},
               prompt_tokens=int(ans.prompt_tokens), reason=str(getattr(ans, "reason", "") or ""), tags=q.tags)


@dataclass(frozen=True)
class SettingResult:
    setting: Setting
    reachability: float | None  # share of evidence spans whole inside some chunk of the index
    rows: tuple[Row, ...]


def run_eval(questions: Sequence[Question], make_pipeline: Callable[[Setting], Any],
             setting_list: Sequence[Setting], embed: Embed | None = None,
             progress: bool = True) -> list[SettingResult]:
    """Evaluate every setting in turn (one pipeline alive at a time: models are large)."""
    bar = _bar(len(questions) * len(setting_list), progress)
    results = []
    for s in setting_list:
        bar.set_description(s.label)
        pipeline = make_pipeline(s)
        index_texts = [c.text for c in pipeline.chunks()]
        spans = [e for q in questions if q.answerable for e in q.evidence]
        reach = metrics.share(metrics.reachable(spans, index_texts))
        rows = []
        for q in questions:
            rows.append(evaluate(pipeline, q, index_texts, embed))
            bar.update(1)
        results.append(SettingResult(s, reach, tuple(rows)))
        del pipeline  # free this model before the next setting loads its own
    bar.close()
    return results


def _bar(total: int, enabled: bool):
    try:
        from tqdm import tqdm
    except ImportError:  # the bar is a nicety; an eval must not fail for want of it
        enabled = False
    if not enabled:
        return _NoBar()
    return tqdm(total=total, unit="q", dynamic_ncols=True)  # tqdm writes to stderr by default


class _NoBar:
    def set_description(self, _: str) -> None: ...
    def update(self, _: int) -> None: ...
    def close(self) -> None: ...
