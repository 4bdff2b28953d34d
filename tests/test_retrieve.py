"""rag/retrieve.py: reciprocal rank fusion, overlap, hybrid/dense/bm25 search with duplicates collapsed."""
import shutil

import faiss
import numpy as np
import pytest
from conftest import CORPUS, HashEmbedder

from rag import build, store
from rag.bm25 import BM25
from rag.retrieve import overlap, promoted, rrf, search
from rag.types import Chunk

MODES = ["hybrid", "dense", "bm25"]


@pytest.fixture(scope="module")
def embedder():
    return HashEmbedder()


@pytest.fixture(scope="module")
def index(tmp_path_factory, embedder):
    index, _ = build.open_index(CORPUS, tmp_path_factory.mktemp("retrieve") / "index", embedder, 420, 1)
    return index


def run(index, embedder, query, k=5, mode="hybrid", **kw):
    vector = None if mode == "bm25" else embedder.embed([query])[0]
    return search(index, query, vector, k, mode, **kw)


def is_kirby(hit):
    return "John Kirby" in hit.chunk.speakers


def test_rrf_docstring_example():
    fused = rrf([[7, 3], [3, 9]], k=60)
    assert [row for row, _ in fused] == [3, 7, 9]
    assert [s for _, s in fused] == pytest.approx([1 / 62 + 1 / 61, 1 / 61, 1 / 62])


def test_rrf_hand_computed():
    # k=1: row 5 ranks 1st and 3rd -> 1/2 + 1/4 = 0.75; row 8 ranks 2nd and 1st -> 1/3 + 1/2 = 0.8333;
    # row 2 ranks 3rd in one list -> 1/4; row 4 2nd in one list -> 1/3
    fused = rrf([[5, 8, 2], [8, 4, 5]], k=1)
    assert fused == [(8, pytest.approx(5 / 6)), (5, pytest.approx(0.75)), (4, pytest.approx(1 / 3)),
                     (2, pytest.approx(0.25))]


def test_rrf_ties_break_by_row_and_empty_lists():
    assert [row for row, _ in rrf([[2, 1], [1, 2]])] == [1, 2]
    assert rrf([[], []]) == []
    assert rrf([[4], []]) == [(4, pytest.approx(1 / 61))]


def chunk(doc_id, start, text):
    return Chunk(id=f"{doc_id}:{start}", doc_id=doc_id, title="T", text=text, start=start, end=start + len(text))


def test_overlap_within_one_document_is_shared_characters_over_the_shorter():
    assert overlap(chunk("a", 0, "x" * 100), chunk("a", 50, "y" * 200)) == 0.5
    assert overlap(chunk("a", 0, "x" * 100), chunk("a", 100, "y" * 100)) == 0.0
    assert overlap(chunk("a", 10, "x" * 50), chunk("a", 0, "y" * 200)) == 1.0


def test_overlap_across_documents_is_shared_words():
    a = chunk("a", 0, "Xi met Putin in Moscow")
    b = chunk("b", 0, "xi met putin in Beijing today")
    assert overlap(a, b) == pytest.approx(4 / 5)
    assert overlap(a, chunk("b", 0, "Xi met Putin in Moscow")) == 1.0
    assert overlap(a, chunk("b", 0, "completely different words here")) == 0.0


@pytest.mark.parametrize("mode", ["hybrid", "bm25"])
def test_kirby_question_finds_a_kirby_chunk_first(index, embedder, mode):
    hits = run(index, embedder, "What did Kirby say?", mode=mode)
    assert is_kirby(hits[0]), hits[0].chunk.text[:80]


def test_dense_finds_kirby_by_name(index, embedder):
    # The hash embedder is only a bag of words: 'what'/'did'/'say' weigh as much as 'kirby', so the dense-only
    # check asks for the name itself.
    hits = run(index, embedder, "John Kirby", mode="dense")
    assert is_kirby(hits[0])


@pytest.mark.parametrize("mode", ["hybrid", "bm25"])
def test_exports_question_finds_the_153_percent_chunk(index, embedder, mode):
    hits = run(index, embedder, "exports to Russia April", mode=mode)
    assert any("153%" in h.chunk.text for h in hits[:3])


def test_dense_finds_the_153_percent_chunk(index, embedder):
    hits = run(index, embedder, "China exports to Russia record April", mode="dense")
    assert any("153%" in h.chunk.text for h in hits[:3])


