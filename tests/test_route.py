"""rag/route.py: a question read once into its kind and the parts that kind needs."""
from typing import get_args

import pytest

from rag.attribution import Request
from rag.kinds import HANDLERS
from rag.route import KINDS, Kind, Route, route


@pytest.mark.parametrize("question, kind", [
    ("What is John Kirby's job, and what position does Bonnie Glaser hold?", "two_part"),
    ("What did Kirby say?", "speaker"),
    ("What else did John Kirby say about Putin?", "speaker"),
    ("Did Glaser say anything about Taiwan?", "speaker"),
    ("What do the articles say about Taiwan?", "survey"),
    ("What is reported about the G7 summit?", "survey"),
    ("Who said Putin sees Xi as “a lifeline of sorts”?", "quoted"),
    ("Who said 'dear friends'?", "quoted"),
    ("Which officials said China and Russia support each other?", "said"),
    ("How long did Xi and Putin talk on Monday?", "figure"),
    ("How many points are in Beijing’s peace proposal?", "figure"),
    ("Did they talk for more than four hours?", "figure"),  # states a figure
    ("Who is Brian Hart?", "free"),
    ("Why did Xi visit Moscow?", "free"),
    # parts about one subject are read whole: one passage often answers both
    ("Who is Li Qiang and what did he tell Mishustin?", "free"),
])
def test_each_question_gets_its_kind(question, kind):
    assert route(question).kind == kind


def test_the_parts_of_each_kind_are_parsed_once():
    assert route("What else did John Kirby say about Putin?").request == Request("John Kirby", "Putin", more=True)
    assert route("What do the articles say about Taiwan?").subject == "Taiwan"
    assert route("Who said Putin sees Xi as “a lifeline of sorts”?").quote == "a lifeline of sorts"
    assert route("Which officials said China and Russia support each other?").clause == \
        "China and Russia support each other"
    assert route("What is John Kirby's job, and what position does Bonnie Glaser hold?").parts == \
        ("What is John Kirby's job?", "What position does Bonnie Glaser hold?")
    free = route("Who is Brian Hart?")
    assert free == Route("free", "Who is Brian Hart?")  # nothing else set


def test_a_verbatim_kind_remembers_a_figure_for_the_model_it_may_hand_over_to():
    asked = route("What did Kirby say when they met?")  # 'when' asks for a time
    assert asked.kind == "speaker" and asked.figure


def test_a_route_is_frozen():
    with pytest.raises(AttributeError):
        route("Who is Brian Hart?").kind = "speaker"


def test_every_kind_has_one_handler():
    assert set(KINDS) == set(get_args(Kind)) == set(HANDLERS)


def test_the_routes_diagram_is_drawn_from_todays_router():
    import runpy
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    draw = runpy.run_path(str(root / "scripts" / "draw_routes.py"))["draw"]
    assert (root / "docs" / "routes.svg").read_text(encoding="utf-8") == draw(), \
        "docs/routes.svg is out of date: run .venv/bin/python scripts/draw_routes.py"
