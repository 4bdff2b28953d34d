"""The newsroom desk in the web chat: four tabs beside Chat and Articles (Quotes, Coverage, Timeline,
Differences), each read from the index alone through `rag.desk.views.Desk` (no language model), each
exportable as CSV and Markdown.

The render_* functions are pure: rows in, an HTML string out, every string that came from an article escaped
(`app.esc`, `app.highlight`: articles can be hostile). `Views` turns a Desk into what each tab shows (no
Gradio there, so tests call it directly); `add_desk_tabs` lays the tabs out and wires their events.

    views = Views(Desk(pipeline), exports_dir)
    views.quotes(speaker="John Kirby").html  # -> '<div class="rag-desk-count">4 statements …'
"""
import hashlib
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Sequence

from app import esc, highlight
from rag.desk.commands import empty_reason
from rag.desk.export import records, to_csv, to_markdown
from rag.desk.timeline import MONTHS

log = logging.getLogger(__name__)

ANY = "*"  # the filters' "all speakers" / "all articles" choice (no name or doc id is a lone asterisk)

# The quotes table: a click (or Enter) on a row asks the server for that statement's article.
ROW_CLICK_JS = """
const pick = (row) => {
  element.querySelectorAll('tr.rag-picked').forEach((r) => r.classList.remove('rag-picked'));
  row.classList.add('rag-picked');
  trigger('click', {doc: row.dataset.doc, offset: Number(row.dataset.offset)});
};
element.addEventListener('click', (e) => {
  const row = e.target.closest('tr[data-doc]');
  if (row && element.contains(row)) pick(row);
});
element.addEventListener('keydown', (e) => {
  const row = e.target.closest('tr[data-doc]');
  if (row && e.key === 'Enter') pick(row);
});
"""
# The source panel: the highlighted sentence is scrolled into view each time a statement is shown.
SCROLL_JS = """
watch('value', () => {
  const mark = element.querySelector('mark');
  if (mark) mark.scrollIntoView({block: 'center', inline: 'nearest'});
});
"""

CSS = """
.rag-desk-count, .rag-desk-note { color: var(--body-text-color-subdued); font-size: 0.9em; margin: 2px 0 6px; }
.rag-desk-table { width: 100%; border-collapse: collapse; font-size: 0.9em; }
.rag-desk-table th, .rag-desk-table td { text-align: left; padding: 4px 6px; vertical-align: top;
  border-bottom: 1px solid var(--border-color-primary); }
.rag-quote-row { cursor: pointer; }
.rag-quote-row:hover, .rag-quote-row.rag-picked { background: var(--background-fill-secondary); }
.rag-quote-row.rag-picked { outline: 2px solid var(--color-accent); }
.rag-role { color: var(--body-text-color-subdued); font-size: 0.85em; }
.rag-show { font-size: 0.85em; padding: 1px 6px; border: 1px solid var(--border-color-primary); border-radius: 4px;
  background: var(--background-fill-primary); cursor: pointer; }
#rag-quotes-source, #rag-quotes { max-height: 640px; overflow-y: auto; }
.rag-quotes-table .rag-title { font-weight: normal; }
.rag-quotes-table thead th { position: sticky; top: 0; background: var(--background-fill-primary); }
.rag-tl-key { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin: 0 3px 0 8px;
  background: #2563eb; border: 1px solid #1e3a8a; vertical-align: middle; }
.rag-tl-key.rag-tl-resolved { background: #fde68a; border-color: #b45309; }
.rag-desk-source .rag-passage mark, .rag-figure mark, .rag-tl-sentence mark { background: #fde68a; color: inherit; padding: 0 1px; }
.rag-desk-source .rag-passage { white-space: pre-wrap; }
.rag-cov-grid { display: flex; gap: 10px; overflow-x: auto; align-items: flex-start; padding-bottom: 6px; }
.rag-cov-card { flex: 1 0 230px; max-width: 420px; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 6px 8px; }
.rag-cov-head { font-size: 0.85em; margin-bottom: 4px; }
.rag-cov-publisher { font-weight: 700; }
.rag-cov-lines { margin: 0; padding-left: 0; list-style: none; }
.rag-cov-lines li, .rag-tl-sentence, .rag-figure blockquote { margin: 4px 0; padding: 2px 6px; font-size: 0.9em;
  border-left: 3px solid var(--border-color-primary); }
.rag-tl-svg { width: 100%; height: auto; display: block; }
.rag-tl-axis { stroke: var(--body-text-color-subdued); stroke-width: 1.5; }
.rag-tl-tick { stroke: var(--body-text-color-subdued); stroke-width: 1; }
.rag-tl-label { fill: var(--body-text-color-subdued); font-size: 11px; font-family: inherit; }
.rag-tl-dot { fill: #2563eb; stroke: #1e3a8a; stroke-width: 1; }
.rag-tl-dot.rag-tl-resolved { fill: #fde68a; stroke: #b45309; }
.rag-tl-list { list-style: none; padding-left: 0; margin: 8px 0 0; }
.rag-tl-event { margin: 6px 0 10px; }
.rag-tl-event:target { outline: 2px solid var(--color-accent); border-radius: 4px; }
.rag-tl-when { font-weight: 700; }
.rag-tl-phrase, .rag-tl-worked { color: var(--body-text-color-subdued); font-size: 0.85em; }
.rag-diff { border-top: 1px solid var(--border-color-primary); padding: 6px 0 8px; }
.rag-diff-head { margin-bottom: 4px; }
.rag-diff-about { color: var(--body-text-color-subdued); font-size: 0.9em; }
.rag-figures { list-style: none; padding-left: 0; margin: 0; display: flex; gap: 12px; flex-wrap: wrap; }
.rag-figure { flex: 1 1 300px; }
.rag-figure-value { font-weight: 700; }
"""