@pytest.mark.parametrize("mode", MODES)
def test_hits_are_ranked_and_tagged_with_their_lists(index, embedder, mode):
    hits = run(index, embedder, "What did Bonnie Glaser say about Xi and Putin?", k=4, mode=mode)
    assert 0 < len(hits) <= 4
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert len({h.chunk.id for h in hits}) == len(hits)
    for h in hits:
        if mode == "dense":
            assert h.dense_rank is not None and h.bm25_rank is None
        elif mode == "bm25":
            assert h.bm25_rank is not None and h.dense_rank is None and h.similarity == 0.0
        else:
            assert h.dense_rank is not None or h.bm25_rank is not None


def test_similarity_is_the_cosine_with_the_question(index, embedder):
    query = "What did Kirby say?"
    vector = embedder.embed([query])[0]
    for h in search(index, query, vector, 5):
        row = next(r for r, c in enumerate(index.chunks) if c.id == h.chunk.id)
        expected = float(index.vectors([row])[0] @ vector)
        assert h.similarity == pytest.approx(expected, abs=1e-4)


def test_k_limits_hits(index, embedder):
    assert len(run(index, embedder, "Xi Putin Russia China", k=2)) == 2
    assert len(run(index, embedder, "Xi Putin Russia China", k=30, candidates=40)) == 30


def test_same_article_windows_do_not_both_come_back(index, embedder):
    for mode in MODES:
        hits = run(index, embedder, "Xi Putin Russia China relationship", k=10, mode=mode)
        for i, a in enumerate(hits):
            for b in hits[i + 1:]:
                assert overlap(a.chunk, b.chunk) < 0.8


def test_bm25_with_no_matching_word_finds_nothing(index, embedder):
    assert run(index, embedder, "zebra giraffe", mode="bm25") == []


@pytest.mark.parametrize("mode", MODES)
def test_an_article_copied_under_two_names_is_returned_once(tmp_path, mode):
    corpus = tmp_path / "dups"
    corpus.mkdir()
    for path in CORPUS.glob("*.txt"):
        shutil.copy(path, corpus / path.name)
    [kirby] = CORPUS.glob("000_*.txt")
    shutil.copy(kirby, corpus / "zz_syndicated_copy.txt")
    embedder = HashEmbedder()
    index, _ = build.open_index(corpus, tmp_path / "index", embedder, 420, 1)
    for query in ["What did Kirby say?", "AUKUS submarines Australia", "Xi Jinping world order"]:
        hits = run(index, embedder, query, k=10, mode=mode)
        texts = [h.chunk.text for h in hits]
        assert len(texts) == len(set(texts)), query
    uncollapsed = [h.chunk.text for h in run(index, embedder, "What did Kirby say?", k=10, mode=mode, max_overlap=1.1)]
    assert len(uncollapsed) > len(set(uncollapsed))  # the copies really are there to collapse


def test_invalid_mode(index, embedder):
    with pytest.raises(ValueError, match="hybrid, dense or bm25"):
        search(index, "What did Kirby say?", embedder.embed(["x"])[0], 5, mode="sparse")


def test_empty_index(embedder):
    empty = store.Index([], faiss.IndexFlatIP(embedder.dim), BM25.build([]), {})
    assert search(empty, "anything", embedder.embed(["anything"])[0], 5) == []


# ---- anchoring: a question that names someone ranks the articles that mention them first ----
FILLER = ("Officials met for several hours. The talks covered trade, energy and security. Reporters waited "
          "outside the building for most of the afternoon. ")
ENCYCLOPEDIA = {
    "lake": "Lake Superior\n\nThe main outlet of the lake is a river. This kind of outlet is what a lake of this kind "
            "has: one outlet, of one kind.",
    "actor": "Actor\n\nAn actor is a person who plays a role. The role is the kind of part an actor plays; a role "
             "is what an actor is given.",
    "shop": "Outlet store\n\nAn outlet is a kind of shop. What kind of outlet is it? An outlet of this kind sells "
            "goods of every kind.",
}
NEWS = {
    "exports": "Exports hit a record\n\nChina’s exports to Russia rose 153% in April. Interfax reported the "
               "figures on Tuesday, citing customs data.",
    "kirby": "Washington watches the visit\n\nNational Security Council coordinator John Kirby spoke on Monday. "
             + FILLER * 3 + "He said his role is to coordinate what the White House says about security.",
}


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    folder = tmp_path_factory.mktemp("archive")
    (folder / "corpus").mkdir()
    for name, text in {**ENCYCLOPEDIA, **NEWS}.items():
        (folder / "corpus" / f"{name}.txt").write_text(text, encoding="utf-8")
    embedder = HashEmbedder()
    index, _ = build.open_index(folder / "corpus", folder / "index", embedder, 420, 1)
    return index, embedder


