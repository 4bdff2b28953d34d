"""rag/header.py: which questions are about an article itself, and the header as a citable passage."""
import pytest

from rag.header import Asked, line_for, parse, passage, sentence
from rag.types import Header, HeaderLine


@pytest.mark.parametrize("question,asked", [
    ("Who wrote the article about Xi's trip to Russia?", Asked("byline", "Xi's trip to Russia")),
    ("Who is the author of the story on sanctions?", Asked("byline", "sanctions")),
    ("When was the story on sanctions published?", Asked("date", "sanctions")),
    ("What is the date of the article about the phone call?", Asked("date", "the phone call")),
    ("Which outlet published the article about Kirby's remarks?", Asked("publisher", "Kirby's remarks")),
    ("Who published the piece saying China is ready to work with Russia?",
     Asked("publisher", "China is ready to work with Russia")),
    ("Who wrote the NBC article?", Asked("byline", "the NBC article")),  # nothing but the article: searched as said
])
def test_questions_about_an_article(question, asked):
    assert parse(question) == asked


@pytest.mark.parametrize("question", [
    "Who wrote to Putin?",  # no article named: a question about the news
    "Which news agency reported the talks?",  # the agency an article cites (Tass), not the article's publisher
    "Who reported that Xi met Putin?",
    "When did Xi visit Moscow?",
    "What did Kirby say?",
])
def test_questions_about_the_news_are_not_about_an_article(question):
    assert parse(question) is None


def test_the_header_passage_holds_each_line_as_the_file_writes_it():
    head = Header("a", "Talks resume", "NBC News", "21 March 2023", "Jo Park", "a.txt", (
        HeaderLine("title", "Talks resume", "Talks resume", 0, 12),
        HeaderLine("byline", "By Jo Park", "Jo Park", 14, 24)))
    chunk = passage(head)
    assert chunk.text == "Talks resume\nBy Jo Park" and chunk.id == "a:header"
    assert line_for(head, "byline").value == "Jo Park" and line_for(head, "date") is None
    assert sentence("byline", "Talks resume", "Jo Park", "[1]") == "“Talks resume” is by Jo Park [1]."
    assert passage(Header("b", "Untitled")).text == "Untitled"  # a file that writes no header: its title