# ---- small pieces ----

def where(line) -> str:
    """'Washington Examiner · Xi Jinping says … · 2023-03-20' (publisher, title, date; missing ones left out), escaped."""
    return " · ".join(esc(x) for x in (line.publisher, line.title, line.date) if x)


def empty(reason: str) -> str:
    """An empty view: one line saying why ('Nothing to list: the index holds no articles.')."""
    return f'<div class="rag-empty rag-desk-empty">Nothing to list: {esc(reason)}.</div>'


def nice_date(when: str, precision: str) -> str:
    """('2019-06-05', 'day') -> '5 June 2019'; ('2023-03', 'month') -> 'March 2023'; ('2010', 'year') -> '2010'."""
    parts = when.split("-")
    try:
        if precision == "day" and len(parts) == 3:
            return f"{int(parts[2])} {MONTHS[int(parts[1]) - 1]} {parts[0]}"
        if precision == "month" and len(parts) >= 2:
            return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    except (ValueError, IndexError):
        pass
    return when


def day_of(when: str) -> date | None:
    """Where an event sits on the time axis: a day as itself, a month at its 15th, a year at 1 July.
    '2023-03' -> date(2023, 3, 15); 'soon' -> None"""
    parts = when.split("-")
    try:
        if len(parts) == 3:
            return date(int(parts[0]), int(parts[1]), int(parts[2]))
        if len(parts) == 2:
            return date(int(parts[0]), int(parts[1]), 15)
        return date(int(parts[0]), 7, 1)
    except ValueError:
        return None


# ---- Quotes ----

def speaker_choices(quotes: Sequence) -> list[tuple[str, str]]:
    """The speaker filter: 'All speakers (25)' then each speaker with their count, most quoted first."""
    counts = Counter(q.speaker for q in quotes)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].casefold()))
    return [(f"All speakers ({len(quotes)})", ANY)] + [(f"{name} ({n})", name) for name, n in ranked]


def article_choices(quotes: Sequence) -> list[tuple[str, str]]:
    """The article filter: 'All articles' then each article that quotes someone, with its count."""
    counts: Counter = Counter()
    titles: dict[str, str] = {}
    for q in quotes:
        counts[q.line.doc_id] += 1
        titles.setdefault(q.line.doc_id, " · ".join(x for x in (q.line.publisher, q.line.title) if x) or q.line.doc_id)
    return [("All articles", ANY)] + [(f"{titles[d]} ({n})", d) for d, n in
                                      sorted(counts.items(), key=lambda kv: titles[kv[0]].casefold())]


