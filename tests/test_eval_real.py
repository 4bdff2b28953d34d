"""A short real eval run in CI: the small packaged model on a few questions produces a well-formed report."""
import json

import pytest

from eval.__main__ import main

pytestmark = pytest.mark.slow


def test_small_model_eval_writes_a_well_formed_report(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))  # never touch the project's index
    out = tmp_path / "results"
    assert main(["--set", "news-dev", "--model", "smollm2-135m", "--retrieval", "hybrid,bm25", "--limit", "4",
                 "--out", str(out),
                 "--no-progress"]) == 0
    table = capsys.readouterr().out
    assert "recall@5" in table.lower() and "smollm2-135m" in table
    report = json.loads((out / "results.json").read_text())
    md = (out / "results.md").read_text()
    assert md.count("smollm2-135m") >= 2  # both settings side by side
    assert [s["label"] for s in report["settings"]] and len(report["settings"]) == 2
    for setting in report["settings"]:
        summary = setting["summary"]
        for metric in ("recall_at_1", "recall_at_5", "recall_at_10", "mrr", "ndcg_at_10", "accuracy",
                       "citation_recall", "citation_precision", "quote_exact", "false_refusal_rate"):
            assert metric in summary, metric
            assert summary[metric] is None or 0.0 <= summary[metric] <= 1.0, (metric, summary[metric])
        assert summary["questions"] == 4 and summary["latency"]["total_p50"] > 0
        assert summary["quote_exact"] in (None, 1.0)  # quotes are sliced from the passage: always exact
        assert [r["id"] for r in setting["rows"]] and all(r["question"] for r in setting["rows"])


def test_a_replayed_eval_gives_the_recorded_answers_without_asking_the_model(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    replies = tmp_path / "replies.json"
    args = ["--set", "news-dev", "--model", "smollm2-135m", "--limit", "3", "--replay", str(replies), "--no-progress"]
    assert main(args + ["--out", str(tmp_path / "first")]) == 0
    assert "0 replayed" in capsys.readouterr().err and replies.is_file()
    assert main(args + ["--out", str(tmp_path / "second")]) == 0
    assert " 0 recorded" in capsys.readouterr().err  # every reply came from the file
    first, second = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("first", "second"))
    assert [r["answer"] for r in first["settings"][0]["rows"]] == [r["answer"] for r in second["settings"][0]["rows"]]
    assert second["replayed"] > 0 and "latencies are not real" in (tmp_path / "second" / "results.md").read_text()