@pytest.mark.parametrize("mode", MODES)
def test_a_named_outlet_comes_before_encyclopedia_entries_full_of_the_questions_other_words(archive, mode):
    index, embedder = archive
    question = "What kind of outlet is Interfax?"
    assert "Interfax" in run(index, embedder, question, k=3, mode=mode)[0].chunk.text
    if mode == "dense":  # what the embedder alone ranks first: the entries that say 'kind' and 'outlet'
        assert "Interfax" not in run(index, embedder, question, k=1, mode=mode, anchor=False)[0].chunk.text


def test_a_chunk_that_does_not_repeat_the_name_still_comes_first_when_its_article_names_him(archive):
    index, embedder = archive
    question = "What is John Kirby's role?"
    role = "his role is to coordinate"
    anchored = [h.chunk.text for h in run(index, embedder, question, k=2, mode="dense")]
    assert any(role in t for t in anchored) and not any("An actor" in t for t in anchored)
    assert "John Kirby" not in next(t for t in anchored if role in t)  # the chunk alone never names him
    plain = [h.chunk.text for h in run(index, embedder, question, k=2, mode="dense", anchor=False)]
    assert not any(role in t for t in plain)


@pytest.mark.parametrize("question", ["What kind of outlet is Macron's?",  # named, but in no article
                                      "what kind of role does an outlet play?"])  # no name at all
def test_without_a_name_the_articles_mention_the_ranking_is_unchanged(archive, question):
    index, embedder = archive
    for mode in MODES:
        assert [h.chunk.id for h in run(index, embedder, question, k=4, mode=mode)] == \
               [h.chunk.id for h in run(index, embedder, question, k=4, mode=mode, anchor=False)]


def test_named_only_shows_no_chunk_of_an_article_that_names_none_of_the_questions_names(archive):
    index, embedder = archive
    for mode in MODES:
        shown = run(index, embedder, "What kind of outlet is Interfax?", k=4, mode=mode, named_only=True)
        assert shown and all("Interfax" in h.chunk.text for h in shown)
        assert len(run(index, embedder, "What kind of outlet is Interfax?", k=4, mode=mode)) == 4  # others fill
        for question in ("What kind of outlet is Macron's?", "what kind of role does an outlet play?"):
            assert [h.chunk.id for h in run(index, embedder, question, k=4, mode=mode, named_only=True)] == \
                   [h.chunk.id for h in run(index, embedder, question, k=4, mode=mode)]


# ---- each retriever's best chunk is among those shown, however fusion ranked it ----
class Ranked:
    """An index whose two retrievers rank fixed rows: the fusion's inputs, nothing else."""

    def __init__(self, dense: list[int], keyword: list[int], n: int = 12):
        words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike".split()
        self.chunks = [chunk(f"d{i}", 0, f"{words[i]} {words[i]} {words[i]}.") for i in range(n)]  # none alike
        self.dense_rows, self.keyword_rows = dense, keyword

    def search_dense(self, vector, n):
        return [(r, 1.0 - i / 100) for i, r in enumerate(self.dense_rows[:n])]

    def search_bm25(self, query, n):
        return [(r, 10.0 - i) for i, r in enumerate(self.keyword_rows[:n])]

    def vectors(self, rows):
        return np.zeros((len(rows), 2), dtype=np.float32)

    def article_text(self, doc_id):
        return ""