def render_quotes(quotes: Sequence, reason: str = "") -> str:
    """The quotes table: speaker (and role), the exact sentence, article, publisher, date; each row opens its
    article in the source panel (data-doc and data-offset say which sentence)."""
    if not quotes:
        return empty(reason or "no statement to list")
    speakers = len({q.speaker for q in quotes})
    head = "".join(f"<th>{h}</th>" for h in ("Speaker", "Quote", "Article", "Publisher", "Date", ""))
    rows = []
    for q in quotes:
        line = q.line
        role = f'<div class="rag-role">{esc(q.role)}</div>' if q.role else ""
        rows.append(
            f'<tr class="rag-quote-row" data-doc="{esc(line.doc_id)}" data-offset="{int(line.offset)}" tabindex="0">'
            f'<td class="rag-speaker"><strong>{esc(q.speaker)}</strong>{role}</td>'
            f'<td class="rag-quote">{esc(line.text)}</td><td class="rag-title">{esc(line.title)}</td>'
            f"<td>{esc(line.publisher)}</td><td>{esc(line.date)}</td>"
            f'<td><button type="button" class="rag-show">show</button></td></tr>')
    count = (f'<div class="rag-desk-count">{len(quotes)} statement{"s" if len(quotes) != 1 else ""} by {speakers} '
             f'speaker{"s" if speakers != 1 else ""} · click one to read it in its article</div>')
    return (f'{count}<table class="rag-desk-table rag-quotes-table"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def sentence_span(text: str, offset: int, sentence: str) -> tuple[int, int] | None:
    """Where `sentence` is in the article `text`: at `offset` when it is there, else its first occurrence."""
    if not sentence:
        return None
    if text[offset:offset + len(sentence)] != sentence:
        offset = text.find(sentence)
    return (offset, offset + len(sentence)) if offset >= 0 else None


def render_source(article=None, quote=None, note: str = "") -> str:
    """The source panel: the article's title, publisher and date, who is quoted, and the article's text with the
    statement's exact sentence in <mark> (the panel scrolls it into view)."""
    if article is None or quote is None:
        return f'<div class="rag-empty">{esc(note or "Click a statement to read it in its article.")}</div>'
    span = sentence_span(article.text, quote.line.offset, quote.line.text)
    role = f", {esc(quote.role)}" if quote.role else ""
    meta = " · ".join(esc(x) for x in (article.publisher, article.date) if x)
    missing = "" if span else '<div class="rag-desk-note">The sentence is no longer in this article.</div>'
    return (f'<section class="rag-desk-source" data-doc="{esc(article.doc_id)}">'
            f'<div class="rag-title">{esc(article.title)}</div><div class="rag-meta">{meta}</div>'
            f'<div class="rag-desk-note">Said by <strong>{esc(quote.speaker)}</strong>{role}</div>{missing}'
            f'<blockquote class="rag-passage">{highlight(article.text, [span] if span else [])}</blockquote></section>')


# ---- Coverage ----

def render_coverage(topic: str, rows: Sequence, reason: str = "") -> str:
    """One card per article, side by side: publisher · title · date, then each exact sentence in quotes."""
    if not topic.strip():
        return '<div class="rag-empty">Type a topic to see what each article says of it.</div>'
    if not rows:
        return empty(reason or "no article has a sentence about that topic")
    cards = []
    for c in rows:
        head = " · ".join(x for x in (
            f'<span class="rag-cov-publisher">{esc(c.publisher)}</span>' if c.publisher else "",
            f'<span class="rag-title">{esc(c.title)}</span>' if c.title else "",
            f'<span class="rag-cov-date">{esc(c.date)}</span>' if c.date else "") if x)
        lines = "".join(f'<li data-offset="{int(line.offset)}">“<span class="rag-sentence">{esc(line.text)}</span>”</li>'
                        for line in c.lines)
        cards.append(f'<article class="rag-cov-card" data-doc="{esc(c.doc_id)}"><div class="rag-cov-head">{head}</div>'
                     f'<ul class="rag-cov-lines">{lines}</ul></article>')
    return (f'<div class="rag-desk-count">{len(rows)} article{"s" if len(rows) != 1 else ""} on “{esc(topic.strip())}”'
            f'</div><div class="rag-cov-grid">{"".join(cards)}</div>')


# ---- Timeline ----

SVG_WIDTH, SVG_PAD, DOT_R = 900, 40, 5


def _ticks(first: date, last: date) -> list[tuple[date, str]]:
    """Labelled ticks between two days: years over a long span, months over a shorter one, days over weeks."""
    span = (last - first).days
    if span > 3 * 366:
        step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100) if span / 365.25 / s <= 12)
        return [(date(y, 1, 1), str(y)) for y in range(first.year, last.year + 1)
                if y % step == 0 and first <= date(y, 1, 1) <= last]
    if span > 45:
        months = span / 30.4
        step = next(s for s in (1, 2, 3, 6, 12) if months / s <= 12)
        out, y, m = [], first.year, first.month
        while date(y, m, 1) <= last:
            if date(y, m, 1) >= first and (m - 1) % step == 0:
                out.append((date(y, m, 1), f"{MONTHS[m - 1][:3]} {y}"))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out
    step = next(s for s in (1, 2, 7, 14, 30) if (span + 1) / s <= 12)
    return [(date.fromordinal(d), f"{date.fromordinal(d).day} {MONTHS[date.fromordinal(d).month - 1][:3]}")
            for d in range(first.toordinal(), last.toordinal() + 1, step)]


