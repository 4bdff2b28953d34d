"""rag/corpus.py: files -> Documents, boilerplate stripped, metadata pulled out, unreadable files skipped."""
import re

import pytest
from conftest import CORPUS, PROJECT

from rag import CorpusError
from rag.corpus import clean, decode, load_corpus, read_document

WIKI = PROJECT / "eval" / "wiki" / "corpus"

BOILERPLATE = [
    "Leave a Reply", "Your email address will not be published", "Required fields are marked", "Back to top button",
    "Advertisement", "CLICK HERE TO READ MORE", "Video Embed", "Connect with us", "Lionel Camus",
    "Fix or repair daily", "Source link", "Related Content", "About Author", "Join Now", "Posted In",
]


@pytest.fixture(scope="module")
def shipped():
    docs = load_corpus(CORPUS)
    return {d.doc_id[:3]: d for d in docs}


def test_the_five_shipped_articles_load_in_path_order(shipped):
    assert sorted(shipped) == ["000", "001", "002", "003", "004"]
    assert [d.doc_id for d in load_corpus(CORPUS)] == sorted(p.stem for p in CORPUS.glob("*.txt"))


def test_titles(shipped):
    assert shipped["000"].title == "Xi Jinping says China ready to work with Russia to ‘safeguard the world order’"
    assert shipped["001"].title == "Xi Jinping: Russia, China should bolster ties at multilateral groups"
    assert shipped["002"].title.startswith("Xi Jinping 'Willing To Work' With Putin")
    assert shipped["003"].title == (
        "Xi’s trip to Russia boosts ‘dear friend’ Putin as China pushes back against U.S. power")
    assert shipped["004"].title == "China’s Xi Jinping reaffirms support for Russia in security issues"


def test_metadata_of_003(shipped):
    doc = shipped["003"]
    assert doc.date == "21 March 2023"  # the date under the byline, not the page's "April 22, 2024"
    assert doc.byline == "Andrea Mitchell and Dan De Luce"
    assert doc.publisher == "NBC News"


def test_publishers(shipped):
    assert shipped["000"].publisher == "Washington Examiner"  # from the "© 2023 Washington Examiner" footer
    assert shipped["002"].publisher == "Benzinga"
    assert shipped["004"].publisher == "ABC News"  # from its last line, "Sourced: ABC News"


@pytest.mark.parametrize("junk", BOILERPLATE)
def test_boilerplate_never_reaches_the_text(shipped, junk):
    for doc in shipped.values():
        assert junk.lower() not in doc.text.lower(), f"{junk!r} in {doc.doc_id}"


def test_headline_repeated_three_times_is_the_title_not_text(shipped):
    doc = shipped["003"]
    assert doc.text.count(doc.title) == 0
    assert doc.text.startswith("WASHINGTON — Chinese President Xi Jinping’s trip to Russia")
    for d in shipped.values():
        assert d.title not in d.text


def test_byline_date_and_teasers_are_not_text(shipped):
    assert "By Andrea Mitchell" not in shipped["003"].text
    assert "21 March 2023" not in shipped["003"].text
    assert "XI ARRIVES IN MOSCOW" not in shipped["000"].text  # all-caps link teaser
    assert "(AP Photo" not in shipped["000"].text and "Zemlianichenko" not in shipped["000"].text  # photo credit


def test_photo_caption_is_kept_without_its_credit(shipped):
    text = shipped["000"].text
    assert text.startswith("FILE – In this June 5, 2019, file photo, Russian President Vladimir Putin")
    assert "between the two former Communist rivals.\n" in text  # the credit after it is cut, line and all
    doc = clean("A man waves. (Reuters Images/Jo Doe) Jo Doe/Reuters\n\n(AP Photo/Jo Doe)\n\nBody.", "x")
    assert doc.text == "A man waves.\n\nBody."


def test_body_is_kept(shipped):
    assert "he added, citing the AUKUS deal" in shipped["000"].text
    assert "jumping 153% from a year earlier to $9.6 billion" in shipped["001"].text
    assert shipped["003"].text.rstrip().endswith("network of alliances, she said.")
    assert shipped["004"].text.rstrip().endswith("ABC News reported.")


