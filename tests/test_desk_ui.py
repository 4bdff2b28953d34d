"""desk_ui: the desk's tabs rendered without a browser. Hostile article text stays text, a statement's source
panel marks its exact sentence, an empty view says why, the timeline chart has a dot per event in date order,
and the views read a real Pipeline's index (fake models) fast, again after an article is added or removed."""
import csv
import io
import re

import pytest

import app
import desk_ui
from rag.desk import Line
from rag.desk.coverage import Coverage
from rag.desk.differences import Difference, Figure
from rag.desk.quotes import Quote
from rag.desk.timeline import Event
from rag.desk.views import Article, Desk
from rag.library import Library

SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=2">'
HOSTILE_TEXT = f"Intro. “{SCRIPT} said it all {IMG} ${{x}}” said Eve Hacker. Outro."
HOSTILE_QUOTE = f"“{SCRIPT} said it all {IMG} ${{x}}” said Eve Hacker."


def line(text=HOSTILE_QUOTE, doc="evil<b>", title=IMG, publisher=SCRIPT, date="2024-01-01", offset=7) -> Line:
    return Line(doc, title, publisher, date, f"{doc}:0", offset, offset + len(text), text, offset)


def assert_inert(html: str):
    """No tag or attribute from the article survives: only escaped text."""
    assert "<script" not in html.lower() and "<img" not in html.lower() and "onerror=\"" not in html
    assert "${" not in html


# ---- escaping ----

def test_a_hostile_quote_and_its_article_show_as_text():
    q = Quote(f"Eve {IMG}", f"chief {SCRIPT}", line())
    table = desk_ui.render_quotes([q])
    assert_inert(table)
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in table and "&lt;img src=x onerror=" in table
    assert 'data-doc="evil&lt;b&gt;"' in table
    source = desk_ui.render_source(Article("evil<b>", IMG, SCRIPT, "2024", HOSTILE_TEXT), q)
    assert_inert(source)


def test_every_view_escapes_what_the_articles_wrote():
    bad = line()
    assert_inert(desk_ui.render_coverage(f"topic {IMG}", [Coverage(bad.doc_id, bad.title, bad.publisher, bad.date, (bad,))]))
    assert_inert(desk_ui.render_timeline([Event("2019-06-05", "day", IMG, bad, True)]))
    assert_inert(desk_ui.render_differences([Difference(f"h{IMG}", SCRIPT, (Figure(IMG, bad), Figure("4 hours", bad)))]))
    assert_inert(desk_ui.empty(f"because {SCRIPT}"))


# ---- the source panel ----

def test_the_source_marks_the_exact_sentence_at_its_offset():
    text = "He said no. “Yes,” Kirby said. Later: “Yes,” Kirby said."
    second = text.rindex("“Yes,”")  # the same words twice: the statement's own offset decides
    sentence = "“Yes,” Kirby said."
    html = desk_ui.render_source(Article("a", "T", "P", "D", text), Quote("John Kirby", "coordinator", line(sentence, offset=second)))
    marked = re.findall(r"<mark>(.*?)</mark>", html)
    assert marked == [app.esc(sentence)]
    before = html.split("<mark>")[0]
    assert before.endswith(app.esc(text[:second])), "the mark is not at the statement's offset"
    assert "Said by <strong>John Kirby</strong>, coordinator" in html


def test_a_stale_offset_still_finds_the_sentence_and_a_gone_one_marks_nothing():
    sentence = "“Yes,” Kirby said."
    article = Article("a", "T", "P", "D", "Intro. “Yes,” Kirby said.")
    assert "<mark>" in desk_ui.render_source(article, Quote("Kirby", "", line(sentence, offset=99)))
    gone = desk_ui.render_source(Article("a", "T", "P", "D", "Rewritten."), Quote("Kirby", "", line(sentence)))
    assert "<mark>" not in gone and "no longer in this article" in gone
    assert "Click a statement" in desk_ui.render_source()


# ---- empty views ----

@pytest.mark.parametrize("render", [
    lambda r: desk_ui.render_quotes([], r), lambda r: desk_ui.render_coverage("Ukraine", [], r),
    lambda r: desk_ui.render_timeline([], r), lambda r: desk_ui.render_differences([], r)])
def test_an_empty_view_is_one_line_saying_why(render):
    html = render("no sentence of the articles is attributed to a named speaker")
    assert html == ('<div class="rag-empty rag-desk-empty">Nothing to list: no sentence of the articles is '
                    'attributed to a named speaker.</div>')