def render_timeline_svg(events: Sequence) -> str:
    """A horizontal time axis, a dot per event at its date (events on one day stack upwards), labelled ticks.
    Each dot links to its event in the list below; a date worked out from the article's date is a hollow dot."""
    days = [day_of(e.when) for e in events]
    placed = [(i, d) for i, d in enumerate(days) if d is not None]
    if not placed:
        return ""
    lo, hi = min(d for _, d in placed), max(d for _, d in placed)
    pad = max(3, round((hi.toordinal() - lo.toordinal()) * 0.04))
    first, last = date.fromordinal(lo.toordinal() - pad), date.fromordinal(hi.toordinal() + pad)
    width = SVG_WIDTH - 2 * SVG_PAD

    def x(d: date) -> float:
        return SVG_PAD + width * (d.toordinal() - first.toordinal()) / (last.toordinal() - first.toordinal())

    stack: Counter = Counter()
    dots = []
    for i, d in placed:
        cx = round(x(d), 1)
        level = stack[round(cx / (DOT_R * 2))]
        stack[round(cx / (DOT_R * 2))] += 1
        dots.append((i, cx, level))
    top = (max(level for _, _, level in dots) + 1) * (DOT_R * 2 + 2) + 10
    axis_y = top + 4
    height = axis_y + 30
    out = [f'<svg class="rag-tl-svg" viewBox="0 0 {SVG_WIDTH} {height}" role="img" '
           f'aria-label="Timeline of {len(placed)} dated events" xmlns="http://www.w3.org/2000/svg">',
           f'<line class="rag-tl-axis" x1="{SVG_PAD}" y1="{axis_y}" x2="{SVG_WIDTH - SVG_PAD}" y2="{axis_y}"/>']
    for d, label in _ticks(first, last):
        tx = round(x(d), 1)
        out.append(f'<line class="rag-tl-tick" x1="{tx}" y1="{axis_y - 4}" x2="{tx}" y2="{axis_y + 4}"/>'
                   f'<text class="rag-tl-label" x="{tx}" y="{axis_y + 18}" text-anchor="middle">{esc(label)}</text>')
    for i, cx, level in dots:
        e = events[i]
        cy = axis_y - DOT_R - 3 - level * (DOT_R * 2 + 2)
        resolved = " rag-tl-resolved" if e.resolved else ""
        tip = f"{nice_date(e.when, e.precision)}: {e.line.text}"
        out.append(f'<a href="#rag-ev-{i}"><circle class="rag-tl-dot{resolved}" cx="{cx}" cy="{cy}" r="{DOT_R}" '
                   f'data-when="{esc(e.when)}"><title>{esc(tip)}</title></circle></a>')
    out.append("</svg>")
    return "".join(out)


