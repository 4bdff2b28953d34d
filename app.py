"""The web chat: turns chat events into `engine.stream` calls and renders the `rag.Answer` it returns.

    python app.py [--host 127.0.0.1] [--port 7860] [--share]     (any other host, or --share: RAG_PASSWORD is required)

Retrieval, prompting, rewriting follow-ups and the citation rules live in `rag`; this file only
renders what a rag.Answer holds. Build the page with `create_app(engine)`, serve it with `launch()`.
Everything from a user or an article is escaped here before it reaches a page.
"""
import argparse
import html
import logging
import os
import queue
import re
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import rag
from rag.cite import MARKER  # the one marker pattern: '[1]' and '[1, 2]' alike
from rag.terms import marker_numbers

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
K_MAX = 8  # the passages slider goes 1..K_MAX
ENGINE_SLOTS = 8  # questions handled at once by the web chat and /ask (generation still one at a time)
SHOWN_QUESTION_CHARS = 300  # a pasted essay is shown cut; the engine still gets all of it (and says why it refuses)
EXAMPLES = [
    "What did Kirby say?",
    "How much did China's exports to Russia grow in April?",
    "What did Blinken call a peace plan without a troop withdrawal?",
    "How many times have Xi and Putin met since 2010?",
    "Who won the 2022 World Cup?",  # not in the articles: shows a refusal
]
SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Arial", "sans-serif"]
SYSTEM_MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")  # serving anywhere else needs a password (the page writes to disk)
UPLOAD_TYPES = [".txt", ".md", ".html", ".htm"]
MAX_UPLOAD = "50mb"  # Gradio refuses bigger uploads outright; rag.library reports anything over its 5 MB limit
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:])")


# ---- rendering: pure functions from strings and Answers to the page's HTML/Markdown ----


def as_text(s: str) -> str:
    """Text that the chat's Markdown renderer shows as typed: '<b>*hi*</b>' -> '&lt;b&gt;\\*hi\\*&lt;/b&gt;'."""
    return html.escape(_MARKDOWN_SPECIALS.sub(r"\\\1", s), quote=True)


def esc(s: str) -> str:
    """Text for raw HTML: html.escape, plus '$' so no template syntax survives: '${x}<' -> '&#36;{x}&lt;'."""
    return html.escape(s, quote=True).replace("$", "&#36;")


def show_question(question: str) -> str:
    """The user's bubble: escaped, and cut when huge ('x' * 100000 -> 300 x's + '… (100,000 characters)')."""
    if len(question) <= SHOWN_QUESTION_CHARS:
        return as_text(question)
    return as_text(question[:SHOWN_QUESTION_CHARS]) + f" … *({len(question):,} characters)*"


def source_id(turn: int, n: int) -> str:
    """Anchor of passage [n] of the turn-th answer in the Sources panel: (2, 1) -> 'src-2-1'."""
    return f"src-{turn}-{n}"


def render_text(text: str, turn: int, cited: set[int] | None = None) -> str:
    """Answer text with its [n] markers as links to the Sources panel; everything else escaped.
    ('Kirby <i>said</i> [1].', turn=2, cited={1}) -> 'Kirby &lt;i&gt;said&lt;/i&gt; <a ... href="#src-2-1">[1]</a>\\.'
    `cited=None` (while streaming, before the citations are known) links every marker."""
    out, pos = [], 0
    for m in MARKER.finditer(text):
        out.append(as_text(text[pos : m.start()]))
        for n in marker_numbers(m.group(1)):  # '[1, 2]' -> links [1][2]
            if cited is None or n in cited:
                out.append(f'<a class="rag-cite" href="#{source_id(turn, n)}">[{n}]</a>')
            else:
                out.append(as_text(f"[{n}]"))
        pos = m.end()
    out.append(as_text(text[pos:]))
    return "".join(out)


def render_partial(text: str, turn: int) -> str:
    """The bubble while the answer streams in."""
    return render_text(text, turn) + " …"


def render_reading(passages: int) -> str:
    """The bubble from retrieval to the first token: 4 -> '*Reading 4 passages …*'."""
    return f"*Reading {passages} passage{'s' if passages != 1 else ''} …*"


def render_waiting(ahead: int) -> str:
    """The bubble while a question waits for the model: 2 -> '*Waiting for the model: 2 questions ahead …*'."""
    return f"*Waiting for the model: {ahead} question{'s' if ahead != 1 else ''} ahead …*"


def render_timings(answer: rag.Answer) -> str:
    """{'retrieve': 0.12, 'first_token': 1.3, 'total': 4.2}, model 'm'
    -> 'retrieval 0.12 s · first token 1.30 s · total 4.20 s · m'."""
    names = (("retrieve", "retrieval"), ("first_token", "first token"), ("total", "total"))
    parts = [f"{label} {answer.timings[key]:.2f} s" for key, label in names if key in answer.timings]
    if answer.model:
        parts.append(esc(answer.model))
    return " · ".join(parts)


