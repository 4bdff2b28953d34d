"""A question -> its Route: which kind of question it is and the parts each kind needs, read once.

Every kind has one handler in `rag/kinds/` (the table `rag.kinds.HANDLERS`); `Pipeline.stream` searches,
refuses what no article could answer, then hands the question to its kind's handler. To add a kind:
one case in `route` below, one handler module in `rag/kinds/`, one entry in HANDLERS.

    two_part   'What is Kirby's job, and what position does Glaser hold?'  each part answered on its own
    speaker    'What did Kirby say (about Putin)?'                           X's statements, verbatim
    survey     'What do the articles say about Taiwan?'                      each article's sentences on it
    quoted     'Who said “a lifeline of sorts”?'                             the speaker of those words
    said       'Who said China and Russia support each other?'             the speakers of that statement
    article    'Who wrote the article about Xi’s trip?'                      its header: byline, date, publisher
    figure     'How long did the talks last?'                                the model, figures compared
    free       anything else                                                 the model reads the passages

The verbatim kinds (speaker, survey, quoted, said) hand the question to the model when the articles
hold no sentence that answers it as it stands.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from . import attribution, cite, compound, header, topic

Kind = Literal["two_part", "speaker", "survey", "quoted", "said", "article", "figure", "free"]
KINDS: tuple[Kind, ...] = ("two_part", "speaker", "survey", "quoted", "said", "article", "figure", "free")


@dataclass(frozen=True)
class Route:
    """What a question asks, parsed once. Only the fields of its kind are set."""

    kind: Kind
    question: str  # the standalone question the route was read from
    parts: tuple[str, ...] = ()  # two_part: the questions it asks, each ending in '?'
    request: attribution.Request | None = None  # speaker: who, about what, 'else'
    subject: str = ""  # survey: what the articles are asked about
    quote: str = ""  # quoted: the words whose speaker is asked
    clause: str = ""  # said: what was said, unquoted
    figure: bool = False  # asks for or states a figure: the model's answer is compared with other articles'
    header: header.Asked | None = None  # article: which of its header's fields, of the article described how


def route(question: str) -> Route:
    """'What did Kirby say about Putin?' -> Route('speaker', request=Request('Kirby', 'Putin'));
    'How long did they talk?' -> Route('figure', figure=True); 'Who is Kirby?' -> Route('free')"""
    figure = cite.asks_figure(question)
    asked = compound.parts(question)
    if len(asked) > 1 and compound.separate(asked):
        return Route("two_part", question, parts=tuple(asked), figure=figure)
    if request := attribution.parse(question):
        return Route("speaker", question, request=request, figure=figure)
    if subject := topic.parse(question):
        return Route("survey", question, subject=subject, figure=figure)
    if asked := header.parse(question):  # before quoted: 'Who wrote the story calling Xi a ‘dear friend’?'
        return Route("article", question, header=asked, figure=figure)
    if quote := attribution.quoted_words(question):
        return Route("quoted", question, quote=quote, figure=figure)
    if clause := attribution.said_clause(question):
        return Route("said", question, clause=clause, figure=figure)
    return Route("figure" if figure else "free", question, figure=figure)
