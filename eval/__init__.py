"""Evaluation harness: run a question set through the public `rag` API and score retrieval,
answers, citations, refusals and latency, one column per (model, retrieval) setting.

    from eval import load_questions, run_eval, settings, write
    results = run_eval(load_questions("eval/questions.jsonl"), make_pipeline, settings(["m"], ["bm25"]))
    write(results, "eval/results")

`metrics` holds the per-question scores, `judge` the citation support judge, `harness` the loop,
`report` the summaries and files, `__main__` the command line (`rag eval`, `python -m eval`).
"""
from eval.harness import Question, Row, Setting, SettingResult, evaluate, load_questions, run_eval, settings
from eval.report import Summary, markdown, markdown_table, summarize, to_json, write

__all__ = ["Question", "Row", "Setting", "SettingResult", "Summary", "evaluate", "load_questions",
           "markdown", "markdown_table", "run_eval", "settings", "summarize", "to_json", "write"]