def test_clean_docstring_example():
    doc = clean("Connect with us\n\nChina's Xi reaffirms support\n\nBody.\n\nLeave a Reply\nName", doc_id="x")
    assert (doc.title, doc.text) == ("China's Xi reaffirms support", "Body.")


HTML = """<!doctype html>
<html><head>
<title>Xi meets Putin in Moscow for talks</title>
<meta property="og:site_name" content="The Daily Planet">
<meta name="author" content="Lois Lane">
<meta property="article:published_time" content="2023-03-21">
<script>var tracking = "SCRIPT_TEXT";</script>
<style>.x { color: red }</style>
</head><body>
<nav><a href="/">Home</a> <a href="/world">NAV_TEXT World</a></nav>
<article>
<h1>Xi meets Putin in Moscow for talks</h1>
<p>Chinese President Xi Jinping met Russian President Vladimir Putin on Monday &amp; they talked for hours.</p>
<p>“We are dear friends,” Putin said.</p>
</article>
<footer>FOOTER_TEXT</footer>
<script>console.log("MORE_SCRIPT_TEXT")</script>
</body></html>
"""


@pytest.mark.parametrize("heading", ["Apollo 11", "NASA", "Soyuz (spacecraft)", "Robert H. Goddard"])
def test_a_short_first_line_over_the_body_is_the_title(heading):
    doc = clean(f"{heading}\n\n{heading} flew in 1969. It was crewed.\n\nMore text.", "apollo-11")
    assert (doc.title, doc.text) == (heading, f"{heading} flew in 1969. It was crewed.\n\nMore text.")


def test_a_longer_headline_still_wins_and_a_lone_sentence_is_no_title():
    assert clean("Politics\n\nChina's Xi reaffirms support for Russia\n\nBody.", "x").title == \
        "China's Xi reaffirms support for Russia"
    assert clean("Xi left.\n\nHe flew home.", "x").title == "x"
    assert clean("Apollo 11", "apollo-11").title == "apollo-11"  # a heading with no body is the body


def test_html_article(tmp_path):
    (tmp_path / "page.html").write_text(HTML, encoding="utf-8")
    [doc] = load_corpus(tmp_path)
    assert doc.doc_id == "page"
    assert doc.title == "Xi meets Putin in Moscow for talks"
    assert (doc.publisher, doc.byline, doc.date) == ("The Daily Planet", "Lois Lane", "2023-03-21")
    assert doc.text == ("Chinese President Xi Jinping met Russian President Vladimir Putin on Monday & they talked "
                        "for hours.\n\n“We are dear friends,” Putin said.")
    for hidden in ("SCRIPT_TEXT", "NAV_TEXT", "FOOTER_TEXT", "color: red", "Home"):
        assert hidden not in doc.text


def test_html_og_title_wins_over_title_tag(tmp_path):
    page = HTML.replace("<title>Xi meets Putin in Moscow for talks</title>",
                        '<title>Site | World</title><meta property="og:title" content="Xi meets Putin in Moscow for talks">')
    (tmp_path / "page.htm").write_text(page, encoding="utf-8")
    [doc] = load_corpus(tmp_path)
    assert doc.title == "Xi meets Putin in Moscow for talks"
    assert "Xi meets Putin in Moscow" not in doc.text


def test_markdown_article(tmp_path):
    (tmp_path / "kirby.md").write_text(
        "# Kirby speaks on China and Russia\n\nBy Jane Doe\n\n**John Kirby** said the [relationship](http://x.com)"
        " is growing.\n\n![chart](http://x/y.png)\n\nIt is a *big* deal for the `U.S.` &amp; allies.\n",
        encoding="utf-8")
    [doc] = load_corpus(tmp_path)
    assert doc.title == "Kirby speaks on China and Russia"
    assert doc.byline == "Jane Doe"
    assert doc.text == "John Kirby said the relationship is growing.\n\nIt is a big deal for the U.S. & allies."


def test_a_short_markdown_heading_is_the_title(tmp_path):
    (tmp_path / "visit.md").write_text("# Xi visits Moscow\n\nXi Jinping arrived in Moscow on Monday.\n",
                                       encoding="utf-8")
    [doc] = load_corpus(tmp_path)
    assert (doc.title, doc.text) == ("Xi visits Moscow", "Xi Jinping arrived in Moscow on Monday.")


