"""rag/desk/timeline.py: dated events across the articles, oldest first, each with its exact sentence."""
from datetime import date, timedelta

import pytest
from conftest import CORPUS

from rag.chunk import chunk_document
from rag.corpus import load_corpus
from rag.desk.timeline import Event, article_date, events
from rag.types import Chunk, Document

TUESDAY = "21 March 2023"  # the article date most tests use: Tuesday 21 March 2023
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def chunk(text: str, doc: str = "a", when: str = TUESDAY, n: int = 0, start: int = 0) -> Chunk:
    return Chunk(id=f"{doc}:{n}", doc_id=doc, title=f"Article {doc}", text=text, start=start,
                 end=start + len(text), publisher="The Daily", date=when)


def dated(text: str, when: str = TUESDAY) -> list[tuple[str, str, str, bool]]:
    """(when, precision, phrase, resolved) of each event of one one-chunk article."""
    return [(e.when, e.precision, e.phrase, e.resolved) for e in events([chunk(text, when=when)])]


# --- explicit dates --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, want", [
    ("Xi met Putin on June 5, 2019 in Moscow.", ("2019-06-05", "day", "June 5, 2019")),
    ("Xi met Putin on 5 June 2019 in Moscow.", ("2019-06-05", "day", "5 June 2019")),
    ("The talks of March 21, 2023 were long.", ("2023-03-21", "day", "March 21, 2023")),
    ("The talks of Mar. 21, 2023 were long.", ("2023-03-21", "day", "Mar. 21, 2023")),
    ("The talks of 2023-03-21 were long.", ("2023-03-21", "day", "2023-03-21")),
    ("Trade grew in March 2023 by a third.", ("2023-03", "month", "March 2023")),
    ("Trade grew in early February 2022 by a third.", ("2022-02", "month", "early February 2022")),
    ("Xi has visited Russia in 2019 again.", ("2019", "year", "in 2019")),
    ("They have met 40 times since 2010.", ("2010", "year", "since 2010")),
    ("They met in the summer of 2019.", ("2019", "year", "summer of 2019")),
    ("Output fell in mid-2019 sharply.", ("2019", "year", "in mid-2019")),
])
def test_explicit_dates_need_no_article_date(text, want):
    assert dated(text, when="") == [(*want, False)]


def test_a_bare_figure_is_no_year():
    # a year only after a word that makes it one: "$2019", "2019 people", "2019.5", "a crowd of 2000" are figures
    assert dated("The fund paid $2019 to 2019 people, up 2019.5 percent.", when="") == []
    assert dated("A crowd of 2000 people gathered in 2000.", when="") == [("2000", "year", "in 2000", False)]
    # a refused figure does not hide a year in its own words: "2019 through 2030" is refused, "through 2030" read
    assert dated("Bonds sold 2019 through 2030 were repaid.", when="") == [("2030", "year", "through 2030", False)]


def test_a_day_must_stand_alone():
    # "MH17" is no 17th: the day-led "17 July 2014" is refused, the month "July 2014" is read
    assert dated("Flight MH17 July 2014 records were kept.", when="") == [("2014-07", "month", "July 2014", False)]


def test_an_impossible_date_is_no_event():
    assert dated("The vote of February 30, 2019 never was.", when="") == []


def test_a_photo_caption_is_a_dated_event():
    assert dated("FILE – In this June 5, 2019, file photo, Xi and Putin enter a hall.", when="") == [
        ("2019-06-05", "day", "June 5, 2019", False)]


def test_a_date_inside_a_url_is_skipped():
    text = "See https://example.com/xi?day=2019-06-05&p=1 and www.news.org/xi?d=2020-01-02 for March 5, 2020."
    assert dated(text, when="") == [("2020-03-05", "day", "March 5, 2020", False)]


def test_a_range_of_years_gives_both():
    assert dated("Trade doubled from 2015 to 2017.", when="") == [
        ("2015", "year", "from 2015", False), ("2017", "year", "2017", False)]


# --- relative dates, worked out from the article's date --------------------------------------------------

def test_weekday_is_the_one_before_the_article_date():
    # Tuesday 21 March 2023: Monday is the 20th, Tuesday that very day, Wednesday the 15th (the week before)
    assert dated("Xi met Putin on Monday.") == [("2023-03-20", "day", "on Monday", True)]
    assert dated("Talks took place Tuesday.") == [("2023-03-21", "day", "Tuesday", True)]
    assert dated("Xi landed Wednesday.") == [("2023-03-15", "day", "Wednesday", True)]


def test_a_weekday_naming_a_dates_day_is_not_a_second_event():
    assert dated("The talks of Monday, March 20, 2023 were long.") == [("2023-03-20", "day", "March 20, 2023", False)]
    assert dated("The talks of Monday, 20 March were long.") == [("2023-03-20", "day", "20 March", True)]


