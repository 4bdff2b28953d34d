"""rag/cli.py: `rag index | ask | search` in-process, with the fake models plugged in where Pipeline builds the real ones."""
import ast
import json
import os
from importlib.metadata import EntryPoint

import pytest
from conftest import PROJECT, HashEmbedder, ScriptedGenerator

import rag.cli
import rag.generate
import rag.pipeline
from rag import build
from rag.cli import main
from rag.prompt import REFUSAL

KIRBY_Q = "How did Kirby describe the two countries?"
KIRBY_REPLY = "Kirby said these two countries have grown closer [1]."


@pytest.fixture
def fakes(monkeypatch):
    """Pipeline(config) gets a HashEmbedder and a ScriptedGenerator; `fakes.replies` feeds the generators."""

    class Fakes:
        replies: list[str] = []
        generators: list[ScriptedGenerator] = []
        embedder_name = "fake-hash"

    def embedder(model, batch_size=64):
        return HashEmbedder(Fakes.embedder_name)

    def generator(model, n_ctx=2048, *args, **kwargs):
        gen = ScriptedGenerator(*Fakes.replies, n_ctx=n_ctx)
        Fakes.generators.append(gen)
        return gen

    for name in [k for k in os.environ if k.startswith("RAG_")]:
        monkeypatch.delenv(name)  # only this test's settings apply
    monkeypatch.setenv("RAG_MIN_SIMILARITY", "0")  # hash-embedder cosines are not calibrated like the real model's
    monkeypatch.setattr(rag.pipeline, "SentenceTransformerEmbedder", embedder)
    monkeypatch.setattr(rag.generate, "LlamaGenerator", generator)
    return Fakes


def run(capsys, *argv):
    """(exit code, stdout, stderr)"""
    code = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, *fragments: str):
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for f in fragments:
        assert f in err


@pytest.fixture
def built(fakes, capsys, corpus_dir, tmp_path):
    """An index built by `rag index` at tmp_path/idx; returns its path."""
    index = tmp_path / "idx"
    code, _, _ = run(capsys, "index", corpus_dir, "--index", index)
    assert code == 0
    return index


def test_index_then_up_to_date_then_changed(fakes, capsys, corpus_dir, tmp_path):
    index = tmp_path / "idx"
    code, out, err = run(capsys, "index", corpus_dir, "--index", index)
    assert code == 0 and err == ""
    assert out.startswith(f"indexed {corpus_dir} -> {index}: ")
    assert "  added: 5 (" in out and "changed" not in out
    assert (index / "manifest.json").exists()

    code, out, _ = run(capsys, "index", corpus_dir, "--index", index)
    assert code == 0
    assert out.startswith(f"index at {index} is up to date: ") and "from 5 articles" in out

    [article] = corpus_dir.glob("001_*.txt")
    text = article.read_text(encoding="utf-8")
    assert "A multipolar world is emerging" in text
    article.write_text(text.replace("A multipolar world is emerging", "A multipolar world is now emerging"),
                       encoding="utf-8")
    code, out, _ = run(capsys, "index", corpus_dir, "--index", index)
    assert code == 0
    assert f"  changed: 1 ({article.stem})" in out
    assert "  unchanged: 4" in out and "added" not in out