def test_coverage_without_a_topic_asks_for_one():
    assert "Type a topic" in desk_ui.render_coverage("  ", [])


# ---- the timeline chart ----

def events_of(*whens):
    out = []
    for i, (when, precision) in enumerate(whens):
        out.append(Event(when, precision, f"phrase {i}", line(f"Sentence {i}.", doc=f"d{i}"), i % 2 == 1))
    return out


def dots(svg: str) -> list[tuple[float, float, str]]:
    return [(float(cx), float(cy), when) for cx, cy, when in
            re.findall(r'<circle class="rag-tl-dot[^"]*" cx="([\d.]+)" cy="([\d.]+)" r="\d+" data-when="([^"]+)"', svg)]


def test_the_timeline_has_one_dot_per_event_in_date_order():
    events = events_of(("2010", "year"), ("2019-06-05", "day"), ("2023-03", "month"), ("2023-03-20", "day"),
                       ("2023-03-20", "day"), ("2023-03-21", "day"))
    html = desk_ui.render_timeline(events)
    svg = html[html.index("<svg"):html.index("</svg>")]
    found = dots(svg)
    assert [w for _, _, w in found] == [e.when for e in events]
    xs = [x for x, _, _ in found]
    assert xs == sorted(xs) and xs[0] < xs[1] < xs[2] < xs[3]
    assert found[3][0] == found[4][0] and found[3][1] != found[4][1]  # one day, two events: stacked, not hidden
    labels = re.findall(r'class="rag-tl-label"[^>]*>([^<]+)<', svg)
    assert labels == [str(y) for y in range(2010, 2024, 2)]  # years on a 13-year axis, at most 12 of them
    assert svg.count("rag-tl-resolved") == 3  # worked out from the article's date: drawn apart
    listed = re.findall(r'<li class="rag-tl-event" id="rag-ev-(\d+)" data-when="([^"]+)"', html)
    assert [w for _, w in listed] == [e.when for e in events]
    assert "5 June 2019" in html and "March 2023" in html and "worked out from the article’s date" in html


def test_a_short_timeline_labels_months_and_a_single_day_still_draws():
    svg = desk_ui.render_timeline_svg(events_of(("2023-01-10", "day"), ("2023-06-01", "day")))
    assert "Feb 2023" in svg and len(dots(svg)) == 2
    one = desk_ui.render_timeline_svg(events_of(("2023-03-20", "day")))
    assert len(dots(one)) == 1 and "20 Mar" in one


# ---- the views over a real Pipeline (fake models) ----

@pytest.fixture
def views(make_pipeline, tmp_path):
    pipeline = make_pipeline()
    return desk_ui.Views(Desk(pipeline), tmp_path / "exports"), pipeline


def test_quotes_view_lists_kirby_with_his_role_and_filters(views):
    v, _ = views
    every = v.quotes()
    assert ("John Kirby (4)", "John Kirby") in every.speakers and every.speakers[0][1] == desk_ui.ANY
    kirby = v.quotes(speaker="John Kirby")
    assert len(kirby.rows) == 4 and kirby.html.count('class="rag-quote-row"') == 4
    assert kirby.html.count('<div class="rag-role">National Security Council coordinator</div>') == 4
    assert v.quotes(word="bristle").rows == [q for q in kirby.rows if "bristle" in q.line.text]
    nothing = v.quotes(speaker="John Kirby", word="zebra")
    assert "no statement matches speaker “John Kirby”, word “zebra”" in nothing.html
    assert v.quotes(speaker="Nobody Gone").filters[0] == desk_ui.ANY  # a speaker no longer quoted: all again
    first = kirby.rows[0]
    source = v.source(first.line.doc_id, first.line.offset)
    assert re.findall(r"<mark>(.*?)</mark>", source) == [app.esc(first.line.text)]
    assert "no longer in the articles" in v.source(first.line.doc_id, first.line.offset + 1)


def test_exports_hold_the_exact_sentences(views):
    v, _ = views
    kirby = v.quotes(speaker="John Kirby")
    rows = list(csv.DictReader(io.StringIO(open(kirby.csv, encoding="utf-8").read())))
    assert [r["quote"] for r in rows] == [q.line.text for q in kirby.rows]
    assert {r["role"] for r in rows} == {"National Security Council coordinator"}
    assert kirby.csv.endswith("quotes.csv") and kirby.markdown.endswith("quotes.md")
    assert open(kirby.markdown, encoding="utf-8").read().startswith("## Quotes — John Kirby")
    assert v.quotes(speaker="John Kirby").csv == kirby.csv  # the same rows again: the same file, nothing new
    assert v.timeline().csv and v.differences().markdown and v.coverage("Ukraine").csv
    assert v.coverage("").csv is None