def test_weekday_arithmetic_for_every_article_weekday():
    for offset in range(7):  # article dates Monday 20 .. Sunday 26 March 2023
        anchor = date(2023, 3, 20) + timedelta(days=offset)
        when = f"{anchor.day} March 2023"
        for number, name in enumerate(WEEKDAYS):
            back = date.fromisoformat(dated(f"Xi met Putin on {name}.", when)[0][0])
            ahead = date.fromisoformat(dated(f"Xi will meet Putin on {name}.", when)[0][0])
            last = date.fromisoformat(dated(f"Xi met Putin last {name}.", when)[0][0])
            nxt = date.fromisoformat(dated(f"Xi meets Putin next {name}.", when)[0][0])
            assert {back.weekday(), ahead.weekday(), last.weekday(), nxt.weekday()} == {number}
            assert 0 <= (anchor - back).days <= 6, (when, name, back)
            assert 0 <= (ahead - anchor).days <= 6, (when, name, ahead)
            assert 1 <= (anchor - last).days <= 7, (when, name, last)
            assert 1 <= (nxt - anchor).days <= 7, (when, name, nxt)


def test_relative_days_and_months():
    assert dated("Yesterday the talks ended; today they resume and tomorrow they close.") == [
        ("2023-03-20", "day", "Yesterday", True), ("2023-03-21", "day", "today", True),
        ("2023-03-22", "day", "tomorrow", True)]
    # a month without its year: the most recent such month on or before the article's date
    assert dated("In early February, Putin and Xi met in Beijing.") == [
        ("2023-02", "month", "In early February", True)]
    assert dated("Exports hit a record in June.") == [("2022-06", "month", "in June", True)]
    # a day without its year, the same way
    assert dated("Xi arrived on March 20 and Putin on 20 December.") == [
        ("2022-12-20", "day", "20 December", True), ("2023-03-20", "day", "March 20", True)]


def test_a_month_precision_article_date_places_months_not_weekdays():
    assert dated("In early February, they met on Monday.", when="March 2023") == [
        ("2023-02", "month", "In early February", True)]


def test_no_article_date_skips_relative_dates():
    text = "Xi met Putin on Monday, yesterday and in early February, and will go on Wednesday; March 20 too."
    assert dated(text, when="") == []
    assert dated(text, when="sometime") == []  # an article date nobody can read is no date
    assert dated(text + " The deal dates from June 5, 2019.", when="") == [
        ("2019-06-05", "day", "June 5, 2019", False)]


def test_future_tense_looks_forward():
    # the verb for the date decides: "will", "is set to", "is due to", "plans to" look forward
    assert dated("Xi will be on a state visit to Kazakhstan on Wednesday.") == [
        ("2023-03-22", "day", "on Wednesday", True)]
    assert dated("Xi is set to meet Putin on Monday.") == [("2023-03-27", "day", "on Monday", True)]
    assert dated("Xi is due to fly home Thursday.") == [("2023-03-23", "day", "Thursday", True)]
    assert dated("Xi plans to visit in June.") == [("2023-06", "month", "in June", True)]
    assert dated("On Wednesday, Xi will fly to Astana.") == [("2023-03-22", "day", "On Wednesday", True)]
    # the same words in the past look back; the nearest verb form decides in a sentence with both
    assert dated("Xi met Putin on Wednesday.") == [("2023-03-15", "day", "on Wednesday", True)]
    assert dated("Xi will visit Moscow, officials said Monday.") == [("2023-03-20", "day", "Monday", True)]
    assert dated("He said on Monday he will visit Kazakhstan on Wednesday.") == [
        ("2023-03-20", "day", "on Monday", True), ("2023-03-22", "day", "on Wednesday", True)]
    assert dated("Xi told Putin on Wednesday that China will help.") == [
        ("2023-03-15", "day", "on Wednesday", True)]
    # a verb in another clause does not count: ";" "—" "that" "who" ... and quotation marks end a clause
    assert dated("Xi will fly to Moscow; on Monday the talks began.") == [("2023-03-20", "day", "on Monday", True)]


def test_a_weekday_in_a_name_is_no_date():
    assert dated("Sales on Black Friday and Super Tuesday rose, USA Today and the Sunday Times said.") == []


def test_article_date_formats():
    assert article_date("21 March 2023") == (date(2023, 3, 21), "day")
    assert article_date("March 21, 2023") == (date(2023, 3, 21), "day")
    assert article_date("Mar. 21, 2023") == (date(2023, 3, 21), "day")
    assert article_date("2023-03-21T09:00:00Z") == (date(2023, 3, 21), "day")
    assert article_date("Tuesday, 21 March 2023 10:00 GMT") == (date(2023, 3, 21), "day")
    assert article_date("03/21/2023") == (date(2023, 3, 21), "day")  # read by dateparser
    assert article_date("March 2023") == (date(2023, 3, 1), "month")
    assert article_date("") is None and article_date("yesterday") is None


