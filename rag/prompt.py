"""Hits -> chat messages numbering the passages [1]..[k], trimmed to the model's token budget."""
from __future__ import annotations

from typing import Callable

from .types import Hit

REFUSAL = "The articles don't say."

# Wording chosen by the eval (eval/README.md): a 1.5B model follows short, concrete rules best.
SYSTEM = (
    "Answer the question from the numbered news passages. Write one or two sentences and put the "
    "passage number in brackets after each, like [1]. Quote people's words exactly. If passages disagree, "
    f"give both. Only if no passage contains the answer, write: {REFUSAL}"
)
TEMPLATE_OVERHEAD = 24  # tokens the chat template adds around the two messages


def format_passage(n: int, hit: Hit) -> str:
    """'[2] <chunk text>'. Titles are left out: they cost ~25 tokens a passage (prompt tokens are most of
    the wait on a CPU) and the eval scored better without them."""
    return f"[{n}] {hit.chunk.text}"


def user_message(question: str, passages: list[str]) -> str:
    return "Passages:\n\n" + "\n\n".join(passages) + f"\n\nQuestion: {question}"


def build_messages(question: str, hits: list[Hit], count_tokens: Callable[[str], int],
                   budget: int) -> tuple[list[dict], list[Hit], int]:
    """(messages, the hits actually shown, prompt tokens), keeping prompt tokens <= budget.

    Passages that would overflow are dropped, lowest-ranked first (chunks are ~100 tokens, so with any
    usable context at least one fits; with none shown the model is told to refuse).
    """
    fixed = count_tokens(SYSTEM) + count_tokens(user_message(question, [])) + TEMPLATE_OVERHEAD
    if fixed > budget:
        raise ValueError(f"the question alone needs {fixed} tokens, more than the model's budget of {budget}")
    passages, shown, used = [], [], fixed
    for hit in hits:
        text = format_passage(len(shown) + 1, hit)
        cost = count_tokens(text) + 2
        if used + cost > budget:
            break
        passages.append(text)
        shown.append(hit)
        used += cost
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user_message(question, passages)}]
    return messages, shown, used
