"""The speaker index scored against hand-checked lists: `rag eval --speakers`.

eval/quotes/<name>/gold.jsonl holds, for a corpus, every sentence the articles attribute to a speaker
({"doc", "speaker", "sentence", "kind": person|organisation, "how": direct|reported|pronoun}), written by
reading the articles, not from the engine. The engine's side is the desk's Quotes view (rag.desk.quotes over
the index: the same `Chunk.said` the chat answers 'What did X say?' from). A found statement matches a
gold one when both are in the same article, their spans overlap, and they name the same person
(`attribution.same_person`: 'Kirby' ~ 'John Kirby').

    precision = found statements that match a gold one / found statements
    recall    = gold statements some found one matches / gold statements
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GOLD = HERE / "quotes"


@dataclass(frozen=True)
class Gold:
    doc: str
    speaker: str
    sentence: str
    kind: str = "person"
    how: str = "direct"
    note: str = ""
    start: int = -1  # where the sentence is in the article's cleaned text


@dataclass
class Score:
    corpus: str
    gold: int
    found: int
    precision: float
    recall: float
    person_recall: float
    strict_recall: float  # persons, leaving out the statements the list marks borderline
    missed: list[dict] = field(default_factory=list)  # gold statements nothing found matches
    wrong: list[dict] = field(default_factory=list)  # found statements no gold one matches


def gold_sets() -> dict[str, tuple[Path, Path]]:
    """{name: (gold.jsonl, corpus folder)}: 'five' is the shipped corpus, others carry their corpus/ beside."""
    out = {}
    for gold in sorted(GOLD.glob("*/gold.jsonl")):
        corpus = gold.parent / "corpus"
        out[gold.parent.name] = (gold, corpus if corpus.is_dir() else HERE.parent / "corpus")
    return out


def load_gold(path: Path, texts: dict[str, str]) -> list[Gold]:
    """Gold rows with their place in the article's cleaned text; a row whose sentence is not in its article
    is an error in the list, reported, never skipped."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        text = texts.get(row["doc"])
        at = text.find(row["sentence"]) if text is not None else -1
        if at < 0:
            raise ValueError(f"{path}:{n}: the sentence is not in article {row['doc']!r}: {row['sentence'][:60]!r}")
        out.append(Gold(row["doc"], row["speaker"], row["sentence"], row.get("kind", "person"), row.get("how", ""),
                        row.get("note", ""), at))
    return out


def score(name: str, gold: list[Gold], found: list[Any]) -> Score:
    """`found`: rag.desk Quotes (speaker, line.doc_id, line.offset, line.text)."""
    from rag.attribution import same_person

    def matches(g: Gold, q) -> bool:
        start, end = q.line.offset, q.line.offset + len(q.line.text)
        return (q.line.doc_id == g.doc and start < g.start + len(g.sentence) and g.start < end
                and same_person(g.speaker, q.speaker))

    hit = [any(matches(g, q) for q in found) for g in gold]
    right = [any(matches(g, q) for g in gold) for q in found]
    persons = [h for g, h in zip(gold, hit) if g.kind == "person"]
    strict = [h for g, h in zip(gold, hit) if g.kind == "person" and not g.note.startswith("borderline")]
    return Score(
        corpus=name, gold=len(gold), found=len(found),
        precision=round(sum(right) / len(found), 4) if found else 0.0,
        recall=round(sum(hit) / len(gold), 4) if gold else 0.0,
        person_recall=round(sum(persons) / len(persons), 4) if persons else 0.0,
        strict_recall=round(sum(strict) / len(strict), 4) if strict else 0.0,
        missed=[{"doc": g.doc, "speaker": g.speaker, "sentence": g.sentence} for g, h in zip(gold, hit) if not h],
        wrong=[{"doc": q.line.doc_id, "speaker": q.speaker, "sentence": q.line.text} for q, r in zip(found, right) if not r],
    )


def run(base: Any, names: list[str] | None = None) -> list[Score]:
    """Score each gold list against the Quotes view of an index of its corpus (built if needed)."""
    from rag import Desk, Pipeline
    from rag.corpus import load_corpus

    from eval.__main__ import for_corpus

    scores = []
    for name, (gold_path, corpus) in gold_sets().items():
        if names and name not in names:
            continue
        texts = {d.doc_id: d.text for d in load_corpus(corpus)}
        shipped = corpus.resolve() == (HERE.parent / "corpus").resolve()
        config = base if shipped else for_corpus(base, corpus)
        scores.append(score(name, load_gold(gold_path, texts), Desk(Pipeline(config)).quotes()))
    return scores


def table(scores: list[Score]) -> str:
    lines = ["| speaker index | gold statements | found | precision | recall | recall (persons) | recall (persons, not borderline) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for s in scores:
        lines.append(f"| {s.corpus} | {s.gold} | {s.found} | {s.precision:.1%} | {s.recall:.1%} | {s.person_recall:.1%} "
                     f"| {s.strict_recall:.1%} |")
    return "\n".join(lines)