def test_html_title_tag_with_a_site_suffix(tmp_path):
    page = HTML.replace("<title>Xi meets Putin in Moscow for talks</title>",
                        "<title>Xi meets Putin in Moscow for talks | The Daily Planet</title>")
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    [doc] = load_corpus(tmp_path)
    assert doc.title == "Xi meets Putin in Moscow for talks"
    assert "Xi meets Putin in Moscow" not in doc.text


def test_other_suffixes_are_ignored(tmp_path):
    (tmp_path / "a.txt").write_text("A headline about the talks\n\nXi met Putin.", encoding="utf-8")
    (tmp_path / "notes.json").write_text('{"not": "an article"}', encoding="utf-8")
    assert [d.doc_id for d in load_corpus(tmp_path)] == ["a"]


def test_articles_in_sub_folders_keep_unique_ids(tmp_path):
    for sub in ("x", "y"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "same.txt").write_text(f"A headline from folder {sub}\n\nBody {sub}.", encoding="utf-8")
    ids = [d.doc_id for d in load_corpus(tmp_path)]
    assert len(ids) == len(set(ids)) == 2


@pytest.mark.parametrize("name, content, why", [
    ("empty.txt", b"", "no article text"),
    ("blank.md", b"  \n\n \t\n", "no article text"),
    ("binary.txt", b"PK\x03\x04\x00\x00binary\x00stuff", "binary"),
    ("huge.txt", b"Xi met Putin. " * 400_000, "over the 5 MB limit"),
    ("menu.html", b"<html><nav>Home</nav><script>x()</script></html>", "no article text"),
])
def test_unreadable_file_is_skipped_with_a_warning_naming_it(tmp_path, name, content, why):
    (tmp_path / "good.txt").write_text("A headline about the talks\n\nXi met Putin.", encoding="utf-8")
    (tmp_path / name).write_bytes(content)
    with pytest.warns(UserWarning, match=re.escape(name)) as record:
        docs = load_corpus(tmp_path)
    assert [d.doc_id for d in docs] == ["good"]
    assert why in str(record[0].message)


def test_utf8_with_bom_is_read(tmp_path):
    (tmp_path / "bom.txt").write_bytes("\ufeffA headline about the café\n\nXi met Putin.".encode("utf-8"))
    [doc] = load_corpus(tmp_path)
    assert doc.title == "A headline about the café"


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(CorpusError, match="no readable .txt, .md or .html articles in"):
        load_corpus(tmp_path)


