"""The harness end to end on a three-question file, around a fake pipeline (no models, no index)."""
import json
import re
import time

import pytest

import eval.__main__ as cli
from eval import harness, report
from rag.types import Answer, Chunk, Citation, Hit

DOCS = {
    "moscow": ["Xi Jinping arrived in Moscow on Monday.", "Xi and Putin talked for more than four hours.",
               "Putin called the talks frank."],
    "doha": ["Kirby said the talks in Doha were constructive.", "Negotiators will meet again next week."],
}
QUESTIONS = [
    {"id": "q1", "question": "How long did Xi and Putin talk?", "answerable": True, "answer": "Over four hours.",
     "keywords": [["four hours", "4 hours"]], "evidence": ["more than four hours"], "evidence_docs": ["moscow"],
     "type": "fact"},
    {"id": "q2", "question": "When will negotiators meet again?", "answerable": True, "answer": "Next week.",
     "history": [{"role": "user", "content": "What did Kirby say about the Doha talks?"},
                 {"role": "assistant", "content": "He called them constructive [1]."}],
     "keywords": ["next week"], "evidence": ["will meet again next week"], "evidence_docs": ["doha"],
     "type": "follow-up"},
    {"id": "q3", "question": "What is the capital of Peru?", "answerable": False, "answer": "",
     "keywords": [], "evidence": [], "evidence_docs": [], "type": "unanswerable"},
]


def _words(text):
    return set(re.findall(r"[a-z]+", text.lower())) - {"the", "and", "did", "what", "how", "is", "of", "in"}


class FakePipeline:
    """Word-overlap search over one-sentence chunks; answers quote the top chunk as [1]."""

    def __init__(self, model, retrieval):
        self.model, self.retrieval = model, retrieval
        self._chunks = [Chunk(id=f"{d}:{i}", doc_id=d, title=d, text=t, start=0, end=len(t))
                        for d, sents in sorted(DOCS.items()) for i, t in enumerate(sents)]

    def chunks(self):
        return list(self._chunks)

    def standalone(self, question, history):
        # A follow-up carries the earlier user turns into the search, as the real rewriter would.
        return " ".join([m["content"] for m in history if m["role"] == "user"] + [question])

    def search(self, question, k):
        q = _words(question)
        scored = sorted(self._chunks, key=lambda c: (-len(q & _words(c.text)), c.id))
        return [Hit(c, score=float(len(q & _words(c.text))), similarity=0.5) for c in scored[:k]]

    def ask(self, question, history=()):
        t0 = time.perf_counter()
        searched = self.standalone(question, list(history))
        hits = self.search(searched, 3)
        timings = {"retrieve": time.perf_counter() - t0}
        if hits[0].score < 2 or self.model == "refuser":
            return Answer(question, "I can't find that in the articles.", refused=True, hits=hits,
                          timings={**timings, "total": time.perf_counter() - t0}, searched=searched)
        top = hits[0].chunk
        timings.update(first_token=time.perf_counter() - t0, total=time.perf_counter() - t0)
        return Answer(question, f"{top.text} [1]", citations=[Citation(1, top, top.text)], hits=hits,
                      timings=timings, searched=searched, prompt_tokens=100 + len(question), model=self.model)


@pytest.fixture
def questions_file(tmp_path):
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n\n", encoding="utf-8")
    return path


def _make(setting):
    return FakePipeline(setting.model, setting.retrieval)


def _without_timings(doc):
    for s in doc["settings"]:
        s["summary"].pop("latency")
        for row in s["rows"]:
            row.pop("timings")
    return doc


def test_load_questions(questions_file):
    qs = harness.load_questions(questions_file)
    assert [q.id for q in qs] == ["q1", "q2", "q3"]
    assert qs[0].keywords == (("four hours", "4 hours"),) and qs[1].history[0]["role"] == "user"
    assert [q.id for q in harness.load_questions(questions_file, limit=2)] == ["q1", "q2"]


def test_run_writes_wellformed_results_and_is_repeatable(questions_file, tmp_path):
    qs = harness.load_questions(questions_file)
    grid = harness.settings(["fake", "refuser"], ["bm25"])
    first = harness.run_eval(qs, _make, grid, progress=False)
    report.write(first, tmp_path / "a")
    report.write(harness.run_eval(qs, _make, grid, progress=False), tmp_path / "b")

    doc = json.loads((tmp_path / "a" / "results.json").read_text())
    assert doc["format"] == report.FORMAT and [s["label"] for s in doc["settings"]] == ["fake / bm25", "refuser / bm25"]
    fake, refuser = (s["summary"] for s in doc["settings"])
    assert fake["reachability"] == 1.0 and fake["recall_at_1"] == 1.0 and fake["mrr"] == 1.0
    assert fake["accuracy"] == 1.0 and fake["refusal_rate"] == 1.0 and fake["false_refusal_rate"] == 0.0
    assert fake["citation_recall"] == 1.0 and fake["quote_exact"] == 1.0
    assert refuser["false_refusal_rate"] == 1.0 and refuser["citation_recall"] is None
    assert fake["latency"]["total_p50"] >= 0 and fake["prompt_tokens_p50"] > 100
    row = doc["settings"][0]["rows"][1]
    assert row["searched"].startswith("What did Kirby say") and row["citations"][0]["doc_id"] == "doha"
    assert set(row) >= {"id", "question", "searched", "answer", "refused", "correct", "recall_at_5", "timings"}

    md = (tmp_path / "a" / "results.md").read_text()
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert table[0] == "| metric | fake / bm25 | refuser / bm25 |"
    assert fake["placeholders"] == 0 and "| answers with a placeholder | 0 | 0 |" in table
    assert all(line.count("|") == 4 for line in table) and "| accuracy | 1.000 | 0.000 |" in table
    assert "Failures: refuser / bm25 (2 of 3)" in md and "**q1**" in md

    again = json.loads((tmp_path / "b" / "results.json").read_text())
    assert _without_timings(doc) == _without_timings(again)


def test_cli_cross_product_and_stdout_table(questions_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "pipeline_factory", lambda base, replies=None: _make)
    code = cli.main(["--questions", str(questions_file), "--model", "fake,refuser", "--model", "fake",
                     "--retrieval", "bm25", "--retrieval", "dense", "--limit", "2", "--out", str(tmp_path / "o"),
                     "--no-progress"])
    assert code == 0
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    assert [s["label"] for s in doc["settings"]] == ["fake / bm25", "fake / dense", "refuser / bm25", "refuser / dense"]
    assert doc["limit"] == 2 and all(len(s["rows"]) == 2 for s in doc["settings"])
    out = capsys.readouterr().out
    assert out.startswith("| metric | fake / bm25 | fake / dense |") and "recall@5" in out
    assert cli.main(["--questions", str(questions_file), "--retrieval", "sparse"]) == 2