def render_timeline(events: Sequence, reason: str = "") -> str:
    """The chart, then the events oldest first: date, the date words as written, the sentence, the article;
    a date worked out from the article's date says so."""
    if not events:
        return empty(reason or "no dated event")
    items = []
    for i, e in enumerate(events):
        worked = (f' <span class="rag-tl-worked">(worked out from the article’s date, {esc(e.line.date)})</span>'
                  if e.resolved else "")
        items.append(
            f'<li class="rag-tl-event" id="rag-ev-{i}" data-when="{esc(e.when)}">'
            f'<span class="rag-tl-when">{esc(nice_date(e.when, e.precision))}</span> '
            f'<span class="rag-tl-phrase">“{esc(e.phrase)}”</span>{worked}'
            f'<div class="rag-tl-sentence">{highlight(e.line.text, _phrase_spans(e.line.text, e.phrase))}</div>'
            f'<div class="rag-meta">{where(e.line)}</div></li>')
    count = (f'<div class="rag-desk-count">{len(events)} dated event{"s" if len(events) != 1 else ""}, oldest first ·'
             f'<span class="rag-tl-key"></span>date written in the sentence'
             f'<span class="rag-tl-key rag-tl-resolved"></span>worked out from the article’s date</div>')
    return f'{count}{render_timeline_svg(events)}<ol class="rag-tl-list">{"".join(items)}</ol>'


def _phrase_spans(sentence: str, phrase: str) -> list[tuple[int, int]]:
    at = sentence.find(phrase) if phrase else -1
    return [(at, at + len(phrase))] if at >= 0 else []


# ---- Differences ----

def render_differences(rows: Sequence, reason: str = "") -> str:
    """Per difference: the unit and the words the sentences share, then each article's figure and sentence."""
    if not rows:
        return empty(reason or "no two articles give different figures for the same thing")
    out = []
    for d in rows:
        figures = "".join(
            f'<li class="rag-figure" data-doc="{esc(f.line.doc_id)}"><div class="rag-figure-value">{esc(f.value)}</div>'
            f'<div class="rag-meta">{where(f.line)}</div>'
            f'<blockquote>{highlight(f.line.text, _phrase_spans(f.line.text, f.value))}</blockquote></li>'
            for f in d.figures)
        out.append(f'<section class="rag-diff"><div class="rag-diff-head"><strong>{esc(d.unit)}</strong> '
                   f'<span class="rag-diff-about">· about: {esc(d.about)}</span></div>'
                   f'<ul class="rag-figures">{figures}</ul></section>')
    count = (f'<div class="rag-desk-count">{len(rows)} figure{"s" if len(rows) != 1 else ""} the articles give '
             f'differently</div>')
    return count + "".join(out)


# ---- export ----

def export_files(rows: Sequence, name: str, title: str, folder: Path) -> tuple[str | None, str | None]:
    """The rows as `name`.csv and `name`.md (exact sentences and where they are) in a folder named by their
    content, so showing the same rows again writes nothing new; (None, None) for no rows."""
    if not rows:
        return None, None
    recs = records(rows)
    csv_text, md_text = to_csv(recs), to_markdown(recs, title)
    digest = hashlib.sha256((title + "\0" + csv_text).encode("utf-8")).hexdigest()[:16]
    target = Path(folder) / f"{name}-{digest}"
    target.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = target / f"{name}.csv", target / f"{name}.md"
    csv_path.write_text(csv_text, encoding="utf-8")
    md_path.write_text(md_text, encoding="utf-8")
    return str(csv_path), str(md_path)


# ---- what each tab shows (no Gradio: tests call these directly) ----

@dataclass
class View:
    html: str
    rows: list = field(default_factory=list)
    csv: str | None = None
    markdown: str | None = None
    seconds: float = 0.0
    speakers: list[tuple[str, str]] = field(default_factory=list)  # the Quotes filters' choices
    articles: list[tuple[str, str]] = field(default_factory=list)
    filters: tuple[str, str, str] = (ANY, ANY, "")  # the Quotes filters as applied (a gone speaker is dropped)


