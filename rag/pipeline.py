"""The one place the stages are wired: question -> search -> prompt -> generate -> cite -> Answer.

    standalone question -> hits
      'What did X say (about Y)?' with X a quoted speaker -> X's statements, quoted verbatim
      a refusal decided before the model (rag.refusal) -> Answer(reason=...)
      compact passages -> prompt -> model -> every sentence checked (rag.cite)
      the model refused although one sentence strongly matches -> one narrower second pass
"""
from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from typing import Callable, Iterator

import numpy as np

from . import attribution, build, cite, compound, refusal, store, topic
from .chunk import split_sentences
from .config import Config, threads
from .embed import Embedder, SentenceTransformerEmbedder
from .errors import QuestionError, StoreError
from .followup import standalone
from .generate import Generator, LlamaGenerator
from .prompt import EXAMPLES, SYSTEM_JUDGE, SYSTEM_RETRY, build_messages, focus
from .refusal import REFUSAL
from .retrieve import Filter, allowed_rows, bm25_within, search
from .terms import content, phrase_initials, share, unnamed
from .types import Answer, Chunk, Evidence, Hit

# A sentence this close to the question (cosine + half its share of the question's words) earns a second
# pass when the model refused; the model's own yes/no on that sentence then decides.
RECOVER_SIMILARITY = 0.55
RETRY_CANDIDATES = 2  # sentences judged at most (each costs a short model call, only after a refusal)
CONTEXT = 12  # passages read to check that an answer's articles hold what the question pins down
INITIALS_MAX = 50_000  # chunks read once for the corpus's acronyms (about a second at that size)
QUERY_CACHE = 256  # query vectors kept (a repeated question skips the embedding model)


