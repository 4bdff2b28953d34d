"""`rag eval --replay`: model replies recorded once, replayed after; a changed prompt asks the model again."""
import json

import pytest

from eval.__main__ import main
from eval.replay import Replies, ReplayError


class Counting:
    """A generator that says which call it is: a replayed reply is the recorded one, not a new count."""
    name, n_ctx = "counting", 2048

    def __init__(self):
        self.calls = 0

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, messages, max_tokens):
        self.calls += 1
        yield f"reply {self.calls} "
        yield "to " + messages[-1]["content"]


def ask(generator, content, max_tokens=10):
    return "".join(generator.stream([{"role": "user", "content": content}], max_tokens))


def test_a_reply_is_recorded_then_replayed_and_a_new_prompt_asks_the_model(tmp_path):
    path, inner = tmp_path / "replies.json", Counting()
    replies = Replies(path)
    gen = replies.wrap(inner)
    assert ask(gen, "a") == "reply 1 to a"
    assert ask(gen, "a") == "reply 1 to a"  # replayed: the model is not asked again
    assert ask(gen, "b") == "reply 2 to b"
    assert ask(gen, "a", max_tokens=3) == "reply 3 to a"  # another token cap is another prompt
    assert (replies.replayed, replies.recorded, inner.calls) == (1, 3, 3)
    replies.save()
    again = Replies(path).wrap(Counting())  # a later run reads the file
    assert ask(again, "b") == "reply 2 to b" and again.inner.calls == 0
    assert again.name == "counting" and again.count_tokens("x y") == 2


def test_a_reply_cut_short_is_not_recorded(tmp_path):
    replies = Replies(tmp_path / "replies.json")
    stream = replies.wrap(Counting()).stream([{"role": "user", "content": "a"}], 5)
    next(stream)
    stream.close()
    assert replies.recorded == 0


def test_a_corrupt_replies_file_is_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "replies.json"
    bad.write_text("{not json")
    with pytest.raises(ReplayError, match="cannot read the replies file"):
        Replies(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(ReplayError, match="not a replies file"):
        Replies(bad)
    assert main(["--set", "news-dev", "--replay", str(bad), "--no-progress"]) == 2
    assert "rag eval: " in capsys.readouterr().err
