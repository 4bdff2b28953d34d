"""rag/followup.py: follow-up questions become standalone ones, only when they refer back."""
import json
import os
import subprocess
import sys

import pytest
from conftest import PROJECT

from rag.followup import standalone


def turns(*questions: str, answers: bool = False) -> list[dict]:
    """User turns, optionally each followed by an assistant reply that names someone else."""
    out = []
    for q in questions:
        out.append({"role": "user", "content": q})
        if answers:
            out.append({"role": "assistant", "content": "Joe Biden was mentioned [1]."})
    return out


@pytest.mark.parametrize("answers", [False, True])
def test_he_becomes_the_last_named_person(answers):
    history = turns("What did Kirby say?", answers=answers)
    assert standalone("What else did he say about Putin?", history) == "What else did Kirby say about Putin?"


@pytest.mark.parametrize("question", [
    "Who is Brian Hart?",
    "What did Bonnie Glaser say?",
    "How much did China export to Russia in April?",
    "When did Xi visit Kazakhstan?",
    "What is the AUKUS deal?",
    "How many times have Xi and Putin met?",
])
def test_a_question_that_does_not_refer_back_is_unchanged(question):
    assert standalone(question, turns("What did Kirby say?", "What else did he say?", answers=True)) == question


@pytest.mark.parametrize("question", [
    "What did Putin say after he met Xi?",
    "What did Bonnie Glaser say about her think tank?",
    "Did Xi say that Russia is a friend?",
    "What did Xi and Putin say about their relationship?",
])
def test_a_question_with_its_own_subject_is_unchanged(question):
    assert standalone(question, turns("What did Kirby say?")) == question


@pytest.mark.parametrize("history", [None, []])
def test_no_history_leaves_the_question_unchanged(history):
    assert standalone("What else did he say about Putin?", history) == "What else did he say about Putin?"


def test_assistant_turns_alone_are_not_history():
    history = [{"role": "assistant", "content": "John Kirby said many things [1]."}]
    assert standalone("What else did he say?", history) == "What else did he say?"


@pytest.mark.parametrize("answers", [False, True])
def test_chained_follow_ups_keep_their_subject(answers):
    history = turns("Who is Bonnie Glaser?", answers=answers)
    second = standalone("What did she say about Xi and Putin?", history)
    assert second == "What did Bonnie Glaser say about Xi and Putin?"
    history = turns("Who is Bonnie Glaser?", "What did she say about Xi and Putin?", answers=answers)
    third = standalone("Where is her think tank based?", history)
    assert "Bonnie Glaser" in third
    assert third == "Where is Bonnie Glaser’s think tank based?"


def test_her_as_object_is_not_possessive():
    assert standalone("What did reporters ask her?", turns("Who is Bonnie Glaser?")) == \
        "What did reporters ask Bonnie Glaser?"


def test_they_becomes_a_pair_of_names():
    assert standalone("What did they agree on?", turns("When did Xi and Putin meet?")) == \
        "What did Xi and Putin agree on?"


def test_the_latest_subject_wins():
    history = turns("What did John Kirby say?", "When did Xi visit Moscow?")
    assert standalone("Did he meet Putin?", history) == "Did Xi meet Putin?"


def test_a_reference_without_a_pronoun_carries_the_previous_question():
    assert standalone("What else?", turns("What did Kirby say about AUKUS?")) == \
        "What else? (What did Kirby say about AUKUS?)"


def test_a_long_chain_of_follow_ups_keeps_its_subject():
    history = turns("What did Kirby say?", *["What else did he say?"] * 8, answers=True)
    assert standalone("Did he mention Putin?", history) == "Did Kirby mention Putin?"


def test_a_chain_of_bare_follow_ups_carries_one_question_not_a_nest():
    history = turns("What did Kirby say about AUKUS?", "What else?", "What else?")
    assert standalone("What else?", history) == "What else? (What did Kirby say about AUKUS?)"


@pytest.mark.parametrize("history", [
    "not a list", [None, 3, "x", {"role": "user"}, {"role": "user", "content": 7}, {"content": "What did Kirby say?"}],
])
def test_history_that_is_not_a_list_of_turns_is_ignored(history):
    assert standalone("What else did he say?", history) == "What else did he say?"


LONG_CHAT = """
import json, sys, time
from rag.followup import standalone
def chat(n):
    h = []
    for _ in range(n - 1):
        h += [{"role": "user", "content": "How much did exports grow?"}, {"role": "assistant", "content": "A lot [1]."}]
    return h + [{"role": "user", "content": "What did Kirby say?"}]
out = {}
for n in (1, 1000):
    t = time.perf_counter()
    out[n] = [standalone("What else did he say about Putin?", chat(n)), time.perf_counter() - t]
print(json.dumps(out))
"""


def test_a_thousand_turn_history_is_rewritten_as_fast_as_one_turn():
    # in a child process, so a rewrite that is exponential in the turns fails by timeout instead of hanging
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    try:
        done = subprocess.run([sys.executable, "-c", LONG_CHAT], capture_output=True, text=True, timeout=60, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("rewriting a 1,000-turn history did not finish in 60 s")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    for n in ("1", "1000"):
        assert result[n][0] == "What else did Kirby say about Putin?"
    assert result["1000"][1] < 1.0  # measured ~2 ms; the recursive version did not finish 16 turns in a minute
