"""rag/desk: quotes, coverage, differences and their export, on the shipped articles and made-up ones."""
import csv
import io

import pytest
from conftest import CORPUS

from rag.chunk import chunk_document
from rag.corpus import clean, load_corpus
from rag.desk import sentences
from rag.desk.coverage import coverage
from rag.desk.differences import differences
from rag.desk.export import records, to_csv, to_markdown
from rag.desk.quotes import canonical_names, quotes, role_in
from rag.desk.views import Desk


@pytest.fixture(scope="module")
def shipped():
    return [c for d in load_corpus(CORPUS) for c in chunk_document(d)]


def chunks_of(*texts: str, date: str = ""):
    """Made-up articles a, b, c... from plain texts (one sentence per line is fine)."""
    out = []
    for i, text in enumerate(texts):
        doc = clean(text, doc_id="abcdefgh"[i])
        doc = type(doc)(**{**doc.__dict__, "date": date, "publisher": f"Outlet {i}"})
        out += chunk_document(doc)
    return out


# ---- quotes ----

def test_every_statement_of_kirby_once_with_his_role(shipped):
    found = quotes(shipped, speaker="Kirby")
    assert len(found) == 4  # the four statements the Washington Examiner attributes to him
    assert {q.speaker for q in found} == {"John Kirby"}
    assert {q.role for q in found} == {"National Security Council coordinator"}
    offsets = [q.line.offset for q in found]
    assert offsets == sorted(set(offsets))  # overlapping chunks: each sentence once, in article order


def test_each_line_is_the_exact_sentence_where_it_says(shipped):
    docs = {d.doc_id: d for d in load_corpus(CORPUS)}
    by_id = {c.id: c for c in shipped}
    for q in quotes(shipped):
        assert by_id[q.line.chunk_id].text[q.line.start:q.line.end] == q.line.text
        assert docs[q.line.doc_id].text[q.line.offset:q.line.offset + len(q.line.text)] == q.line.text


def test_pronoun_statements_go_to_the_person_named_before():
    found = quotes(chunks_of("“We are ready,” Foreign Minister Ana Ruiz said on Monday.\n"
                             "She added that talks would resume in June."))
    assert [q.speaker for q in found] == ["Ana Ruiz", "Ana Ruiz"]
    assert found[0].role == "Foreign Minister"


def test_a_statement_two_people_made_together_is_a_row_for_each():
    found = quotes(chunks_of("Both Ana Silva and Jon Berg rejected the plan on Monday. "
                             "They stated their opposition to any new tax."))
    assert [(q.speaker, q.line.text) for q in found] == [
        ("Ana Silva", "They stated their opposition to any new tax."),
        ("Jon Berg", "They stated their opposition to any new tax.")]


def test_filters_by_article_and_word(shipped):
    kirby = quotes(shipped, speaker="Kirby")
    assert quotes(shipped, speaker="Kirby", word="BRISTLE") == [q for q in kirby if "bristle" in q.line.text]
    assert quotes(shipped, speaker="Kirby", article="003_61459b7c16ee4894") == []
    assert quotes(shipped, article="dear friend") and all(q.line.doc_id.startswith("003") for q in quotes(shipped, article="dear friend"))


def test_a_surname_takes_the_full_name_only_when_one_person_fits():
    assert canonical_names({"Xi", "Xi Jinping", "Li", "Li Qiang", "Li Hui"}) == {
        "Xi": "Xi Jinping", "Xi Jinping": "Xi Jinping", "Li": "Li", "Li Qiang": "Li Qiang", "Li Hui": "Li Hui"}


@pytest.mark.parametrize("text,name,role", [
    ("Chinese President Xi Jinping said", "Xi Jinping", "Chinese President"),
    # a speaker the article calls by surname: the first name before it is the name's, not the title's
    ("Russian President Vladimir Putin met Xi.", "Putin", "Russian President"),
    ("“Yes,” said Brian Hart, a fellow with the China Power Project, on Monday.", "Brian Hart",
     "a fellow with the China Power Project"),
    ("BEIJING: President Xi Jinping called", "Xi Jinping", "President"),
    ("Xi Jinping said", "Xi Jinping", ""),
    ("Then Xi Jinping said", "Xi Jinping", ""),
])
def test_role_in(text, name, role):
    assert role_in(text, name) == role


def test_a_corpus_with_no_quotes_gives_an_empty_list():
    assert quotes(chunks_of("Prices rose in March.\nThe harvest was late.")) == []


# ---- coverage ----

def test_coverage_lists_each_article_once_with_its_sentences(make_pipeline):
    pipeline = make_pipeline()
    found = coverage("Ukraine", pipeline.index, pipeline.embedder.embed, per_article=2)
    assert len(found) >= 3 and len({c.doc_id for c in found}) == len(found)
    for c in found:
        assert 1 <= len(c.lines) <= 2
        assert all("Ukrain" in line.text for line in c.lines)
        assert all(line.doc_id == c.doc_id for line in c.lines)


def test_coverage_of_nothing_known_is_empty(make_pipeline):
    desk = Desk(make_pipeline())
    assert desk.coverage("Zanzibar cloves") == []
    assert desk.coverage("   ") == []


# ---- differences ----