# --- several dates, each sentence once, order, exact lines ------------------------------------------------

def test_several_dates_in_one_sentence_give_several_events():
    got = dated("Xi met Putin on June 5, 2019, again in March 2023 and on Monday, since 2010 friends.")
    assert [(w, p) for w, _, p, _ in got] == [
        ("2010", "since 2010"), ("2019-06-05", "June 5, 2019"), ("2023-03", "March 2023"),
        ("2023-03-20", "on Monday")]
    assert len({e.line for e in events([chunk("Xi met Putin on June 5, 2019 and on Monday.")])}) == 1


def test_overlapping_chunks_give_each_sentence_once():
    sentences = [f"Sentence {i} is plain filler text of some length here." for i in range(6)]
    sentences[2] = "Xi met Putin on June 5, 2019 in Moscow for talks."
    doc = Document(doc_id="d", title="T", text=" ".join(sentences), date=TUESDAY)
    chunks = chunk_document(doc, max_chars=200, overlap=1)
    assert sum("June 5, 2019" in c.text for c in chunks) == 2  # the dated sentence is in two chunks
    got = events(chunks)
    assert [(e.when, e.line.text) for e in got] == [("2019-06-05", sentences[2])]
    assert got[0].line.offset == doc.text.index(sentences[2])


def test_chunks_in_any_order_give_the_same_events():
    # the next chunk of an article is read from where the one before ended; out of order, each is read whole
    sentences = [f"Sentence {i} is plain filler, dated {1990 + i} in a way: in {1990 + i}." for i in range(12)]
    doc = Document(doc_id="d", title="T", text=" ".join(sentences), date=TUESDAY)
    chunks = chunk_document(doc, max_chars=200, overlap=1)
    assert len(chunks) >= 4
    def seen(got):  # a sentence two chunks hold may be credited to either: compare where it is in the article
        return [(e.when, e.phrase, e.line.doc_id, e.line.offset, e.line.text) for e in got]

    in_order = seen(events(chunks))
    assert [row[0] for row in in_order] == [str(1990 + i) for i in range(12)]
    assert seen(events(chunks[::-1])) == in_order and seen(events(chunks[1:] + chunks[:1])) == in_order


def test_oldest_first_ties_by_article_then_offset():
    first = "On June 5, 2019 they met. On Monday they met again."
    chunks = [chunk("They met again on Monday. Back in 2019 they were friends.", doc="b"),
              chunk(first, doc="a"), chunk("No date here at all.", doc="c")]
    got = [(e.when, e.line.doc_id, e.phrase) for e in events(chunks)]
    assert got == [("2019", "b", "in 2019"), ("2019-06-05", "a", "June 5, 2019"),
                   ("2023-03-20", "a", "On Monday"), ("2023-03-20", "b", "on Monday")]
    same_article = events([chunk("They met on Monday. They met again on Monday.")])
    assert [e.line.offset for e in same_article] == [0, 20]


def test_line_is_an_exact_sentence_of_its_chunk():
    text = "Intro words here. Xi met Putin on Monday, TASS said. More in 2019 too."
    c = chunk(text, start=500)
    got = events([c])
    assert [e.phrase for e in got] == ["in 2019", "on Monday"]
    for e in got:
        assert isinstance(e, Event) and e.line.chunk_id == c.id and e.line.date == TUESDAY
        assert c.text[e.line.start:e.line.end] == e.line.text and e.phrase in e.line.text
        assert e.line.offset == 500 + e.line.start
    assert got[1].line.text == "Xi met Putin on Monday, TASS said."


# --- the shipped corpus -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shipped_events():
    return events([c for doc in load_corpus(CORPUS) for c in chunk_document(doc)])


def test_shipped_corpus(shipped_events):
    caption = [e for e in shipped_events if e.line.doc_id.startswith("000_") and e.phrase == "June 5, 2019"]
    assert len(caption) == 1 and caption[0].when == "2019-06-05" and not caption[0].resolved
    assert "file photo" in caption[0].line.text
    assert [e.when for e in shipped_events] == sorted(e.when for e in shipped_events)
    # relative dates only where the article has a date (NBC News, 21 March 2023: its "Monday" is the 20th)
    assert all(e.line.date for e in shipped_events if e.resolved)
    mondays = [e for e in shipped_events if e.resolved and e.phrase.endswith("Monday")]
    assert mondays and all(date.fromisoformat(e.when).weekday() == 0 for e in mondays)
    assert all(0 <= (article_date(e.line.date)[0] - date.fromisoformat(e.when)).days <= 6 for e in mondays)