def is_rewritten(answer: rag.Answer, typed: str) -> bool:
    """True when the engine searched something other than what was typed (a rewritten follow-up)."""
    norm = lambda s: " ".join(s.split()).casefold()  # noqa: E731
    return bool(answer.searched) and norm(answer.searched) != norm(typed)


def render_reply(answer: rag.Answer, turn: int, typed: str) -> str:
    """The finished bubble: answer (or refusal), 'Searched: …' when it differs or on refusal, timings."""
    if answer.refused:
        said = answer.text.strip()
        if said.casefold().startswith(rag.REFUSAL.casefold().rstrip(".")):
            body = f'<strong class="rag-refusal">{as_text(said)}</strong>'
        else:
            body = f'<strong class="rag-refusal">{as_text(rag.REFUSAL)}</strong> ' + as_text(said)
    else:
        body = render_text(answer.text, turn, {c.n for c in answer.citations})
    lines = [body]
    why = refusal_reason(answer)
    if why:
        lines.append(f'<span class="rag-reason">Why: {as_text(why)}</span>')
    elif getattr(answer, "note", ""):  # beside an answer: a part of the question the articles do not answer
        lines.append(f'<span class="rag-note">{as_text(answer.note)}</span>')
    if answer.refused or is_rewritten(answer, typed):
        lines.append(f'<span class="rag-searched">Searched: “{as_text(answer.searched or typed)}”</span>')
    if getattr(answer, "scope", ""):
        lines.append(f'<span class="rag-scope">Searched {as_text(answer.scope)}</span>')
    timings = render_timings(answer)
    if timings:
        lines.append(f'<small class="rag-timings">{timings}</small>')
    return "\n\n".join(lines)


def refusal_reason(answer: rag.Answer) -> str:
    """Why a refusal is one, in words: ('not_in_corpus', 'No article mentions “FIFA”.') ->
    'the question names something no article mentions. No article mentions “FIFA”.'; '' for an answer."""
    if not answer.refused:
        return ""
    from rag.refusal import explain

    said = explain(getattr(answer, "reason", "") or "")
    note = getattr(answer, "note", "") or ""
    return " ".join(x for x in (f"{said}." if said else "", note) if x)


def render_error(message: str) -> str:
    """A RagError (empty, too long, model missing...) as the assistant's bubble."""
    return f'<strong class="rag-error">{as_text(message[:1].upper() + message[1:])}</strong>'


def highlight(text: str, spans: list[tuple[int, int]]) -> str:
    """Escape text, wrapping each (start, end) span in <mark>: ('a <b> c', [(2, 5)]) -> 'a <mark>&lt;b&gt;</mark> c'.
    Overlapping spans merge."""
    out, pos = [], 0
    for start, end in sorted(spans):
        start = max(start, pos)
        if end <= start:
            continue
        out += [esc(text[pos:start]), "<mark>", esc(text[start:end]), "</mark>"]
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out)


def quote_span(citation: rag.Citation) -> tuple[int, int] | None:
    """Where the quote sits in its chunk: at quote_start when it matches there, else its first occurrence."""
    text, quote = citation.chunk.text, citation.quote
    if not quote:
        return None
    start = citation.quote_start
    if text[start : start + len(quote)] != quote:
        start = text.find(quote)
    return (start, start + len(quote)) if start >= 0 else None


def render_sources(answer: rag.Answer, turn: int, typed: str) -> str:
    """One answer's part of the Sources panel: per cited passage its title, publisher, date, score,
    and the passage with the quoted sentence in <mark>; for a refusal, what was searched."""
    head = _question_head(turn, typed)
    searched = f'<div class="rag-searched">Searched: “{esc(answer.searched or typed)}”</div>'
    if answer.refused:
        closest = "".join(
            f"<li>{esc(h.chunk.title)} <span class='rag-score'>similarity {h.similarity:.2f}</span></li>"
            for h in answer.hits
        )
        more = f"<details><summary>Closest passages</summary><ul>{closest}</ul></details>" if closest else ""
        reason = refusal_reason(answer)
        why = f'<div class="rag-reason">Why: {esc(reason)}</div>' if reason else ""
        return (
            f'<section class="rag-answer rag-refused" id="ans-{turn}">{head}'
            f'<div class="rag-refusal">{esc(rag.REFUSAL)}</div>{why}{searched}{more}</section>'
        )
    by_n: dict[int, list[rag.Citation]] = {}
    for c in answer.citations:
        by_n.setdefault(c.n, []).append(c)
    items = []
    for n, cites in sorted(by_n.items()):
        hit = answer.hits[n - 1] if 0 < n <= len(answer.hits) else None
        spans = [s for s in map(quote_span, cites) if s]
        items.append(_source_item(n, cites[0].chunk, hit, spans, f'class="rag-source" id="{source_id(turn, n)}"'))
    body = f'<ol class="rag-sources">{"".join(items)}</ol>' if items else '<div>No passage cited.</div>'
    return (
        f'<section class="rag-answer" id="ans-{turn}">{head}'
        f"{searched if is_rewritten(answer, typed) else ''}{body}</section>"
    )