def test_promoted_docstring_example_and_nothing_to_move():
    assert promoted([(7, .03), (8, .03), (9, .02)], [[9]], 2) == [(7, .03), (9, .02), (8, .03)]
    fused = [(1, .04), (2, .03), (3, .02)]
    assert promoted(fused, [[2], [1]], 2) == fused  # both firsts already shown
    assert promoted(fused, [[], [3]], 3) == fused
    # two late firsts take the last two places, the first ranking's first
    assert promoted([(1, .5), (2, .4), (3, .3), (4, .2), (5, .1)], [[5], [4]], 3) == \
        [(1, .5), (5, .1), (4, .2), (2, .4), (3, .3)]
    # one place: the fused first keeps it; two places and two late firsts: the first ranking's first takes the second
    assert promoted([(1, .5), (2, .4), (3, .3)], [[3], [2]], 1) == [(1, .5), (2, .4), (3, .3)]
    assert promoted([(1, .5), (2, .4), (3, .3), (4, .2)], [[4], [3]], 2) == [(1, .5), (4, .2), (2, .4), (3, .3)]
    # a first already shown keeps its place: the late one takes the place of a row that is no retriever's first
    assert promoted([(1, .5), (2, .4), (3, .3), (4, .2), (5, .1)], [[5], [3]], 3) == \
        [(1, .5), (3, .3), (5, .1), (2, .4), (4, .2)]


def test_the_embedders_first_chunk_is_shown_though_bm25_never_found_it():
    index = Ranked(dense=[9, 1, 2, 3, 4, 5], keyword=[1, 2, 3, 4, 5, 6])
    vector = np.ones(2, dtype=np.float32)
    fused_only = [h.chunk.id for h in search(index, "q", vector, 4)]
    assert "d9:0" not in fused_only  # one vote at rank 1 is outranked by every row both lists hold
    shown = [h.chunk.id for h in search(index, "q", vector, 4, shown=4)]
    assert shown == fused_only[:3] + ["d9:0"]
    assert [h.chunk.id for h in search(index, "q", vector, 10, shown=4)][:4] == shown  # the same four, asked for more
    bm25_first = Ranked(dense=[1, 2, 3, 4, 5, 6], keyword=[8, 1, 2, 3, 4, 5])
    assert [h.chunk.id for h in search(bm25_first, "q", vector, 4, shown=4)][3] == "d8:0"


# ---- a question naming someone is searched in full within the articles that name them ----
INSTITUTE = ("Think tank\n\nBrian Hart is a fellow with the China Power Project. "
             + "Delegates spoke about grain, freight and ports for an hour. " * 6
             + "His institute sits in Washington, among the museums.")
PLACES = "Lima Oslo Quito Accra Hanoi Dakar Perth Cusco Turin Leeds Sucre Tunis".split()
CITIES = {p.lower(): f"{p}\n\nIn which city is {p} located? {p} is a city located in a country; the {p} institute "
                     f"of {p} is located in the city of {p}, and {p} is its own city." for p in PLACES}


@pytest.fixture(scope="module")
def crowded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crowded")
    (folder / "corpus").mkdir()
    for name, text in {"institute": INSTITUTE, **CITIES}.items():
        (folder / "corpus" / f"{name}.txt").write_text(text, encoding="utf-8")
    embedder = HashEmbedder()
    index, _ = build.open_index(folder / "corpus", folder / "index", embedder, 200, 1)
    return index, embedder


@pytest.mark.parametrize("mode", ["hybrid", "bm25"])
def test_the_named_articles_other_chunks_fill_the_places_the_whole_index_candidates_left_empty(crowded, mode):
    index, embedder = crowded
    question = "In which city is the institute of Brian Hart located?"
    ours = [c for c in index.chunks if c.doc_id.startswith("institute")]
    assert len(ours) >= 3 and sum("Brian Hart" in c.text for c in ours) == 1  # one chunk names him
    answer = next(c.id for c in ours if "Washington" in c.text)
    candidates = run(index, embedder, question, k=8, mode=mode, candidates=4)
    assert answer not in {h.chunk.id for h in candidates}  # the whole index's candidates never hold it
    hits = run(index, embedder, question, k=4, mode=mode, candidates=4, named_only=True)
    assert answer in {h.chunk.id for h in hits}
    assert {h.chunk.doc_id for h in hits} == {ours[0].doc_id} and len({h.chunk.id for h in hits}) == len(hits)
    assert "Brian Hart" in hits[0].chunk.text and (hits[0].dense_rank or hits[0].bm25_rank)  # the candidate first
    assert all(h.dense_rank is None and h.bm25_rank is None for h in hits[1:])  # ranked within the article alone