class Pipeline:
    """Corpus, index and models for one Config; everything heavy loads on first use, once."""

    def __init__(self, config: Config | None = None, embedder: Embedder | None = None,
                 generator: Generator | None = None, index: store.Index | None = None):
        self.config = config or Config()
        self.embedder = embedder or SentenceTransformerEmbedder(self.config.embed_model, self.config.embed_batch)
        self._generator = generator
        self._index = index
        self._lock = threading.RLock()
        self._siblings: dict[str, Pipeline] = {}
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._initials: tuple[object, frozenset[str]] | None = None
        self.build_report: build.BuildReport | None = None

    @property
    def index(self) -> store.Index:
        with self._lock:
            if self._index is None:
                self._index, self.build_report = self.open_store(named=self.config.index_named)
            return self._index

    @property
    def generator(self) -> Generator:
        with self._lock:
            if self._generator is None:
                c = self.config
                if c.llm_url:
                    from .llm_server import OpenAIGenerator
                    self._generator = OpenAIGenerator(c.llm_url, c.llm_model, c.llm_key, c.llm, c.n_ctx,
                                                      c.temperature, c.seed)
                else:
                    self._generator = LlamaGenerator(c.llm, c.n_ctx, threads(c), c.temperature, c.seed,
                                                     reuse_prefix=c.reuse_prefix, lookup=c.lookup)
            return self._generator

    def warm(self) -> None:
        """Load index, embedder and LLM now (the web chat calls this at start-up)."""
        self.embedder.embed(["warm up"])
        self.generator.count_tokens("warm up")
        _ = self.index

    def waiting(self) -> int:
        """Questions generating or waiting for this pipeline's model (0 for a generator that does not say,
        such as an LLM server, which queues on its own)."""
        count = getattr(self._generator, "waiting", None)
        return int(count()) if callable(count) else 0

    def with_model(self, llm: str) -> "Pipeline":
        """A pipeline for another LLM sharing this one's index and embedder."""
        if llm == self.config.llm:
            return self
        with self._lock:
            if llm not in self._siblings:
                self._siblings[llm] = Pipeline(replace(self.config, llm=llm), self.embedder, index=self.index)
            return self._siblings[llm]

    def chunks(self) -> list[Chunk]:
        return list(self.index.chunks)

    def standalone(self, question: str, history: list[dict] | None = None) -> str:
        return standalone(self._check(question), history)

    def search(self, question: str, k: int | None = None, where: Filter | None = None) -> list[Hit]:
        question = self._check(question)
        c = self.config
        vector = self.query_vector(question) if c.retrieval != "bm25" else None
        return search(self.index, question, vector, k or c.k, c.retrieval, c.candidates, c.rrf_k, where=where)

    def initials(self) -> frozenset[str]:
        """Initials of the corpus's capitalised phrases (an acronym in a question is found where the articles
        spell it out), computed once per index; above INITIALS_MAX chunks only retrieved passages are read."""
        index = self.index
        cached = self._initials
        if cached is None or cached[0] is not index:
            chunks = index.chunks
            found = frozenset()
            if len(chunks) <= INITIALS_MAX:  # each article's title once, not once per chunk
                found = phrase_initials([c.text for c in chunks] + list(dict.fromkeys(c.title for c in chunks)))
            self._initials = cached = (index, found)
        return cached[1]

    def query_vector(self, question: str) -> np.ndarray:
        """The question's embedding, from a small cache when the same question comes again."""
        with self._lock:
            if question in self._vectors:
                self._vectors.move_to_end(question)
                return self._vectors[question]
        one = getattr(self.embedder, "embed_query", None)
        vector = one(question) if one else self.embedder.embed([question])[0]
        with self._lock:
            self._vectors[question] = vector
            while len(self._vectors) > QUERY_CACHE:
                self._vectors.popitem(last=False)
        return vector

    def ask(self, question: str, history: list[dict] | None = None, k: int | None = None,
            where: Filter | None = None) -> Answer:
        *_, answer = self.stream(question, history, k, where)
        return answer

    def stream(self, question: str, history: list[dict] | None = None, k: int | None = None,
               where: Filter | None = None) -> Iterator[Evidence | str | Answer]:
        """Yield an Evidence (the passages the model is about to read) when the model will answer, then the
        answer's text pieces as they are generated, then the checked Answer (always last)."""
        t0 = time.perf_counter()
        searched = self.standalone(question, history)
        asked = compound.parts(searched)
        if len(asked) > 1 and compound.separate(asked):
            # it asks of two different things: each part searched, answered and checked on its own
            yield from self._in_parts(question, asked, history, k, where, t0)
            return
        k = k or self.config.k
        # one search serves both: the k best are shown, the wider context checks an answer's articles
        # (the k best of a longer list are the same k: fusion ranks the same candidate lists)
        context = self.search(searched, max(k, CONTEXT), where)
        hits = context[:k]
        scope = where.describe(self.index.chunks) if where else ""
        embed = _memo(self.embedder.embed)
        timings = {"retrieve": time.perf_counter() - t0}

        def done(**kw) -> Answer:
            timings["total"] = time.perf_counter() - t0
            if kw.get("refused"):
                kw["text"] = REFUSAL
            return Answer(question=question, searched=searched, model=self.config.llm, timings=timings, scope=scope,
                          **kw)

        reason, note = refusal.before_generation(searched, hits, self.index.bm25.vocab, self.initials())
        if reason:
            yield REFUSAL
            yield done(refused=True, reason=reason, note=note, hits=hits)
            return
        request = attribution.parse(searched)
        found = self._statements(request, hits, history, embed, where) if request else None
        if found is not None:  # 'What did X say?' and X is quoted in the articles: X's own words
            if not found:
                reason, note = refusal.about_nobody_quoted(request.who, request.topic, request.more)
                yield REFUSAL
                yield done(refused=True, reason=reason, note=note, hits=hits)
                return
            text, shown = attribution.compose(found)
            checked = cite.check(text, shown)
            yield checked.text
            yield done(text=checked.text, citations=checked.citations, refused=checked.refused,
                       reason=checked.reason, hits=shown)
            return
        quoted = self._verbatim(searched, hits, embed, where)
        if quoted:  # the articles' own sentences answer it: quoted, each cited, nothing for the model to paraphrase
            text, shown = attribution.compose(quoted)
            checked = cite.check(text, shown)
            if not checked.refused:
                yield checked.text
                yield done(text=checked.text, citations=checked.citations, refused=False, hits=shown)
                return
        gen = self.generator
        budget = gen.n_ctx - self.config.max_tokens
        scores = self._sentence_scores(searched, hits, embed)
        spans = [focus(s, self.config.compact_sentences) for s in scores] if self.config.compact_sentences else None
        messages, shown, prompt_tokens = build_messages(searched, hits, gen.count_tokens, budget, spans,
                                                        examples=EXAMPLES if self.config.examples else ())
        yield Evidence(shown, [max(row, key=lambda x: x[1])[0] if row else (0, 0)
                               for row in scores[:len(shown)]])
        pieces: list[str] = []
        t_gen = time.perf_counter()
        for piece in gen.stream(messages, self.config.max_tokens):
            if not pieces:
                timings["first_token"] = time.perf_counter() - t0
            pieces.append(piece)
            yield piece
        timings["generate"] = time.perf_counter() - t_gen
        checked = self._verify("".join(pieces), searched, shown, embed, context)
        if checked.refused:  # a sentence that strongly matches the question earns one narrower pass
            t_retry = time.perf_counter()
            retried = self._retry(searched, shown, scores, embed, budget, context)
            timings["second_pass"] = time.perf_counter() - t_retry
            if retried is not None:
                checked, tokens = retried
                prompt_tokens += tokens
                timings["generate"] = time.perf_counter() - t_gen
        differ = cite.conflicting(searched, checked, shown, scores)
        if differ:  # other articles give another figure: say so, citing them
            quotes = "; ".join(f"“{shown[n - 1].chunk.text[s:e]}” [{n}]" for n, (s, e) in differ)
            checked = cite.check(f"{checked.text}\nThe articles differ: {quotes}", shown, embed)
        yield done(text=checked.text, citations=checked.citations, refused=checked.refused, reason=checked.reason,
                   note=checked.note, hits=shown, prompt_tokens=prompt_tokens, completion_tokens=len(pieces))

    def _in_parts(self, question: str, asked: list[str], history: list[dict] | None, k: int | None,
                  where: Filter | None, t0: float) -> Iterator[Evidence | str | Answer]:
        """Each part answered as a question of its own, the earlier parts its chat history ('..., and what
        did he say?'), then the answers joined (`compound.join`)."""
        answers: list[Answer] = []
        turns = list(history or [])
        first_token = None
        for i, part in enumerate(asked):
            if i:
                yield "\n"
            for piece in self.stream(part, turns, k, where):
                if isinstance(piece, Answer):
                    answers.append(piece)
                elif isinstance(piece, Evidence):
                    yield piece
                else:
                    first_token = first_token or time.perf_counter() - t0
                    yield piece
            turns += [{"role": "user", "content": part}, {"role": "assistant", "content": answers[-1].text}]
        timings = {"retrieve": sum(a.timings.get("retrieve", 0.0) for a in answers),
                   "total": time.perf_counter() - t0}
        if first_token is not None:
            timings["first_token"] = first_token
        yield compound.join(question, answers, asked, timings)

    def _verify(self, text: str, question: str, shown: list[Hit], embed, context: list[Hit]) -> cite.Checked:
        """Check every sentence against the passages; an answer whose articles (their passages among the
        shown and the wider `context`) lack what the question pins down (a name, number, month or weekday)
        answers something else."""
        checked = cite.check(text, shown, embed, question)
        docs = {c.chunk.doc_id for c in checked.citations}
        reason, note = refusal.after_answer(question, [h for h in shown + context if h.chunk.doc_id in docs],
                                            checked.reason == "model_refused", not checked.refused, checked.text)
        if reason:
            return cite.Checked(REFUSAL, [], True, reason, checked.dropped or [text], note)
        return checked

    def _retry(self, question: str, shown: list[Hit], scores: list[list[tuple[tuple[int, int], float]]], embed,
               budget: int, context: list[Hit]) -> tuple[cite.Checked, int] | None:
        """The model refused. The passage sentences closest to the question (at most RETRY_CANDIDATES, each
        holding what the question pins down) are judged one at a time with their neighbours ("does this
        answer the question exactly as asked?"); on a yes the model answers from that alone (its markers then
        renumbered to that passage's number among `shown`), and the answer
        is kept only if it checks out; one that does not leaves the next candidate its turn. No candidate
        answered and checked keeps the refusal."""
        ranked = _judging_order(question, shown, scores)
        gen, count, tokens = self.generator, self.generator.count_tokens, 0

        def usable(sc: float, i: int) -> bool:
            return sc >= RECOVER_SIMILARITY and not refusal.missing_constraints(question, [shown[i]])

        for sc, i, span in _distinct(ranked, shown, usable)[:RETRY_CANDIDATES]:
            hit = shown[i]
            if not usable(sc, i):
                continue
            spans = split_sentences(hit.chunk.text)
            j = spans.index(span)
            near = spans[max(0, j - 1):j + 2]  # the sentence with its neighbours, for "he", "it" and "then"
            messages, one, used = build_messages(question, [hit], count, budget, [near], system=SYSTEM_JUDGE)
            tokens += used
            if not "".join(gen.stream(messages, 3)).strip().lower().startswith("yes"):
                continue
            messages, one, used = build_messages(question, [hit], count, budget, [near], system=SYSTEM_RETRY)
            tokens += used
            checked = self._verify("".join(gen.stream(messages, self.config.max_tokens)), question, one, embed,
                                   context)
            if not checked.refused:  # cited as the passage it is among all those shown: [1] of one -> [i + 1]
                return _renumbered(checked, i + 1), tokens
        return None

    def _sentence_scores(self, question: str, hits: list[Hit], embed) -> list[list[tuple[tuple[int, int], float]]]:
        """For each hit, its sentences' relevance to the question: cosine, plus half the share of the
        question's content words the sentence holds."""
        spans = [split_sentences(h.chunk.text) for h in hits]
        texts = [h.chunk.text[s:e] for h, ss in zip(hits, spans) for s, e in ss]
        if not texts:
            return [[] for _ in hits]
        vectors = embed([question] + texts)
        cos = vectors[1:] @ vectors[0]
        words = content(question)
        out, k = [], 0
        for h, ss in zip(hits, spans):
            row = []
            for s, e in ss:
                row.append(((s, e), float(cos[k]) + 0.5 * share(words, h.chunk.text[s:e])))
                k += 1
            out.append(row)
        return out

    def _statements(self, request: attribution.Request, hits: list[Hit], history, embed, where: Filter | None = None
                    ) -> list[attribution.Statement] | None:
        """X's statements (None when the articles quote nobody of that name, or when none matches the words
        of 'What did X say <clause>?': the model answers instead); with `where`, only from the articles it allows."""
        candidates = [c for c in self._keyword_chunks(request.who, 200, hits, where)
                      if any(attribution.same_person(request.who, s) for _, _, s in c.said)]
        if not candidates:
            return None
        found = attribution.statements(request, candidates)
        if request.more:
            found = attribution.already_quoted(found, history)
        if request.topic:
            found = attribution.relevant(request.topic, found, embed, request.clause)
            if not found and request.clause:  # 'What did X say Y share?' in other words than X's: the model reads
                return None
        return found

    def _verbatim(self, question: str, hits: list[Hit], embed, where: Filter | None = None
                  ) -> list[attribution.Statement]:
        """Sentences of the articles that answer the question as they stand, or [] for the model to answer:
        'What do the articles say about Y?' (each article's sentences about Y), 'Who said "..."?' (the
        sentence holding the words, with its recorded speaker), 'Who said <what>?' unquoted (the recorded
        speakers of the sentences saying it)."""
        if subject := topic.parse(question):
            if found := topic.about(subject, self._keyword_chunks(subject, 200, hits, where), embed):
                return found
        if quote := attribution.quoted_words(question):
            return self._quoted_by(quote, hits, where)
        if clause := attribution.said_clause(question):
            return attribution.saying(clause, self._keyword_chunks(clause, 50, hits, where), embed, cite.agrees)
        return []

    def _quoted_by(self, quote: str, hits: list[Hit], where: Filter | None = None) -> list[attribution.Statement]:
        """Sentences of any article (within `where`) holding the quoted words, with their recorded speaker."""
        return attribution.quoted_by(quote, self._keyword_chunks(quote, 50, hits, where))

    def _keyword_chunks(self, words: str, n: int, hits: list[Hit], where: Filter | None) -> list[Chunk]:
        """The n chunks of any article (within `where`) BM25 ranks best for `words`, then the hits' chunks,
        each once: what a speaker or a quote is looked up in beyond the few passages a search shows."""
        found = (bm25_within(self.index, words, n, allowed_rows(self.index, where)) if where
                 else self.index.search_bm25(words, n))
        return list(dict.fromkeys([self.index.chunks[r] for r, _ in found] + [h.chunk for h in hits]))

    def use_index(self, index: store.Index, report: build.BuildReport | None = None) -> None:
        """Answer from `index` from now on (built elsewhere, e.g. by rag.library), here and in with_model() siblings."""
        with self._lock:
            self._index, self.build_report = index, report
            for sibling in self._siblings.values():
                sibling.use_index(index, report)

    def reindex(self, progress: bool = False) -> build.BuildReport:
        """Build or update the index now, even if the user named it (`rag index`)."""
        with self._lock:
            self._index, self.build_report = self.open_store(named=False, progress=progress)
            return self.build_report

    def open_store(self, named: bool, progress: bool = False, embedder: Embedder | None = None):
        """The configured store, brought up to date with the corpus: FAISS files (default) or Milvus.
        (index, report); `embedder` stands in for the pipeline's (e.g. one that reports progress)."""
        c = self.config
        embedder = embedder or self.embedder
        if c.store == "milvus":
            from .milvus_store import open_milvus
            uri = c.milvus_uri or str(c.index_dir / "milvus.db")
            return open_milvus(c.corpus_dir, uri, c.milvus_collection, embedder, c.chunk_chars,
                               c.chunk_overlap, named=named, progress=progress)
        if c.store != "faiss":
            raise StoreError(f"unknown store {c.store!r}: use faiss or milvus")
        return build.open_index(c.corpus_dir, c.index_dir, embedder, c.chunk_chars, c.chunk_overlap,
                                named=named, progress=progress)

    def _check(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise QuestionError("the question is empty")
        if len(question) > self.config.max_question_chars:
            raise QuestionError(f"the question is too long ({len(question):,} characters; the limit is "
                                f"{self.config.max_question_chars:,})")
        return " ".join(question.split())


def _memo(embed: Callable[[list[str]], np.ndarray]) -> Callable[[list[str]], np.ndarray]:
    """Embed each distinct text once per question (the sentences scored for the prompt are scored again
    when the answer is checked)."""
    cache: dict[str, np.ndarray] = {}

    def embed_once(texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in cache]
        if todo:
            cache.update(zip(todo, embed(todo)))
        return np.stack([cache[t] for t in texts]) if texts else np.zeros((0, 1), dtype=np.float32)

    return embed_once


def _judging_order(question: str, hits: list[Hit], scores: list[list[tuple[tuple[int, int], float]]]
                   ) -> list[tuple[float, int, tuple[int, int]]]:
    """(score, passage index, span) of every sentence, best first, the lexical half of each score counting
    the share of all the question's words or of what it asks of its names, whichever is higher: every
    passage judged holds the names (`refusal.missing_constraints`), so a sentence saying what was asked
    ('Calling each other “dear friends”') is not outranked by all that only name them."""
    words, asked = content(question), _asked(question)

    def lexical(text: str) -> float:
        return max(0.0, _asked_share(asked, text) - share(words, text))

    return sorted(((sc + 0.5 * lexical(hit.chunk.text[a:b]), i, (a, b))
                   for i, (hit, ss) in enumerate(zip(hits, scores)) for (a, b), sc in ss), reverse=True)


def _asked(question: str) -> set[str]:
    """What the question asks of its names: 'What did Xi and Putin call each other?' -> {'call', 'each'};
    a question of names only -> all its words"""
    return unnamed(question) or content(question)


def _asked_share(asked: set[str], text: str) -> float:
    """Share of the asked words in the text, in any inflection: ({'call', 'each'}, 'Calling each other') -> 1.0"""
    there = content(text)
    held = [w for w in asked if w in there or any(w + end in there for end in ("ing", "ed", "d", "es"))]
    return len(held) / len(asked) if asked else 0.0


def _renumbered(checked: cite.Checked, n: int) -> cite.Checked:
    """An answer from one passage, cited as passage n: 'Xi left [1].' -> 'Xi left [n].'"""
    text = cite.MARKER.sub(lambda m: re.sub(r"\d+", str(n), m.group()), checked.text)
    return replace(checked, text=text, citations=[replace(c, n=n) for c in checked.citations])


def _distinct(ranked: list[tuple[float, int, tuple[int, int]]], hits: list[Hit],
              usable: Callable[[float, int], bool] = lambda sc, i: True) -> list[tuple[float, int, tuple[int, int]]]:
    """(score, passage index, span) in rank order without repeats of one sentence's text: the sentence two
    chunks share (their overlap) or a syndicated copy carries is judged once, leaving the next slot to the
    next sentence. Of the copies, the first `usable` one stands for them (its passage may hold a name the
    other copy's passage lacks), else the first."""
    groups: dict[str, list[tuple[float, int, tuple[int, int]]]] = {}
    for sc, i, (s, e) in ranked:
        groups.setdefault(" ".join(hits[i].chunk.text[s:e].lower().split()), []).append((sc, i, (s, e)))
    return [next((c for c in copies if usable(c[0], c[1])), copies[0]) for copies in groups.values()]