def render_evidence(evidence: rag.Evidence, turn: int, typed: str) -> str:
    """The Sources panel's part for an answer still being read: every passage the model reads, [n] as it will be
    cited, with the sentence that best matches the question in <mark> (replaced by the cited sources when the
    answer is checked)."""
    items = [_source_item(n, hit.chunk, hit, [(start, end)] if end > start else [],
                          'class="rag-source rag-reading-source"')
             for n, (hit, (start, end)) in enumerate(zip(evidence.hits, evidence.best), 1)]
    return (f'<section class="rag-answer rag-reading" id="ans-{turn}">{_question_head(turn, typed)}'
            f'<div class="rag-reading-note">{render_reading(len(items))}</div>'
            f'<ol class="rag-sources">{"".join(items)}</ol></section>')


def _question_head(turn: int, typed: str) -> str:
    """'<div class="rag-q">2. What did Kirby say?</div>', the question escaped and cut at 200 characters."""
    return f'<div class="rag-q">{turn}. {esc(typed if len(typed) <= 200 else typed[:200] + "…")}</div>'


def _source_item(n: int, chunk: rag.Chunk, hit: rag.Hit | None, spans: list[tuple[int, int]], attrs: str) -> str:
    """One passage of the Sources panel: [n], title, publisher · date · scores, the text with `spans` in <mark>.
    The scores are the question-passage cosine and the fused rank score of `hit` ('' without one)."""
    meta = " · ".join(esc(x) for x in (chunk.publisher, chunk.date) if x)
    score = f"similarity {hit.similarity:.2f} · rank score {hit.score:.3f}" if hit else ""
    return (f'<li {attrs}>'
            f'<div class="rag-source-head"><span class="rag-n">[{n}]</span> '
            f'<span class="rag-title">{esc(chunk.title)}</span></div>'
            f'<div class="rag-meta">{meta}{" · " if meta else ""}'
            f'<span class="rag-score">{score}</span></div>'
            f'<blockquote class="rag-passage">{highlight(chunk.text, spans)}</blockquote></li>')


def render_panel(sections: list[str]) -> str:
    """The Sources panel: every answer's sources, newest first (older bubbles' links keep working)."""
    if not sections:
        return '<div class="rag-empty">Sources of each answer appear here.</div>'
    return "".join(reversed(sections))


def render_summary(listing) -> str:
    """'**6 articles** · 58 passages · embedding model all-MiniLM-L6-v2 · index built 2026-11-23 21:40:02'"""
    n = len(listing.articles)
    built = listing.built.replace("T", " ")
    return (f"**{n} article{'s' if n != 1 else ''}** · {listing.passages} passages · embedding model "
            f"{as_text(listing.embed_model)} · index built {as_text(built)}")


def render_articles(listing) -> str:
    """The Articles tab's table, newest first; every cell escaped (titles and file names are anyone's text)."""
    head = "".join(f"<th>{h}</th>" for h in ("Title", "Publisher", "Date", "File", "Passages", "Id"))
    rows = "".join(
        f'<tr data-id="{esc(a.doc_id)}"><td><span class="rag-title">{esc(a.title)}</span>{_byline(a)}</td><td>{esc(a.publisher)}</td>'
        f"<td>{esc(a.date)}</td><td><code>{esc(a.file)}</code></td><td>{a.passages}</td>"
        f"<td><code>{esc(a.doc_id)}</code></td></tr>"
        for a in listing.articles
    )
    return f'<table class="rag-articles"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _byline(article) -> str:
    """'<div class="rag-byline">By Andrea Mitchell</div>' under the title, '' when the article names nobody."""
    byline = getattr(article, "byline", "")
    return f'<div class="rag-byline">By {esc(byline)}</div>' if byline else ""


def render_report(change) -> str:
    """Per file: added (with its passages), unchanged, or skipped with the reason; then what the index did."""
    items = []
    for f in change.files:
        extra = f" · {f.passages} passage{'s' if f.passages != 1 else ''}" if f.status == "added" else ""
        items.append(f'<li class="rag-file rag-{f.status}"><strong>{f.status}</strong> '
                     f"<code>{esc(f.name)}</code>: {esc(f.detail)}{extra}</li>")
    if change.removed:
        items.append(f'<li class="rag-file rag-removed"><strong>removed</strong> <code>{esc(change.removed)}</code>'
                     f": its file is deleted and it is no longer searched</li>")
    build = change.build
    done = (f'<div class="rag-build">Index updated: {build.chunks} passages, {build.embedded} embedded in '
            f"{build.seconds:.1f} s.</div>" if build else '<div class="rag-build">Index unchanged.</div>')
    return f'<ul class="rag-report">{"".join(items)}</ul>{done}'


def export_file(markdown: str, folder: Path) -> str:
    """Write one answer's Markdown to a fresh folder under `folder`, as answer.md (the name the browser saves)."""
    target = Path(tempfile.mkdtemp(dir=folder)) / "answer.md"
    target.write_text(markdown, encoding="utf-8")
    return str(target)