class Views:
    """Each tab's content from a Desk, read from the index in use each time (the Desk remembers its views per
    index build, so this is cheap, and an added or removed article shows at the next read)."""

    def __init__(self, desk: Any, exports: Path):
        self.desk = desk
        self.exports = Path(exports)

    def _articles(self) -> int:
        return len(getattr(getattr(getattr(self.desk, "pipeline", None), "index", None), "articles", {}) or {})

    def _passages(self) -> int:
        try:
            return len(self.desk.pipeline.index.chunks)
        except AttributeError:
            return 1  # a desk without a pipeline (a test's): say why the view is empty, not "no articles"

    def _done(self, view: View, rows: list, name: str, title: str, started: float) -> View:
        view.rows = rows
        view.csv, view.markdown = export_files(rows, name, title, self.exports)
        view.seconds = time.perf_counter() - started
        return view

    def quotes(self, speaker: str = ANY, article: str = ANY, word: str = "") -> View:
        started = time.perf_counter()
        every = self.desk.quotes()
        speakers, articles = speaker_choices(every), article_choices(every)
        speaker = "" if speaker in (None, ANY) else speaker
        article = "" if article in (None, ANY) else article
        word = (word or "").strip()
        if speaker and speaker not in {v for _, v in speakers}:
            speaker = ""  # a speaker whose statements went with a removed article
        if article and article not in {v for _, v in articles}:
            article = ""
        filtered = bool(speaker or article or word)
        rows = self.desk.quotes(speaker=speaker, article=article, word=word) if filtered else every
        if not rows and every:
            said = ", ".join(f"{k} “{v}”" for k, v in (("speaker", speaker), ("article", article), ("word", word)) if v)
            reason = f"no statement matches {said}"
        else:
            reason = empty_reason("quotes", self._passages())
        title = "Quotes" + (" — " + ", ".join(x for x in (speaker, article, word) if x) if filtered else "")
        view = View(render_quotes(rows, reason), speakers=speakers, articles=articles,
                    filters=(speaker or ANY, article or ANY, word))
        return self._done(view, rows, "quotes", title, started)

    def source(self, doc_id: str, offset: int) -> str:
        """The source panel for the statement at `offset` of article `doc_id`."""
        quote = next((q for q in self.desk.quotes() if q.line.doc_id == doc_id and q.line.offset == offset), None)
        article = self.desk.article(doc_id) if quote else None
        if quote is None or article is None:
            return render_source(note="That statement is no longer in the articles: the index has changed.")
        return render_source(article, quote)

    def coverage(self, topic: str) -> View:
        started = time.perf_counter()
        topic = (topic or "").strip()
        rows = self.desk.coverage(topic) if topic else []
        html = render_coverage(topic, rows, empty_reason("coverage", self._passages()))
        return self._done(View(html), rows, "coverage", f"Coverage: {topic}", started)

    def timeline(self) -> View:
        started = time.perf_counter()
        rows = self.desk.timeline()
        return self._done(View(render_timeline(rows, empty_reason("timeline", self._passages()))), rows,
                          "timeline", "Timeline", started)

    def differences(self) -> View:
        started = time.perf_counter()
        rows = self.desk.differences()
        return self._done(View(render_differences(rows, empty_reason("differences", self._passages(), self._articles()))), rows,
                          "differences", "Differences", started)


# ---- the tabs ----