def test_every_view_opens_in_under_a_second_on_the_five_articles(views):
    v, pipeline = views
    _ = pipeline.index  # built once, before the views are timed
    opened = {"quotes": v.quotes(), "coverage": v.coverage("Ukraine"), "timeline": v.timeline(),
              "differences": v.differences()}
    assert all(view.rows for view in opened.values())
    slow = {name: round(view.seconds, 3) for name, view in opened.items() if view.seconds >= 1.0}
    assert not slow, slow
    assert "June 5, 2019" in opened["timeline"].html
    assert "more than four hours" in opened["differences"].html
    assert "almost four and a half hours" in opened["differences"].html
    assert opened["coverage"].html.count('class="rag-cov-card"') >= 3


def test_an_added_article_is_quoted_at_the_next_read_and_gone_after_removal(views, tmp_path):
    v, pipeline = views
    assert "Zorvath Quillane" not in v.quotes().html
    library = Library(pipeline)
    library.add_text("Zorvath Quillane opens a rye bakery in Oslo",
                     "2024-02-01\n\n“Rye is the bread of this city,” said Zorvath Quillane, the owner.")
    shown = v.quotes()
    assert ("Zorvath Quillane (1)", "Zorvath Quillane") in shown.speakers
    assert "“Rye is the bread of this city,” said Zorvath Quillane, the owner." in shown.html
    doc = next(q.line.doc_id for q in shown.rows if q.speaker == "Zorvath Quillane")
    library.remove(doc)
    assert "Zorvath Quillane" not in v.quotes().html


def test_a_corpus_without_quotes_or_dates_gives_empty_views(make_pipeline, corpus_dir, tmp_path):
    for f in corpus_dir.iterdir():
        f.unlink()
    (corpus_dir / "harbour.txt").write_text("Harbour notes\n\nThe ferry left on time and the harbour was calm. "
                                            "Gulls circled over the pier. The fish market opened as usual.\n")
    v = desk_ui.Views(Desk(make_pipeline()), tmp_path / "exports")
    assert "no sentence of the articles is attributed to a named speaker" in v.quotes().html
    assert "no sentence gives a date" in v.timeline().html
    assert "only one article is indexed" in v.differences().html
    assert "no article has a sentence about that topic" in v.coverage("Ukraine").html
    assert v.quotes().csv is None and v.timeline().markdown is None


def test_without_a_desk_the_tabs_are_hidden(make_pipeline):
    from fakes_app import FakeEngine

    def tabs(demo) -> dict[str, bool]:
        return {c["props"]["elem_id"]: c["props"]["visible"] for c in demo.get_config_file()["components"]
                if (c["props"].get("elem_id") or "").endswith("-tab")}

    hidden = tabs(app.create_app(FakeEngine(), models=["fake"]))  # a fake engine and no desk given
    assert [hidden[f"rag-{name}-tab"] for name in ("quotes", "coverage", "timeline", "differences")] == [False] * 4
    shown = tabs(app.create_app(make_pipeline(), models=["scripted"]))  # a Pipeline: its own Desk
    assert [shown[f"rag-{name}-tab"] for name in ("quotes", "coverage", "timeline", "differences")] == [True] * 4


def test_the_status_keeps_polling_when_the_models_finish_loading_while_the_page_is_built(monkeypatch):
    """The page is built while the models load; with the desk's tabs that takes long enough for a fast warm-up to
    finish in between. The status must not then say "Loading" with its polling timer already off."""
    from fakes_app import FakeEngine

    calls = []

    def ready(self, name):  # loading while the page starts being built, loaded from the next look on
        calls.append(name)
        return len(calls) > 1

    monkeypatch.setattr(app.Warmer, "ready", ready)
    config = app.create_app(FakeEngine(), models=["fake"]).get_config_file()
    by_id = {c["props"].get("elem_id"): c["props"] for c in config["components"]}
    timer = next(c["props"] for c in config["components"] if c["type"] == "timer")
    assert timer["active"] or "Loading" not in by_id["rag-status"]["value"], "it says Loading and will never update"
