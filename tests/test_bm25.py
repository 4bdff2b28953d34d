"""rag/bm25.py: tokenizer, ranking on a toy corpus, save/load."""
import pytest

from rag.bm25 import BM25
from rag.terms import tokenize

TOY = [
    "The cat sat on the mat.",  # 0
    "Dogs chase cats in the park.",  # 1
    "A bird sang in the park at dawn.",  # 2
    "China’s exports to Russia hit a record in April.",  # 3
    "Exports of chips fell; exports of cars rose; exports of oil held steady.",  # 4
]


@pytest.mark.parametrize("text, tokens", [
    ("What did Kirby say about China’s exports?", ["kirby", "china", "export"]),
    ("The cats and the dogs", ["cat", "dog"]),  # stop words dropped, plurals folded
    ("glass grass bus", ["glass", "grass", "bus"]),  # -ss kept, short words kept
    ("Xi met Putin in 2023, 153% higher", ["xi", "met", "putin", "2023", "153", "higher"]),
    ("", []),
    ("the and of a", []),
])
def test_tokenize(text, tokens):
    assert tokenize(text) == tokens


def test_dotted_acronyms_are_tokens():
    assert tokenize("U.S. sanctions") == tokenize("US sanctions") == ["us", "sanction"]


@pytest.fixture
def toy() -> BM25:
    return BM25.build(TOY)


def test_best_match_first(toy):
    hits = toy.search("dogs and cats", 5)
    assert [row for row, _ in hits] == [1, 0]  # row 1 has both terms
    assert hits[0][1] > hits[1][1] > 0


def test_rare_term_outweighs_common_term(toy):
    # 'park' is in two texts, 'dawn' in one: the text holding both ranks first, then the other 'park' text
    assert [row for row, _ in toy.search("park dawn", 5)] == [2, 1]


def test_term_frequency_counts_but_saturates():
    bm = BM25.build(["exports rose", "exports exports exports rose"])
    (first, s1), (second, s2) = bm.search("exports", 2)
    assert (first, second) == (1, 0)
    assert s1 < 3 * s2  # k1 saturation: three mentions are worth far less than three times one


def test_n_limits_results(toy):
    assert len(toy.search("park", 1)) == 1
    assert toy.search("park", 0) == []


def test_ties_break_by_row():
    bm = BM25.build(["alpha beta", "alpha beta", "alpha beta"])
    assert [row for row, _ in bm.search("alpha", 3)] == [0, 1, 2]


@pytest.mark.parametrize("query", ["zebra", "", "what did they say about it", "?!"])
def test_no_match_is_empty(toy, query):
    assert toy.search(query, 5) == []


def test_empty_corpus():
    assert BM25.build([]).search("anything", 5) == []


def test_save_load_round_trip(toy, tmp_path):
    toy.save(tmp_path)
    loaded = BM25.load(tmp_path)
    assert loaded.vocab == toy.vocab
    assert loaded.n_docs == toy.n_docs == len(TOY)
    for query in ["dogs and cats", "park dawn", "exports to Russia in April", "zebra", "exports"]:
        assert loaded.search(query, 5) == toy.search(query, 5)
