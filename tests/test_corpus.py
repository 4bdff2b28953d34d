"""rag/corpus.py: files -> Documents, boilerplate stripped, metadata pulled out, unreadable files skipped."""
import re

import pytest
from conftest import CORPUS

from rag import CorpusError
from rag.corpus import clean, load_corpus

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
