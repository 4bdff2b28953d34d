"""rag/compound.py: a question asking two things, split into its parts, each answered alone, joined."""
import pytest

from rag.compound import join, parts, separate
from rag.prompt import REFUSAL
from rag.types import Answer, Chunk, Citation, Hit


@pytest.mark.parametrize("question, expected", [
    ("What is John Kirby's job, and what position does Bonnie Glaser hold?",
     ["What is John Kirby's job?", "What position does Bonnie Glaser hold?"]),
    ("Which country was Xi to visit, and in which city did Mishustin speak?",  # a preposition before 'which'
     ["Which country was Xi to visit?", "In which city did Mishustin speak?"]),
    ("Who is Li Qiang and what did Mishustin tell him?", ["Who is Li Qiang?", "What did Mishustin tell him?"]),
    ("Who is Kirby? What did Glaser say?", ["Who is Kirby?", "What did Glaser say?"]),
    ("Who flew first, and which spacecraft did each fly?",  # names nothing, points back at nothing
     ["Who flew first?", "Which spacecraft did each fly? (Who flew first?)"]),
    ("Who commanded the first Moon landing, and in what year?",  # an ellipsis: no verb of its own
     ["Who commanded the first Moon landing, and in what year?"]),
    ("Who is Yang Jiechi, who spoke to the ambassador?", ["Who is Yang Jiechi, who spoke to the ambassador?"]),
    ("What did Xi and Putin call each other?", ["What did Xi and Putin call each other?"]),
    ("How and why did it happen?", ["How and why did it happen?"]),
    ('Who said “we know who and what did it”?', ['Who said “we know who and what did it”?']),  # inside a quote
])
def test_parts(question, expected):
    assert parts(question) == expected


@pytest.mark.parametrize("question, apart", [
    ("What is John Kirby's job, and what position does Bonnie Glaser hold?", True),
    ("How much did exports to Russia jump in April, and how many points are in Beijing's peace proposal?", True),
    ("What office does Antony Blinken hold, and what did he call the peace plan?", False),  # 'he': the same man
    ("Which company did China target, and what did that show about China's power?", False),  # China in both
    ("When did Putin and Xi meet, and what did they sign?", False),
])
def test_separate(question, apart):
    assert separate(parts(question)) is apart


def chunk(i: int, text: str) -> Chunk:
    return Chunk(id=f"d{i}:0", doc_id=f"d{i}", title="t", text=text, start=0, end=len(text))


def answer(text: str, chunks: list[Chunk], cited: list[int], refused: bool = False, **kw) -> Answer:
    hits = [Hit(chunk=c, score=0.1) for c in chunks]
    return Answer(question="q", text=text, refused=refused, hits=hits,
                  citations=[Citation(n=n, chunk=chunks[n - 1], quote=chunks[n - 1].text) for n in cited],
                  prompt_tokens=10, **kw)


def test_join_renumbers_markers_over_the_passages_of_both_parts():
    a, b, c = chunk(1, "Kirby is the NSC coordinator."), chunk(2, "Glaser leads a program."), chunk(3, "Other.")
    one = answer("Kirby is the coordinator [1].", [a, c], [1])
    two = answer("Glaser leads a program [2]. Kirby too [1].", [c, b], [2])  # c is [2] in the first part
    joined = join("Q?", [one, two], ["Q1?", "Q2?"], {"total": 1.0})
    assert joined.text == "Kirby is the coordinator [1].\nGlaser leads a program [3]. Kirby too [2]."
    assert [h.chunk for h in joined.hits] == [a, c, b]
    assert [(c_.n, c_.chunk) for c_ in joined.citations] == [(1, a), (3, b)]
    for c_ in joined.citations:  # every citation is of the passage its number shows
        assert joined.hits[c_.n - 1].chunk == c_.chunk and f"[{c_.n}]" in joined.text
    assert not joined.refused and joined.prompt_tokens == 20 and joined.question == "Q?"


def test_join_names_the_part_the_articles_do_not_answer():
    a = chunk(1, "Kirby is the NSC coordinator.")
    one = answer("Kirby is the coordinator [1].", [a], [1])
    two = answer(REFUSAL, [a], [], refused=True, reason="model_refused")
    joined = join("Q?", [one, two], ["Who is Kirby?", "Which spacecraft did each fly? (Who is Kirby?)"], {})
    assert not joined.refused and joined.text == "Kirby is the coordinator [1]."
    assert joined.note == "The articles don't answer “Which spacecraft did each fly?”."


def test_join_of_parts_all_refused_is_the_first_refusal():
    a = chunk(1, "x")
    refused = [answer(REFUSAL, [a], [], refused=True, reason=r, note=n)
               for r, n in (("not_in_corpus", "No article mentions “FIFA”."), ("model_refused", ""))]
    joined = join("Q?", refused, ["Q1?", "Q2?"], {})
    assert joined.refused and joined.text == REFUSAL and joined.reason == "not_in_corpus"
    assert joined.note == "No article mentions “FIFA”." and joined.citations == []