def test_index_reads_the_environment(fakes, capsys, corpus_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_CORPUS_DIR", str(corpus_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "env-index"))
    code, out, _ = run(capsys, "index")
    assert code == 0 and "added: 5" in out
    assert (tmp_path / "env-index" / "manifest.json").exists()


def test_index_of_an_empty_folder_is_an_error(fakes, capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run(capsys, "index", empty, "--index", tmp_path / "idx")
    assert code == 2 and out == ""
    assert_one_line_error(err, "error: no readable", str(empty))
    assert not (tmp_path / "idx" / "manifest.json").exists()


def test_index_of_a_missing_folder_is_an_error(fakes, capsys, tmp_path):
    code, _, err = run(capsys, "index", tmp_path / "nowhere", "--index", tmp_path / "idx")
    assert code == 2
    assert_one_line_error(err, "not found")


def test_ask_json(fakes, capsys, built, corpus_dir):
    fakes.replies = [KIRBY_REPLY]
    code, out, err = run(capsys, "ask", KIRBY_Q, "--json", "--index", built, "--corpus", corpus_dir)
    assert code == 0, err
    answer = json.loads(out)
    assert {"text", "citations", "refused", "hits", "searched", "timings"} <= answer.keys()
    assert answer["refused"] is False and answer["text"] == KIRBY_REPLY
    [c] = answer["citations"]
    assert c["n"] == 1 and c["quote"] in c["chunk"]["text"]
    assert c["chunk"]["text"][c["quote_start"]:c["quote_start"] + len(c["quote"])] == c["quote"]
    assert answer["hits"][0]["chunk"] == c["chunk"]
    assert "reading" not in err  # --json prints the Answer alone: no sources-being-read lines


def test_ask_json_of_a_refusal(fakes, capsys, built, corpus_dir):
    code, out, _ = run(capsys, "ask", "Who won the 2022 FIFA World Cup?", "--json", "--index", built,
                       "--corpus", corpus_dir)
    answer = json.loads(out)
    assert code == 0 and answer["refused"] is True and answer["text"] == REFUSAL and answer["citations"] == []
    assert answer["reason"] == "not_in_corpus" and "FIFA World Cup" in answer["note"]
    assert fakes.generators == [] or fakes.generators[0].prompts == []


def test_ask_says_why_it_refused(fakes, capsys, built, corpus_dir):
    code, out, _ = run(capsys, "ask", "Who won the 2022 FIFA World Cup?", "--index", built, "--corpus", corpus_dir)
    assert code == 0 and "why: the question names something no article mentions" in out


def test_ask_prints_the_answer_and_its_sources(fakes, capsys, corpus_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_CORPUS_DIR", str(corpus_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "env-index"))  # not named: built on first use
    fakes.replies = [KIRBY_REPLY]
    code, out, err = run(capsys, "ask", KIRBY_Q)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == KIRBY_REPLY
    assert "[1] " in out and "grown closer" in out
    assert "retrieval" in err and "prompt tokens" in err  # timings go to stderr
    # the passages being read come first, each with its best sentence, before the timings
    assert err.startswith("reading ") and "[1] " in err and "“" in err
    assert err.index("reading ") < err.index("retrieval")


def test_ask_quiet_prints_the_answer_and_nothing_else(fakes, capsys, built, corpus_dir):
    fakes.replies = [KIRBY_REPLY]
    code, out, err = run(capsys, "ask", KIRBY_Q, "--quiet", "--index", built, "--corpus", corpus_dir)
    assert code == 0 and err == ""
    assert out.splitlines()[0] == KIRBY_REPLY and "grown closer" in out


def test_index_quiet_prints_nothing(fakes, capsys, corpus_dir, tmp_path):
    code, out, err = run(capsys, "index", corpus_dir, "--index", tmp_path / "idx", "-q")
    assert code == 0 and out == "" and err == ""
    assert (tmp_path / "idx").is_dir()


def test_ask_prints_the_note_beside_an_answer(fakes, capsys, built, corpus_dir):
    fakes.replies = ["John Kirby is the National Security Council coordinator [1].", "The articles don't say."]
    code, out, err = run(capsys, "ask", "What is John Kirby's job, and what position does Bonnie Glaser hold?",
                         "--index", built, "--corpus", corpus_dir)
    assert code == 0, err
    assert out.startswith("John Kirby is the National Security Council coordinator")
    assert "\n(The articles don't answer “What position does Bonnie Glaser hold?”.)\n" in out


@pytest.mark.parametrize("question", ["", "   "])
def test_ask_an_empty_question(fakes, capsys, built, corpus_dir, question):
    code, out, err = run(capsys, "ask", question, "--index", built, "--corpus", corpus_dir)
    assert code == 2 and out == ""
    assert_one_line_error(err, "empty")


def test_ask_a_question_too_long(fakes, capsys, built, corpus_dir):
    code, out, err = run(capsys, "ask", "x" * 100_000, "--index", built, "--corpus", corpus_dir)
    assert code == 2 and out == ""
    assert_one_line_error(err, "100,000")


def test_ask_with_an_index_built_by_another_embedder(fakes, capsys, corpus_dir, tmp_path):
    index = tmp_path / "other"
    build.open_index(corpus_dir, index, HashEmbedder("other-embedder"), 420, 1)
    before = (index / "manifest.json").read_bytes()
    code, out, err = run(capsys, "ask", KIRBY_Q, "--index", index, "--corpus", corpus_dir)
    assert code == 2 and out == ""
    assert_one_line_error(err, "'other-embedder'", "'fake-hash'", "rag index")
    assert (index / "manifest.json").read_bytes() == before  # a named index is refused, never rebuilt


def test_search(fakes, capsys, built, corpus_dir):
    code, out, err = run(capsys, "search", KIRBY_Q, "-k", 3, "--index", built, "--corpus", corpus_dir)
    assert code == 0, err
    ranked = [line for line in out.splitlines() if line[:1].isdigit()]
    assert [line.split(".")[0] for line in ranked] == ["1", "2", "3"]
    assert "000_d23a82ec91eb8c2b:" in out  # the Kirby article


def test_search_json(fakes, capsys, built, corpus_dir):
    code, out, _ = run(capsys, "search", KIRBY_Q, "-k", 2, "--json", "--retrieval", "bm25", "--index", built,
                       "--corpus", corpus_dir)
    hits = json.loads(out)
    assert code == 0 and len(hits) == 2
    assert all(h["bm25_rank"] and h["dense_rank"] is None for h in hits)
    assert fakes.generators == []  # search never loads the LLM


def test_search_an_empty_question(fakes, capsys, built, corpus_dir):
    code, _, err = run(capsys, "search", "", "--index", built, "--corpus", corpus_dir)
    assert code == 2
    assert_one_line_error(err, "empty")


def test_a_missing_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main([])
    assert e.value.code == 2


def test_ask_with_a_named_index_searches_the_corpus_it_was_built_from(fakes, capsys, corpus_dir, tmp_path):
    [article] = corpus_dir.glob("000_*.txt")  # unlike the project's corpus/, so that one would be stale
    article.write_text(article.read_text(encoding="utf-8").replace("told reporters", "told the reporters"),
                       encoding="utf-8")
    index = tmp_path / "idx"
    assert run(capsys, "index", corpus_dir, "--index", index)[0] == 0
    fakes.replies = [KIRBY_REPLY]
    code, out, err = run(capsys, "ask", KIRBY_Q, "--index", index, "--json")  # no --corpus
    assert code == 0, err
    assert json.loads(out)["citations"][0]["chunk"]["doc_id"] == article.stem


def test_the_package_never_imports_its_users():
    for path in (PROJECT / "rag").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            assert not [n for n in names if n.split(".")[0] in ("app", "eval")], f"{path.name} imports {names}"


def test_chat_and_eval_are_entry_points_named_by_pyproject():
    import tomllib

    import app
    import eval.__main__

    declared = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["entry-points"]["rag.commands"]
    loaded = {name: EntryPoint(name, value, "rag.commands").load() for name, value in declared.items()}
    assert loaded == {"chat": app.main, "eval": eval.__main__.main}


def test_rag_chat_runs_the_installed_entry_point(monkeypatch, capsys):
    seen = []
    entry = EntryPoint("chat", "app:main", "rag.commands")
    monkeypatch.setattr(rag.cli, "entry_points", lambda group: [entry] if group == "rag.commands" else [])
    monkeypatch.setattr(EntryPoint, "load", lambda self: lambda argv: seen.append(argv) or 0)
    assert main(["chat", "--port", "9999"]) == 0 and seen == [["--port", "9999"]]
    monkeypatch.setattr(rag.cli, "entry_points", lambda group: [])
    code, _, err = run(capsys, "eval")
    assert code == 2
    assert_one_line_error(err, "'rag eval' is not installed")


@pytest.mark.slow
def test_a_real_search_prints_no_progress_bar_for_loading_the_small_embedder(tmp_path):
    """The real command as a user runs it: loading MiniLM takes well under a second, so stderr stays empty."""
    import subprocess
    import sys

    env = {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "idx"), "RAG_CORPUS_DIR": str(PROJECT / "corpus")}
    first = subprocess.run([sys.executable, "-m", "rag.cli", "index", "-q"], capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr
    out = subprocess.run([sys.executable, "-m", "rag.cli", "search", "What did Kirby say?", "-k", "1"],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0 and out.stdout.startswith("1. ")
    assert "Loading weights" not in out.stderr and "it/s" not in out.stderr, out.stderr


def test_desk_views_on_the_command_line_never_load_the_model(fakes, capsys, built, corpus_dir):
    code, out, _ = run(capsys, "quotes", "--speaker", "Kirby", "--json", "--index", built)
    rows = json.loads(out)
    assert code == 0 and len(rows) == 4 and {r["speaker"] for r in rows} == {"John Kirby"}
    assert rows[0]["role"] == "National Security Council coordinator"
    code, out, _ = run(capsys, "quotes", "--speaker", "Kirby", "--csv", "--index", built)
    assert out.splitlines()[0] == "speaker,role,quote,article,publisher,date,doc_id,offset"
    assert "burgeoning of late" in out
    code, out, _ = run(capsys, "coverage", "Ukraine", "--index", built)
    assert code == 0 and "Ukraine" in out and "@" in out
    code, out, _ = run(capsys, "timeline", "--json", "--index", built)
    assert any(e["phrase"] == "June 5, 2019" and e["when"] == "2019-06-05" for e in json.loads(out))
    code, out, _ = run(capsys, "differences", "--markdown", "--index", built)
    assert out.startswith("## Differences") and "more than four hours" in out
    assert fakes.generators == []  # nothing here asked for the model


def test_an_empty_view_says_why_in_one_line(fakes, capsys, tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "a.txt").write_text("Harvest report\n\nThe harvest was late this year and prices rose.\n")
    for view in ("quotes", "timeline", "differences"):
        code, out, err = run(capsys, view, "--corpus", folder, "--index", tmp_path / "idx")
        assert code == 0 and out.startswith("nothing to list: ") and len(out.strip().splitlines()) == 1