def add_desk_tabs(gr, desk: Any, exports: Path) -> None:
    """Quotes, Coverage, Timeline and Differences tabs, inside the caller's `gr.Tabs` (and gr.Blocks); hidden
    when there is no desk. Each reads the index in use when its tab is selected or its filters change."""
    views = Views(desk, exports) if desk is not None else None
    visible = desk is not None
    private = dict(api_visibility="private", show_progress="hidden")

    def failed(e: Exception) -> str:
        log.exception("a desk view failed")
        return f'<div class="rag-error">Something went wrong reading this view ({esc(type(e).__name__)}).</div>'

    def downloads(view: View):
        return (gr.DownloadButton(value=view.csv, interactive=view.csv is not None),
                gr.DownloadButton(value=view.markdown, interactive=view.markdown is not None))

    def show_quotes(speaker: str, article: str, word: str):
        try:
            view = views.quotes(speaker, article, word)
        except Exception as e:
            return gr.skip(), gr.skip(), failed(e), gr.skip(), gr.skip()
        speaker, article, _ = view.filters
        return (gr.Dropdown(choices=view.speakers, value=speaker), gr.Dropdown(choices=view.articles, value=article),
                view.html, *downloads(view))

    def show_source(evt: gr.EventData):
        data = evt._data if isinstance(getattr(evt, "_data", None), dict) else {}
        try:
            doc, offset = str(data.get("doc") or ""), int(data.get("offset"))
        except (TypeError, ValueError):
            return gr.skip()
        try:
            return views.source(doc, offset)
        except Exception as e:
            return failed(e)

    def show_coverage(topic: str):
        try:
            view = views.coverage(topic)
        except Exception as e:
            return failed(e), gr.skip(), gr.skip()
        return view.html, *downloads(view)

    def show_timeline():
        try:
            view = views.timeline()
        except Exception as e:
            return failed(e), gr.skip(), gr.skip()
        return view.html, *downloads(view)

    def show_differences():
        try:
            view = views.differences()
        except Exception as e:
            return failed(e), gr.skip(), gr.skip()
        return view.html, *downloads(view)

    def buttons(name: str):
        with gr.Row():
            csv = gr.DownloadButton("Download CSV", value=None, interactive=False, size="sm", elem_id=f"rag-{name}-csv")
            md = gr.DownloadButton("Download Markdown", value=None, interactive=False, size="sm",
                                   elem_id=f"rag-{name}-md")
        return csv, md

    with gr.Tab("Quotes", id="quotes", elem_id="rag-quotes-tab", visible=visible) as quotes_tab:
        with gr.Row():
            speaker = gr.Dropdown([("All speakers", ANY)], value=ANY, label="Speaker", scale=2,
                                  elem_id="rag-quotes-speaker")
            article = gr.Dropdown([("All articles", ANY)], value=ANY, label="Article", scale=3,
                                  elem_id="rag-quotes-article")
            word = gr.Textbox(label="Word", placeholder="a word or phrase in the quote", scale=2,
                              elem_id="rag-quotes-word")
        with gr.Row():
            with gr.Column(scale=3):
                quotes_html = gr.HTML('<div class="rag-empty">Reading the quotes …</div>', elem_id="rag-quotes",
                                      js_on_load=ROW_CLICK_JS, max_height=640)
                q_csv, q_md = buttons("quotes")
            with gr.Column(scale=2):
                source = gr.HTML(render_source(), elem_id="rag-quotes-source", js_on_load=SCROLL_JS, max_height=640)
    with gr.Tab("Coverage", id="coverage", elem_id="rag-coverage-tab", visible=visible) as coverage_tab:
        with gr.Row():
            topic = gr.Textbox(label="Topic", placeholder="a topic: Ukraine, trade, Taiwan …", scale=5,
                               elem_id="rag-coverage-topic")
            topic_btn = gr.Button("Show coverage", variant="primary", scale=1, min_width=120,
                                  elem_id="rag-coverage-go")
        coverage_html = gr.HTML(render_coverage("", []), elem_id="rag-coverage", js_on_load=None)
        c_csv, c_md = buttons("coverage")
    with gr.Tab("Timeline", id="timeline", elem_id="rag-timeline-tab", visible=visible) as timeline_tab:
        timeline_html = gr.HTML('<div class="rag-empty">Reading the dates …</div>', elem_id="rag-timeline",
                                js_on_load=None)
        t_csv, t_md = buttons("timeline")
    with gr.Tab("Differences", id="differences", elem_id="rag-differences-tab", visible=visible) as differences_tab:
        differences_html = gr.HTML('<div class="rag-empty">Reading the figures …</div>', elem_id="rag-differences",
                                   js_on_load=None)
        d_csv, d_md = buttons("differences")

    if views is None:
        return
    filters, quote_outputs = [speaker, article, word], [speaker, article, quotes_html, q_csv, q_md]
    quotes_tab.select(show_quotes, filters, quote_outputs, **private)
    speaker.input(show_quotes, filters, quote_outputs, **private)
    article.input(show_quotes, filters, quote_outputs, **private)
    word.change(show_quotes, filters, quote_outputs, **private)  # typed, pasted or filled: any change
    quotes_html.click(show_source, None, source, **private)
    coverage_outputs = [coverage_html, c_csv, c_md]
    coverage_tab.select(show_coverage, topic, coverage_outputs, **private)
    topic.submit(show_coverage, topic, coverage_outputs, **private)
    topic_btn.click(show_coverage, topic, coverage_outputs, **private)
    timeline_tab.select(show_timeline, None, [timeline_html, t_csv, t_md], **private)
    differences_tab.select(show_differences, None, [differences_html, d_csv, d_md], **private)
