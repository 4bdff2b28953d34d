"""eval/compare.py: two eval runs compared question by question (the refactor gate)."""
import json

from eval import compare


def results(tmp_path, name: str, answers: dict[str, tuple[str, bool, str]]):
    rows = [{"id": i, "answer": a, "refused": r, "reason": why, "searched": i, "citations": []}
            for i, (a, r, why) in answers.items()]
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"settings": [{"model": "m", "retrieval": "hybrid", "qset": "news-dev", "rows": rows}]}))
    return path


def test_identical_runs_pass_and_any_changed_word_or_reason_is_named(tmp_path, capsys):
    before = results(tmp_path, "a", {"q1": ("Xi left [1].", False, ""), "q2": ("The articles don't say.", True,
                                                                             "model_refused")})
    assert compare.main([str(before), str(before)]) == 0 and "identical: 2 questions" in capsys.readouterr().out
    after = results(tmp_path, "b", {"q1": ("Xi left. [1]", False, ""), "q2": ("The articles don't say.", True,
                                                                            "nothing_verifiable")})
    assert compare.main([str(before), str(after)]) == 1
    out = capsys.readouterr().out
    assert "news-dev q1: answer differ" in out and "news-dev q2: reason differ" in out


def test_a_question_in_one_run_only_is_a_difference_and_bad_input_one_line(tmp_path, capsys):
    before = results(tmp_path, "a", {"q1": ("Xi left [1].", False, "")})
    after = results(tmp_path, "b", {"q1": ("Xi left [1].", False, ""), "q2": ("x", False, "")})
    assert compare.main([str(before), str(after)]) == 1 and "q2: in one run only" in capsys.readouterr().out
    assert compare.main([str(before), str(tmp_path / "missing.json")]) == 2
    assert compare.main([str(before)]) == 2