def password_for(host: str, share: bool, environ=os.environ) -> tuple[tuple[str, str] | None, str]:
    """(Gradio auth, '') or (None, why the server must not start). Local-only serving needs no password;
    any other address or a share link does, because the page adds and removes articles on this disk."""
    password = environ.get("RAG_PASSWORD", "")
    if host in LOCAL_HOSTS and not share:
        return ((environ.get("RAG_USER") or "rag", password) if password else None), ""
    if not password:
        where = "with --share" if share else f"on {host}"
        return None, (f"refusing to serve {where} without a password: set RAG_PASSWORD (and optionally RAG_USER, "
                      f"default 'rag'), since anyone reaching the page can add and remove articles")
    return (environ.get("RAG_USER") or "rag", password), ""


# ---- one question, start to finish (no Gradio here, so tests drive it directly) ----


@dataclass(frozen=True)
class Reply:
    """What the assistant's bubble shows so far; `answer` is set once, on the last Reply."""

    bubble: str
    answer: rag.Answer | None = None
    evidence: rag.Evidence | None = None  # the passages being read, on the Reply that first shows them


WAIT_POLL = 0.25  # seconds without a piece before the bubble says the question waits for the model


def reply(engine: Any, question: str, history: list[dict], k: int, turn: int,
          where: dict | None = None) -> Iterator[Reply]:
    """engine.stream -> a Reply per streamed piece, then the rendered Answer; a RagError becomes its message.
    `where` holds the filter fields (articles, publishers, since, until); a bad date is a RagError too.
    While nothing has come and the engine's model is busy with other questions, the bubble says how many
    are ahead (`engine.waiting()`: questions generating or waiting to)."""
    text, answered = "", False
    try:
        scope = {"where": rag.Filter(**where)} if where and any(where.values()) else {}
        waiting = getattr(engine, "waiting", None)
        for piece in _polled(engine.stream(question, history=history, k=k, **scope), WAIT_POLL):
            if piece is None:
                ahead = (waiting() - 1) if waiting and not text else 0
                if ahead > 0:
                    yield Reply(render_waiting(ahead))
            elif isinstance(piece, rag.Evidence):
                if not text:
                    yield Reply(render_reading(len(piece.hits)), evidence=piece)
            elif isinstance(piece, str):
                text += piece
                yield Reply(render_partial(text, turn))
            else:
                answered = True
                yield Reply(render_reply(piece, turn, question), answer=piece)
    except rag.RagError as e:  # QuestionError (empty, too long) and any other error a user can act on
        yield Reply(render_error(one_line(e)))
    except Exception as e:  # a bug: say so in the chat instead of leaving a half answer, keep the traceback
        log.exception("answering %r failed", question[:200])
        yield Reply(render_error(f"Something went wrong ({type(e).__name__}: {one_line(e)})."))
    else:
        if not answered:
            yield Reply(render_error("The engine returned no answer."))


def _polled(items: Iterator, every: float) -> Iterator:
    """The items of `items`, iterated in a thread of their own, with None whenever `every` seconds pass
    without one. Closing this generator (Clear, a closed tab) stops the iteration at its next item, which
    closes `items` in its own thread, so a cancelled answer stops generating."""
    box: queue.Queue = queue.Queue()
    stop = threading.Event()
    end = object()

    def run() -> None:
        try:
            for item in items:
                if stop.is_set():
                    break
                box.put((item, None))
        except BaseException as e:  # handed to the caller, raised there
            box.put((end, e))
            return
        finally:
            close = getattr(items, "close", None)
            if close:
                close()
        box.put((end, None))

    threading.Thread(target=run, name="answer", daemon=True).start()
    try:
        while True:
            try:
                item, error = box.get(timeout=every)
            except queue.Empty:
                yield None
                continue
            if item is end:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()


