"""Hits -> chat messages numbering the passages [1]..[k], trimmed to the model's token budget."""
from __future__ import annotations

from typing import Callable

from .types import Hit

REFUSAL = "The articles don't say."

SYSTEM = (
    "You answer questions about news articles using only the numbered passages. "
    "Answer in one to three short sentences. "
    "End every sentence with the number of the passage that supports it in square brackets, like [2]. "
    "When you report what someone said, quote their words exactly as written in the passage. "
    f"If the passages do not answer the question, reply only: {REFUSAL}"
)
TEMPLATE_OVERHEAD = 24  # tokens the chat template adds around the two messages


def format_passage(n: int, hit: Hit) -> str:
    """[2] Title (Publisher, 21 March 2023)\\n<text>"""
    source = ", ".join(x for x in (hit.chunk.publisher, hit.chunk.date) if x)
    head = f"[{n}] {hit.chunk.title}" + (f" ({source})" if source else "")
    return f"{head}\n{hit.chunk.text}"


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