def test_two_articles_giving_different_hours_for_the_same_talks(shipped):
    found = differences(shipped)
    hours = [d for d in found if d.unit == "hour"]
    assert len(hours) == 1
    assert sorted(f.value for f in hours[0].figures) == ["almost four and a half hours", "more than four hours"]
    assert len({f.line.doc_id for f in hours[0].figures}) == 2


def test_articles_on_two_subjects_give_no_difference_however_alike_their_sentences():
    a = clean("Asparagus\n\nIn 2024, world production of asparagus was 8.9 million tonnes, led by China with 87% of the total.",
              doc_id="a")
    b = clean("Lettuce\n\nIn 2023, world production of lettuce was 28 million tonnes, led by China with 53% of the total.",
              doc_id="b")
    assert differences(chunk_document(a) + chunk_document(b)) == []


def test_different_things_counted_in_one_unit_are_no_difference():
    found = differences(chunks_of("Lyon has a population of 500,000 people, the city council said.",
                                  "Nantes has a population of 300,000 people, the city council said."))
    assert found == []


def test_the_same_figure_is_no_difference_and_one_article_never_differs_from_itself():
    same = chunks_of("Xi and Putin met in Moscow for four hours on Monday, Tass said.",
                     "Xi and Putin met in Moscow for four hours on Monday, Tass reported.")
    assert differences(same) == []
    one = chunks_of("Xi and Putin met in Moscow for four hours on Monday, Tass said.\n"
                    "Xi and Putin met in Moscow for six hours on Monday, Tass said later.")
    assert differences(one) == []


def test_a_difference_between_made_up_articles():
    found = differences(chunks_of("Storm leaves Manila counting its dead\n\nThe storm killed 12 people in Manila on Sunday, "
                                  "officials said.",
                                  "Typhoon toll rises in Manila overnight\n\nOfficials in Manila said the storm killed 15 "
                                  "people on Sunday."))
    assert len(found) == 1 and found[0].unit == "people"
    assert [f.value for f in found[0].figures] == ["12 people", "15 people"]


# ---- sentences, export ----

def test_sentences_are_listed_once_though_chunks_overlap(shipped):
    listed = [(c.doc_id, c.start + s) for c, s, _ in sentences(shipped)]
    assert len(listed) == len(set(listed))
    assert len(listed) < sum(1 for c in shipped for _ in c.text.split(". "))  # overlap was there to remove


def test_csv_keeps_quotes_exact_and_defuses_formulas(shipped):
    rows = quotes(shipped, speaker="Kirby")
    table = list(csv.DictReader(io.StringIO(to_csv(records(rows)))))
    assert [r["quote"] for r in table] == [q.line.text for q in rows]
    assert table[0]["speaker"] == "John Kirby" and table[0]["publisher"] == rows[0].line.publisher
    hostile = quotes(chunks_of("“=HYPERLINK(1)” Mayor Jo Park said."))
    cell = next(csv.DictReader(io.StringIO(to_csv(records(hostile)))))["quote"]
    assert cell.startswith("“=")  # the quote mark comes first: nothing to defuse, nothing changed
    assert to_csv([{"a": "=1+1"}]).splitlines()[1] == "'=1+1"


def test_markdown_cells_cannot_break_the_table():
    rows = quotes(chunks_of("“a | b\n# heading” Mayor Jo Park said.", "“x | y,” Mayor Jo Park said."))
    md = to_markdown(records(rows), "Quotes | evil")
    body = [line for line in md.splitlines() if line.startswith("|")]
    assert len(body) == 2 + len(rows)
    assert all(line.count(" | ") == body[0].count(" | ") for line in body[2:])
    assert md.startswith("## Quotes \\| evil")
    assert to_markdown([], "Quotes").endswith("Nothing to list.\n")


def test_a_statement_in_two_overlapping_chunks_is_listed_once():
    text = " ".join(f"“Point {i} stands,” Mayor Jo Park said." for i in range(30))
    chunks = chunks_of(text)
    assert len(chunks) > 2  # the chunker overlaps them by a sentence
    found = quotes(chunks)
    assert len(found) == 30 and len({q.line.offset for q in found}) == 30


def test_an_article_is_laid_back_from_its_chunks_so_offsets_point_into_it(make_pipeline):
    desk = Desk(make_pipeline())
    docs = {d.doc_id: d for d in load_corpus(CORPUS)}
    for doc_id, doc in docs.items():
        article = desk.article(doc_id)
        assert article.text.split() == doc.text.split() and len(article.text) == len(doc.text.rstrip())
        assert article.title == doc.title
    q = desk.quotes(speaker="Kirby")[0]
    assert desk.article(q.line.doc_id).text[q.line.offset:].startswith(q.line.text)
    assert desk.article("nope") is None


def test_views_are_read_again_when_the_index_changes(make_pipeline, corpus_dir):
    pipeline = make_pipeline()
    desk = Desk(pipeline)
    assert not desk.quotes(speaker="Ana Ruiz")
    (corpus_dir / "new.txt").write_text("Talks resume\n\n“We are ready,” Foreign Minister Ana Ruiz said on Monday.\n")
    pipeline.reindex()
    assert [q.speaker for q in desk.quotes(speaker="Ruiz")] == ["Ana Ruiz"]
    (corpus_dir / "new.txt").unlink()
    pipeline.reindex()
    assert not desk.quotes(speaker="Ruiz")