def one_line(e: BaseException) -> str:
    """An exception's message as one line: its first non-empty line, or its class name."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return lines[0] if lines else type(e).__name__


class Warmer:
    """Loads each model once in a background thread, so the page can say "loading" instead of hanging."""

    def __init__(self, load: Callable[[str], None]):
        self._load = load
        self._lock = threading.Lock()
        self._done: dict[str, threading.Event] = {}
        self._errors: dict[str, str] = {}

    def start(self, name: str) -> None:
        with self._lock:
            if name in self._done:
                return
            done = self._done[name] = threading.Event()
        threading.Thread(target=self._run, args=(name, done), name=f"warm-{name}", daemon=True).start()

    def _run(self, name: str, done: threading.Event) -> None:
        try:
            self._load(name)
        except Exception as e:  # shown on the page; the question itself will then raise the real error
            log.exception("loading %s failed", name)
            self._errors[name] = one_line(e)
        finally:
            done.set()

    def ready(self, name: str) -> bool:
        return name in self._done and self._done[name].is_set()

    def wait(self, name: str, timeout: float | None = None) -> bool:
        self.start(name)
        return self._done[name].wait(timeout)

    def status(self, name: str) -> str:
        """Markdown for the status line: loading / failed / loaded."""
        if not self.ready(name):
            return f"**Loading models** ({esc(name)})… questions wait until they are ready."
        if name in self._errors:
            return f"**Could not load {esc(name)}:** {esc(self._errors[name])}"
        return f"Models loaded ({esc(name)})."


# ---- the page ----

CSS = """
.rag-cite { font-weight: 600; text-decoration: none; color: var(--link-text-color); }
.rag-timings, .rag-meta, .rag-score { color: var(--body-text-color-subdued); font-size: 0.8em; }
.rag-searched { color: var(--body-text-color-subdued); font-style: italic; font-size: 0.9em; }
.rag-refusal { color: #b45309; }
.rag-error { color: #b91c1c; }
#rag-sources { max-height: 640px; overflow-y: auto; }
.rag-answer { border-top: 1px solid var(--border-color-primary); padding: 6px 0 10px; }
.rag-answer .rag-q { font-weight: 600; margin-bottom: 4px; }
.rag-sources { padding-left: 0; list-style: none; margin: 0; }
.rag-source { margin: 8px 0; padding: 4px 6px; }
.rag-meta .rag-score { font-size: 1em; }
.rag-source:target { outline: 2px solid var(--color-accent); border-radius: 4px; }
.rag-n { font-weight: 700; }
.rag-title { font-weight: 600; }
.rag-passage { margin: 4px 0 0; padding: 4px 8px; border-left: 3px solid var(--border-color-primary);
  font-size: 0.9em; white-space: pre-wrap; }
.rag-passage mark { background: #fde68a; color: inherit; padding: 0 1px; }
.rag-empty { color: var(--body-text-color-subdued); }
.rag-scope { color: var(--body-text-color-subdued); font-size: 0.9em; }
.rag-reason, .rag-note { color: var(--body-text-color-subdued); font-size: 0.9em; }
.rag-articles { width: 100%; border-collapse: collapse; font-size: 0.9em; }
.rag-articles th, .rag-articles td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--border-color-primary);
  vertical-align: top; }
.rag-articles code { font-size: 0.85em; word-break: break-all; }
.rag-report { list-style: none; padding-left: 0; margin: 4px 0; }
.rag-file.rag-added strong, .rag-file.rag-removed strong { color: #15803d; }
.rag-file.rag-skipped strong { color: #b91c1c; }
.rag-file.rag-unchanged strong { color: var(--body-text-color-subdued); }
.rag-build { color: var(--body-text-color-subdued); font-size: 0.9em; }
"""


def create_app(engine: Any, models: list[str] | None = None, examples: list[str] = EXAMPLES, library: Any = None,
               desk: Any = None):
    """The chat page around `engine` (a rag.Pipeline or a fake with the same methods). Serve it with launch().

    Starts loading the engine's model in the background right away. `models` fills the model
    dropdown (default: rag.available_models()). `library` (a rag.library.Library; made for a rag.Pipeline
    engine) adds the Articles tab and the search-within filters. `desk` (a rag.desk.views.Desk; made for a
    rag.Pipeline engine) adds the newsroom desk's tabs: Quotes, Coverage, Timeline, Differences."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    import desk_ui
    from rag.export import to_markdown

    if library is None and isinstance(engine, rag.Pipeline):
        from rag.library import Library

        library = Library(engine)
    if desk is None and isinstance(engine, rag.Pipeline):
        from rag.desk.views import Desk

        desk = Desk(engine)
    exports = Path(tempfile.mkdtemp(prefix="rag-export-"))

    default_model = _model_name(engine)
    if models is None:
        models = list(rag.available_models())
    choices = list(dict.fromkeys([default_model, *models])) if default_model else list(models)
    default_model = default_model or (choices[0] if choices else "")

    def pipeline(model: str) -> Any:
        if not model or model == default_model:
            return engine
        if model not in choices:  # over the web only what the page offers: no probing paths, no pipeline per string
            raise rag.ModelError(f"that model is not offered here; choose one of: {', '.join(choices)}")
        return engine.with_model(model)

    warmer = Warmer(lambda model: pipeline(model).warm())
    warmer.start(default_model)

    # Only generation is serialized: in-process by the generator's own lock, by the server's queue with
    # RAG_LLM_URL. Searches and refusals decided before the model run beside it instead of queueing.
    slots = ENGINE_SLOTS

    def clamp(k: float) -> int:
        return max(1, min(K_MAX, int(k)))

    # Step 1, instant and outside the queue: show the question, lock the box. Empty -> nothing happens.
    def take(message: str, chat: list[dict]):
        if not message or not message.strip():
            raise gr.Error("empty message", visible=False, print_exception=False)  # stops the .success chain
        chat = chat + [{"role": "user", "content": show_question(message)}]
        return gr.Textbox(value="", interactive=False), chat, chat, message

    def take_example(chat: list[dict], evt: gr.SelectData):
        return take(evt.value["text"] if isinstance(evt.value, dict) else str(evt.value), chat)

    # Step 2, queued one at a time with the API (the model runs one generation at a time).
    def answer(question: str, chat: list[dict], turns: list[dict], sections: list[str], model: str, k: float,
               articles: list[str] | None = None, publishers: list[str] | None = None, since: str = "",
               until: str = ""):
        chat = chat + [{"role": "assistant", "content": ""}]
        if not warmer.ready(model):
            chat[-1] = {"role": "assistant", "content": "*" + warmer.status(model) + "*"}
            yield chat, chat, turns, sections, gr.skip(), gr.skip()
            warmer.wait(model)
        turn = len(sections) + 1
        where = {"articles": tuple(articles or ()), "publishers": tuple(publishers or ()),
                 "since": (since or "").strip(), "until": (until or "").strip()}
        for r in reply(pipeline(model), question, turns, clamp(k), turn, where):
            chat[-1] = {"role": "assistant", "content": r.bubble}
            if r.evidence is not None:  # the sources on screen as soon as retrieval is done
                reading = render_evidence(r.evidence, turn, question)
                yield chat, chat, turns, sections, render_panel(sections + [reading]), gr.skip()
                continue
            if r.answer is None:
                yield chat, chat, turns, sections, gr.skip(), gr.skip()
                continue
            turns = turns + [
                {"role": "user", "content": question},
                {"role": "assistant", "content": r.answer.text},
            ]
            sections = sections + [render_sources(r.answer, turn, question)]
            files = library.files_for({c.chunk.doc_id for c in r.answer.citations}) if library else {}
            download = gr.DownloadButton(value=export_file(to_markdown(r.answer, files), exports), interactive=True)
            yield chat, chat, turns, sections, render_panel(sections), download

    def unlock():
        return gr.Textbox(interactive=True)

    def clear():
        return ([], [], [], [], render_panel([]), "", gr.Textbox(value="", interactive=True),
                gr.DownloadButton(value=None, interactive=False))

    def choose_model(model: str):
        warmer.start(model)
        return warmer.status(model), gr.Timer(active=not warmer.ready(model))

    def poll(model: str):
        return warmer.status(model), gr.Timer(active=not warmer.ready(model))

    def ask(question: str, k: int = 4, model: str = "", history: list[dict] | None = None,
            articles: list[str] | None = None, publishers: list[str] | None = None, since: str = "",
            until: str = "") -> dict:
        """Answer a question from the news articles. Returns the rag.Answer as JSON: `text` with [n]
        markers, `citations` (n, quote, chunk with title/publisher/date), `refused`, `searched`, `timings`.
        `model` is one the page offers ('' for the default); anything else is refused.
        Optional filters, applied in retrieval: article ids, publishers, since/until dates (YYYY-MM-DD)."""
        try:
            where = rag.Filter(tuple(articles or ()), tuple(publishers or ()), since or "", until or "")
            scope = {"where": where} if where else {}
            result = pipeline(model).ask(question, history=list(history or []), k=clamp(k), **scope)
        except rag.RagError as e:
            raise gr.Error(str(e), print_exception=False) from e
        return asdict(result)

    def listing_updates():
        """Summary, table, and the article/publisher choices of the filters and of Remove, from the index in use."""
        listing = library.articles()
        choices = [(f"{a.title} [{a.doc_id}]", a.doc_id) for a in listing.articles]
        publishers = sorted({a.publisher for a in listing.articles if a.publisher}, key=str.casefold)
        return (render_summary(listing), render_articles(listing), gr.Dropdown(choices=choices),
                gr.Dropdown(choices=publishers), gr.Dropdown(choices=choices, value=None))

    def show_progress(progress):
        return lambda fraction, message: progress(fraction, desc=message)

    def failed(e: Exception) -> str:
        if not isinstance(e, rag.RagError):
            log.exception("changing the articles failed")
        return render_error(one_line(e) if isinstance(e, rag.RagError) else f"Something went wrong ({type(e).__name__}).")

    def upload(files, progress=gr.Progress()):
        """Raw upload payloads (preprocess=False) so each file keeps the name it was sent with; Gradio has already
        checked that every path is one of its own uploads."""
        files = files if isinstance(files, list) else [files] if files else []
        items = [(f.get("orig_name") or Path(f["path"]).name, Path(f["path"])) for f in files if f and f.get("path")]
        if not items:
            return gr.skip(), None, *(gr.skip(),) * 5
        try:
            change = library.add(items, progress=show_progress(progress))
        except Exception as e:
            return failed(e), None, *(gr.skip(),) * 5
        return render_report(change), None, *listing_updates()

    def paste(title: str, text: str, progress=gr.Progress()):
        try:
            change = library.add_text(title, text, progress=show_progress(progress))
        except Exception as e:
            return failed(e), gr.skip(), gr.skip(), *(gr.skip(),) * 5
        added = any(f.status == "added" for f in change.files)
        return render_report(change), "" if added else gr.skip(), "" if added else gr.skip(), *listing_updates()

    def confirm_remove(doc_id: str | None):
        if not doc_id:
            return gr.Column(visible=False), ""
        title = next((a.title for a in library.articles().articles if a.doc_id == doc_id), doc_id)
        return gr.Column(visible=True), (f"Remove **{as_text(title)}** (`{as_text(doc_id)}`)? Its file is deleted from "
                                         f"the corpus folder and it is no longer searched.")

    def remove(doc_id: str | None, progress=gr.Progress()):
        if not doc_id:
            return gr.skip(), gr.Column(visible=False), *(gr.skip(),) * 5
        try:
            change = library.remove(doc_id, progress=show_progress(progress))
        except Exception as e:
            return failed(e), gr.Column(visible=False), *(gr.skip(),) * 5
        return render_report(change), gr.Column(visible=False), *listing_updates()

    with gr.Blocks(title="News Q&A") as demo:
        gr.Markdown("## News Q&A\nAnswers come only from the news articles, each claim cited [n] to its passage.")
        loading = not warmer.ready(default_model)  # read once, before the status: the timer polls until it is ready
        status = gr.Markdown(warmer.status(default_model), elem_id="rag-status")
        chat_state = gr.State([])  # what the chat shows (server side: the Chatbot's own value comes back reshaped)
        turns = gr.State([])  # earlier turns as plain text, the history the engine gets
        sections = gr.State([])  # rendered Sources of each answer
        pending = gr.State("")  # the question between step 1 and step 2
        with gr.Tabs(elem_id="rag-tabs"):
            with gr.Tab("Chat", id="chat", elem_id="rag-chat-tab"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            label="Chat",
                            elem_id="rag-chat",
                            height=560,
                            examples=[{"text": q} for q in examples],
                            placeholder="Ask about the news articles, or pick an example.",
                            sanitize_html=True,
                            render_markdown=True,
                            allow_tags=False,
                            latex_delimiters=[],
                            feedback_options=None,
                            buttons=["copy", "copy_all"],
                        )
                        with gr.Row():
                            box = gr.Textbox(
                                placeholder="Ask a question about the articles…",
                                show_label=False,
                                scale=5,
                                elem_id="rag-input",
                                autofocus=True,
                            )
                            send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="rag-send")
                        with gr.Row():
                            clear_btn = gr.Button("Clear conversation", size="sm", elem_id="rag-clear")
                            export = gr.DownloadButton("Download the last answer (Markdown)", value=None,
                                                       interactive=False, size="sm", elem_id="rag-export")
                    with gr.Column(scale=2):
                        with gr.Accordion("Settings", open=False, elem_id="rag-settings"):
                            model = gr.Dropdown(choices, value=default_model, label="Model", elem_id="rag-model")
                            k = gr.Slider(1, K_MAX, value=4, step=1, label="Passages shown to the model", elem_id="rag-k")
                        with gr.Accordion("Search within", open=False, elem_id="rag-filters", visible=library is not None):
                            f_articles = gr.Dropdown([], multiselect=True, label="Articles", allow_custom_value=True,
                                                     elem_id="rag-f-articles")
                            f_publishers = gr.Dropdown([], multiselect=True, label="Publishers", allow_custom_value=True,
                                                       elem_id="rag-f-publishers")
                            with gr.Row():
                                f_since = gr.Textbox(label="From", placeholder="YYYY-MM-DD", elem_id="rag-f-since")
                                f_until = gr.Textbox(label="To", placeholder="YYYY-MM-DD", elem_id="rag-f-until")
                        gr.Markdown("### Sources")
                        sources = gr.HTML(render_panel([]), elem_id="rag-sources", js_on_load=None)
            with gr.Tab("Articles", id="articles", elem_id="rag-articles-tab", visible=library is not None) as articles_tab:
                summary = gr.Markdown("", elem_id="rag-summary")
                with gr.Row():
                    with gr.Column(scale=3):
                        table = gr.HTML("", elem_id="rag-articles")
                    with gr.Column(scale=2):
                        uploads = gr.File(label="Add articles: drop .txt, .md or .html files (5 MB each at most)",
                                          file_count="multiple", file_types=UPLOAD_TYPES, elem_id="rag-upload")
                        with gr.Accordion("Or paste a text", open=False, elem_id="rag-paste"):
                            paste_title = gr.Textbox(label="Title", elem_id="rag-paste-title")
                            paste_text = gr.Textbox(label="Text", lines=6, elem_id="rag-paste-text")
                            paste_btn = gr.Button("Add this text", elem_id="rag-paste-add")
                        report = gr.HTML("", elem_id="rag-report")
                        with gr.Row():
                            to_remove = gr.Dropdown([], label="Remove an article", scale=3, elem_id="rag-remove-choice")
                            remove_btn = gr.Button("Remove…", variant="stop", scale=1, elem_id="rag-remove")
                        with gr.Column(visible=False, elem_id="rag-confirm") as confirm:
                            confirm_text = gr.Markdown("", elem_id="rag-confirm-text")
                            with gr.Row():
                                remove_yes = gr.Button("Yes, remove it", variant="stop", elem_id="rag-remove-yes")
                                remove_no = gr.Button("Cancel", elem_id="rag-remove-no")
            desk_ui.add_desk_tabs(gr, desk, exports)  # Quotes, Coverage, Timeline, Differences (hidden without a desk)

        timer = gr.Timer(1.0, active=loading)
        timer.tick(poll, model, [status, timer], queue=False, show_progress="hidden", api_visibility="private")
        model.change(choose_model, model, [status, timer], queue=False, api_visibility="private")

        step1 = dict(outputs=[box, chatbot, chat_state, pending], queue=False, api_visibility="private")
        step2 = dict(
            fn=answer,
            inputs=[pending, chat_state, turns, sections, model, k, f_articles, f_publishers, f_since, f_until],
            outputs=[chatbot, chat_state, turns, sections, sources, export],
            concurrency_limit=slots,
            concurrency_id="engine",
            api_visibility="private",
        )
        answering = []
        for trigger in (box.submit(take, [box, chat_state], **step1), send.click(take, [box, chat_state], **step1),
                        chatbot.example_select(take_example, [chat_state], **step1)):
            run = trigger.success(**step2)
            run.then(unlock, None, box, queue=False, api_visibility="private")
            answering.append(run)
        clear_btn.click(
            clear, None, [chatbot, chat_state, turns, sections, sources, pending, box, export],
            queue=False, cancels=answering, api_visibility="private",
        )
        gr.api(ask, api_name="ask", concurrency_limit=slots, concurrency_id="engine")

        if library is not None:
            listed = [summary, table, f_articles, f_publishers, to_remove]
            # one change (and one index build) at a time: a second upload waits in this queue, and says so
            library_event = dict(concurrency_limit=1, concurrency_id="library", api_visibility="private",
                                 show_progress="full")
            demo.load(listing_updates, None, listed, api_visibility="private")
            articles_tab.select(listing_updates, None, listed, api_visibility="private", show_progress="hidden")
            uploads.upload(upload, uploads, [report, uploads, *listed], preprocess=False, **library_event)
            paste_btn.click(paste, [paste_title, paste_text], [report, paste_title, paste_text, *listed],
                            **library_event)
            remove_btn.click(confirm_remove, to_remove, [confirm, confirm_text], queue=False, api_visibility="private")
            remove_no.click(lambda: gr.Column(visible=False), None, confirm, queue=False, api_visibility="private")
            remove_yes.click(remove, to_remove, [report, confirm, *listed], **library_event)
    return demo


def _model_name(engine: Any) -> str:
    """The engine's model name, for the dropdown's first value."""
    for get in (lambda: engine.model, lambda: engine.config.llm):
        try:
            name = get()
        except AttributeError:
            continue
        if isinstance(name, str) and name:
            return name
    return ""


def launch(demo, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, share: bool = False, block: bool = True,
           auth: tuple[str, str] | None = None):
    """Serve the page (queue on, no share link unless asked, no analytics, no web fonts).
    With block=False it returns at once; stop it with demo.close(). Refuses (RuntimeError) to serve beyond
    this machine without `auth`: see password_for()."""
    import gradio as gr

    from desk_ui import CSS as DESK_CSS

    if (host not in LOCAL_HOSTS or share) and not auth:
        raise RuntimeError(password_for(host, share, {})[1])

    demo.queue(default_concurrency_limit=1)
    return demo.launch(
        server_name=host,
        server_port=port,
        share=share,
        auth=auth,
        max_file_size=MAX_UPLOAD,
        quiet=True,
        prevent_thread_lock=not block,
        theme=gr.themes.Default(font=SYSTEM_FONTS, font_mono=SYSTEM_MONO),  # no web fonts: renders offline
        css=CSS + DESK_CSS,
        footer_links=["api"],
        enable_monitoring=False,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ
    p = argparse.ArgumentParser(prog="rag chat", description="Web chat over the news articles.")
    p.add_argument("--host", default=env.get("RAG_HOST") or env.get("GRADIO_SERVER_NAME") or DEFAULT_HOST,
                   help="address to listen on (env RAG_HOST; default 127.0.0.1)")
    port = env.get("RAG_PORT") or env.get("GRADIO_SERVER_PORT") or DEFAULT_PORT
    p.add_argument("--port", type=int, default=int(port),
                   help="port (env RAG_PORT or GRADIO_SERVER_PORT; default 7860)")
    p.add_argument("--share", action="store_true", help="also open a public gradio.live link (off by default)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    auth, refusal = password_for(args.host, args.share)
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    try:
        demo = create_app(rag.Pipeline(rag.Config().with_env()))
        _, local_url, share_url = launch(demo, args.host, args.port, share=args.share, block=False, auth=auth)
        print(f"News chat on {local_url}" + (f" and {share_url}" if share_url else ""), flush=True)
        print("Models load in the background (the page says so). Ctrl+C stops.", flush=True)
        demo.block_thread()
    except rag.RagError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # port taken
        print(f"error: cannot serve on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