def test_folder_of_only_unreadable_files_is_an_error(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02")
    (tmp_path / "huge.md").write_bytes(b"# Big\n\n" + b"x" * 5_000_001)
    with pytest.warns(UserWarning), pytest.raises(CorpusError, match=re.escape(str(tmp_path))) as info:
        load_corpus(tmp_path)
    assert "no readable" in str(info.value)


def test_missing_folder_is_an_error(tmp_path):
    with pytest.raises(CorpusError, match="corpus folder not found: .*nowhere"):
        load_corpus(tmp_path / "nowhere")


def test_a_file_is_not_a_corpus_folder(tmp_path):
    (tmp_path / "a.txt").write_text("A headline about the talks\n\nXi met Putin.", encoding="utf-8")
    with pytest.raises(CorpusError, match="not found"):
        load_corpus(tmp_path / "a.txt")


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1", "utf-16"])
def test_an_article_in_another_encoding_is_decoded(tmp_path, encoding):
    text = "Un café à Moscou: le président a déclaré qu’il était prêt à négocier avec ses homologues.\n\n" * 3
    title = "Le président français arrive à Pékin"
    if encoding == "latin-1":
        text = text.replace("’", "'")  # not in latin-1
    (tmp_path / "article.txt").write_bytes(f"{title}\n\n{text}".encode(encoding))
    [doc] = load_corpus(tmp_path)
    assert doc.title == title
    assert doc.text.startswith("Un café à Moscou: le président a déclaré")


NOISY_HTML = """<!doctype html><html><head><title>Exports to Russia jump in April | Market Wire</title>
<meta property="og:site_name" content="Market Wire"></head><body>
<div class="top-bar"><span>Markets</span> <span>Economy</span> <span>TOPBAR_TEXT Subscribe today</span></div>
<div class="content"><h1>Exports to Russia jump in April</h1>
<div class="byline">By <span class="author">Jane Roe</span> | <time datetime="2023-05-09">May 9, 2023</time></div>
<p>China's exports to Russia jumped 153% in April from a year earlier, customs data showed on Tuesday.</p>
<p>Trade between the two countries has grown since the war began, and analysts expect the rise to continue this year.</p>
<p>Imports from Russia rose 4% over the same period, mostly oil and gas, the data showed.</p></div>
<div class="related-stories"><h3>More stories</h3><ul>
<li><a href="/a">RELATED_TEXT Oil prices slip as demand worries grow</a></li>
<li><a href="/b">RELATED_TEXT Yuan steadies against the dollar</a></li></ul></div>
<div id="comments"><h3>12 Comments</h3><div class="comment"><p>COMMENT_TEXT This is fake news!</p></div></div>
</body></html>"""


def test_html_main_text_is_extracted_without_page_furniture(tmp_path):
    (tmp_path / "wire.html").write_text(NOISY_HTML, encoding="utf-8")
    [doc] = load_corpus(tmp_path)
    assert doc.title == "Exports to Russia jump in April"
    assert (doc.byline, doc.date, doc.publisher) == ("Jane Roe", "2023-05-09", "Market Wire")
    assert doc.text.startswith("China's exports to Russia jumped 153% in April")
    assert "mostly oil and gas" in doc.text
    for junk in ("TOPBAR_TEXT", "RELATED_TEXT", "COMMENT_TEXT"):
        assert junk not in doc.text


# The article's header: Document.header holds, for each of title, byline, date and publisher the article states,
# the line as the file writes it and where: decode(file bytes)[start:end] == text.

def head(doc) -> dict[str, tuple[str, str]]:
    """{field: (line as written, value)}; asserts first that every offset points at its line in `doc`'s file."""
    assert_offsets(doc, decode(open(doc.path, "rb").read()))
    return {h.field: (h.text, h.value) for h in doc.header}


def assert_offsets(doc, source: str):
    fields = [h.field for h in doc.header]
    assert fields == [f for f in ("title", "byline", "date", "publisher") if f in fields]  # one each, in this order
    for h in doc.header:
        assert h.start >= 0 and source[h.start:h.end] == h.text, h
    fields = {h.field: h.value for h in doc.header}
    assert (fields.get("title", doc.title), fields.get("byline", ""), fields.get("date", ""),
            fields.get("publisher", "")) == (doc.title, doc.byline, doc.date, doc.publisher)


def test_header_of_the_shipped_articles(shipped):
    assert head(shipped["000"]) == {
        "title": (shipped["000"].title,) * 2,
        "publisher": ("© 2023 Washington Examiner", "Washington Examiner"),  # beats the shouted 'READ MORE FROM THE'
    }
    assert head(shipped["001"]) == {"title": (shipped["001"].title,) * 2}  # it names no author, date or site
    assert head(shipped["002"]) == {
        "title": (shipped["002"].title,) * 2,
        "publisher": ("Market News and Data brought to you by Benzinga APIs", "Benzinga"),
    }
    assert head(shipped["003"]) == {
        "title": (shipped["003"].title,) * 2,
        "byline": ("By Andrea Mitchell and Dan De Luce", "Andrea Mitchell and Dan De Luce"),
        "date": ("21 March 2023", "21 March 2023"),  # under the byline: the page's 'April 22, 2024' is not it
        "publisher": ("NBC News", "NBC News"),  # the line under 'About Author'
    }
    assert head(shipped["004"]) == {
        "title": (shipped["004"].title,) * 2,
        "publisher": ("Sourced: ABC News", "ABC News"),
    }


def test_header_lines_point_into_the_file(shipped):
    doc = shipped["003"]
    source = (CORPUS / f"{doc.doc_id}.txt").read_text(encoding="utf-8")
    title, byline, date, publisher = doc.header
    assert source.startswith("April 22, 2024\n\n") and title.start == len("April 22, 2024\n\n")  # its first writing
    assert source[byline.end:date.start] == "\n"  # the date is the line right under the byline
    assert source[publisher.start - len("About Author\n\n"):publisher.start] == "About Author\n\n"


def test_encyclopedia_articles_state_only_their_title():
    docs = load_corpus(WIKI)
    assert len(docs) >= 20
    for doc in docs:
        source = decode(open(doc.path, "rb").read())
        assert (doc.byline, doc.date, doc.publisher) == ("", "", ""), doc.doc_id
        [title] = doc.header
        assert (title.field, title.value, title.start) == ("title", doc.title, 0)
        assert source[title.start:title.end] == title.text == doc.title


BODY = "Xi Jinping met Vladimir Putin in Moscow on Monday for talks on the war."  # a first paragraph
TITLE = "Xi meets Putin for talks in Moscow"


def header_of(text: str) -> dict[str, tuple[str, str]]:
    doc = clean(text, "x")
    assert_offsets(doc, text)
    assert doc.title == TITLE and BODY in doc.text
    return {h.field: (h.text, h.value) for h in doc.header if h.field != "title"}


@pytest.mark.parametrize("line, value", [
    ("April 22, 2024", "April 22, 2024"),
    ("21 March 2023", "21 March 2023"),
    ("Mar. 21st, 2023", "Mar. 21st, 2023"),
    ("Published on June 16, 2022", "June 16, 2022"),
    ("Published: Tuesday, March 21, 2023", "March 21, 2023"),
    ("Updated March 22, 2023, 10:15 AM EDT", "March 22, 2023"),
    ("2023-03-21", "2023-03-21"),
    ("2023-03-21T10:15:00Z", "2023-03-21"),
])
def test_a_date_line_above_the_body_is_the_articles_date(line, value):
    text = f"{TITLE}\n\n{line}\n\n{BODY}"
    assert header_of(text) == {"date": (line, value)}
    assert line not in clean(text, "x").text


@pytest.mark.parametrize("line", ["2023", "March 2023", "March 21", "Published 2023"])
def test_a_year_or_a_day_without_its_year_is_no_date(line):
    assert "date" not in header_of(f"{TITLE}\n\n{line}\n\n{BODY}")


def test_published_then_on_then_the_date_on_lines_of_their_own():
    assert header_of(f"{TITLE}\n\nPublished\n\non\n\nJune 16, 2022\n\n{BODY}") == {
        "date": ("June 16, 2022", "June 16, 2022")}


def test_the_date_published_beats_the_date_updated():
    text = f"{TITLE}\n\nUpdated March 22, 2023\nPublished March 21, 2023\n\n{BODY}"
    assert header_of(text)["date"] == ("Published March 21, 2023", "March 21, 2023")
    text = f"{TITLE}\n\nPublished March 21, 2023\nUpdated March 22, 2023\n\n{BODY}"
    assert header_of(text)["date"] == ("Published March 21, 2023", "March 21, 2023")


def test_the_date_under_the_byline_beats_the_one_above_it():
    text = f"April 22, 2024\n\n{TITLE}\n\nBy Jo Roe\n21 March 2023\n\n{BODY}"  # a saved page's access date on top
    assert header_of(text) == {"byline": ("By Jo Roe", "Jo Roe"), "date": ("21 March 2023", "21 March 2023")}


@pytest.mark.parametrize("text", [
    f"{TITLE}\n\nOn March 21, 2023, Xi landed in Moscow. {BODY}",  # in a sentence
    f"{TITLE}\n\n{BODY}\n\nMarch 25, 2023\n\nThe talks went on for a second day, Xinhua said.",  # below the body
    f"{TITLE}\n\n{BODY}\n\nUpdated March 25, 2023",
])
def test_a_date_in_the_body_is_not_the_articles_date(text):
    assert "date" not in header_of(text)


def test_a_commenters_date_is_not_the_articles_date():
    text = f"{TITLE}\n\nXi met Putin.\n\n1 Comment\n\nJo Roe\n\nJune 16, 2022 at 10:44 pm\n\nFix it\n\nLeave a Reply"
    doc = clean(text, "x")
    assert (doc.text, doc.date, doc.header[1:]) == ("Xi met Putin.", "", ())


@pytest.mark.parametrize("opening, date, agency", [
    ("BEIJING, March 21, 2023 (Reuters) -", "March 21, 2023", "Reuters"),
    ("LONDON, 21 March 2023 —", "21 March 2023", ""),
    ("BEIJING, March 21 (Reuters) -", "", "Reuters"),  # no year: no date
    ("SAN FRANCISCO, Calif. (AP) —", "", "AP"),
    ("WASHINGTON —", "", ""),  # a bare place says neither
])
def test_the_dateline_opening_the_body(opening, date, agency):
    text = f"{TITLE}\n\n{opening} {BODY}"
    expected = {"date": (opening, date)} if date else {}
    if agency:
        expected["publisher"] = (opening, agency)
    assert header_of(text) == expected
    assert clean(text, "x").text == f"{opening} {BODY}"  # the dateline stays in the body's first sentence


@pytest.mark.parametrize("line, byline, publisher", [
    ("By Jo Roe", "Jo Roe", ""),
    ("By Andrea Mitchell and Dan De Luce", "Andrea Mitchell and Dan De Luce", ""),
    ("By Jo Roe, Al Poe and Ann Lee", "Jo Roe, Al Poe and Ann Lee", ""),
    ("By Jo Roe, Al Poe, and Ann Lee", "Jo Roe, Al Poe, and Ann Lee", ""),
    ("By Jo Roe, The Daily Planet", "Jo Roe", "The Daily Planet"),
    ("By Jo Roe and Al Poe, Reuters", "Jo Roe and Al Poe", "Reuters"),
    ("By Jo Roe | Reuters", "Jo Roe", "Reuters"),
    ("By Jo Roe, Staff Writer", "Jo Roe", ""),  # a job, not an outlet
    ("By: Ursula von der Leyen", "Ursula von der Leyen", ""),
    ("BY JO ROE AND DAN DE LUCE", "Jo Roe and Dan De Luce", ""),
])
def test_bylines(line, byline, publisher):
    text = f"{TITLE}\n\n{line}\n\n{BODY}"
    expected = {"byline": (line, byline)}
    if publisher:
        expected["publisher"] = (line, publisher)
    assert header_of(text) == expected
    assert line not in clean(text, "x").text


def test_a_byline_with_its_date():
    line = "By Jo Roe | May 9, 2023"
    assert header_of(f"{TITLE}\n\n{line}\n\n{BODY}") == {"byline": (line, "Jo Roe"), "date": (line, "May 9, 2023")}


@pytest.mark.parametrize("line", ["By Monday, Xi had left Moscow.", "By then the talks were over.", "By Monday"])
def test_a_sentence_starting_with_by_is_no_byline(line):
    text = f"{TITLE}\n\n{BODY}\n\n{line}"
    assert header_of(text) == {}
    if line.endswith("."):  # a sentence stays in the body ('By Monday' alone goes as a label, as before)
        assert clean(text, "x").text.endswith(line)


@pytest.mark.parametrize("line, publisher", [
    ("© 2023 Washington Examiner", "Washington Examiner"),
    ("Copyright 2023 The Associated Press. All rights reserved.", "The Associated Press"),
    ("Copyright © 2021-2023 Daily Planet", "Daily Planet"),
    ("Market News and Data brought to you by Benzinga APIs", "Benzinga"),
    ("Weather data brought to you by Acme Weather", "Acme Weather"),
    ("Source: Daily Planet", "Daily Planet"),
    ("Sourced: ABC News", "ABC News"),
    ("CLICK HERE TO READ MORE FROM THE WASHINGTON EXAMINER", "Washington Examiner"),
    ("Read more from the Daily Planet", "Daily Planet"),
])
def test_publisher_lines(line, publisher):
    text = f"{TITLE}\n\n{BODY}\n\n{line}"
    assert header_of(text) == {"publisher": (line, publisher)}


def test_the_most_trusted_publisher_line_wins():
    text = f"{TITLE}\n\nBy Jo Roe, Daily Bugle\n\n{BODY}\n\nRead more from the Daily Star\n\nSource: Daily Mail"
    assert header_of(text)["publisher"] == ("By Jo Roe, Daily Bugle", "Daily Bugle")
    assert header_of(f"{text}\n\n© 2023 Daily Planet")["publisher"] == ("© 2023 Daily Planet", "Daily Planet")
    assert header_of(f"{TITLE}\n\n{BODY}\n\nRead more from the Daily Star\n\nSource: Daily Mail")["publisher"] == (
        "Source: Daily Mail", "Daily Mail")


@pytest.mark.parametrize("line", ["Source: a senior official who asked not to be named.", "© 2023", "Source link"])
def test_lines_that_name_no_publisher(line):
    assert header_of(f"{TITLE}\n\n{BODY}\n\n{line}") == {}


def test_the_comments_name_no_publisher():
    assert header_of(f"{TITLE}\n\n{BODY}\n\n2 Comments\n\nJo Roe\n\nSource: Daily Mail\n\nLeave a Reply") == {}
    assert header_of(f"Comments\n\n{TITLE}\n\n{BODY}\n\nSource: Daily Mail")["publisher"][1] == "Daily Mail"


def test_offsets_hold_with_windows_line_ends_and_odd_spaces():
    text = f"  {TITLE} \r\n\r\nBy\u00a0Jo  Roe\r\n\t21 March 2023\r\n\r\n{BODY}"
    doc = clean(text, "x")
    assert_offsets(doc, text)
    assert [(h.text, h.value) for h in doc.header] == [
        (TITLE, TITLE), ("By\u00a0Jo  Roe", "Jo Roe"), ("21 March 2023", "21 March 2023")]


def test_a_txt_files_header_indexes_its_decoded_text(tmp_path):
    text = f"{TITLE}\n\nBy Jo Roe\n\n21 mars 2023 — 21 March 2023\n\nPublished 21 March 2023\n\n{BODY} Café.\n"
    (tmp_path / "a.txt").write_bytes(("\ufeff" + text).encode("utf-8"))  # the BOM is not part of the text
    (tmp_path / "b.txt").write_bytes(text.encode("cp1252"))
    for name in ("a.txt", "b.txt"):
        doc = read_document(tmp_path / name)
        assert head(doc) == {"title": (TITLE, TITLE), "byline": ("By Jo Roe", "Jo Roe"),
                             "date": ("Published 21 March 2023", "21 March 2023")}


def test_a_markdown_header_indexes_the_markdown(tmp_path):
    md = "# Kirby speaks on **China** and Russia\n\nBy *Jane Doe*\n\nMarch 21, 2023\n\n" + BODY + "\n"
    (tmp_path / "kirby.md").write_text(md, encoding="utf-8")
    [doc] = load_corpus(tmp_path)
    assert head(doc) == {
        "title": ("# Kirby speaks on **China** and Russia", "Kirby speaks on China and Russia"),
        "byline": ("By *Jane Doe*", "Jane Doe"),
        "date": ("March 21, 2023", "March 21, 2023"),
    }
    # a dateline is part of its line: it is found as written, the markup after it aside
    (tmp_path / "kirby.md").write_text(f"# {TITLE}\n\nBEIJING, March 21, 2023 (Reuters) - **Xi** met Putin in "
                                       "Moscow on Monday for talks.\n", encoding="utf-8")
    [doc] = load_corpus(tmp_path)
    line = "BEIJING, March 21, 2023 (Reuters) -"
    assert head(doc) == {"title": (f"# {TITLE}", TITLE), "date": (line, "March 21, 2023"), "publisher": (line, "Reuters")}


def test_an_html_header_indexes_the_page_or_is_metadata(tmp_path):
    (tmp_path / "page.html").write_text(HTML, encoding="utf-8")
    [doc] = load_corpus(tmp_path)
    title, *metadata = doc.header
    assert HTML[title.start:title.end] == title.text == doc.title
    assert HTML[:title.start].endswith("<h1>")  # the visible headline, not the <title> in the head
    assert [(h.field, h.value, h.start, h.end) for h in metadata] == [
        ("byline", "Lois Lane", -1, -1), ("date", "2023-03-21", -1, -1), ("publisher", "The Daily Planet", -1, -1)]


def test_an_html_byline_written_on_the_page(tmp_path):
    page = ("<html><head><title>T</title></head><body><h1>Xi meets Putin in\n  Moscow for talks</h1>"
            f"<p>By Jo Roe &amp; Al Poe</p><p>{BODY}</p><p>{BODY} Again, at length.</p></body></html>")
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    [doc] = load_corpus(tmp_path)
    assert doc.byline == "Jo Roe & Al Poe"
    assert [(h.field, h.text, page[h.start:h.end]) for h in doc.header] == [
        ("title", "Xi meets Putin in\n  Moscow for talks", "Xi meets Putin in\n  Moscow for talks"),
        ("byline", "By Jo Roe &amp; Al Poe", "By Jo Roe &amp; Al Poe")]
