"""rag/generate.py with the real small model: the saved prompt-prefix state keeps answers identical token for
token whether a question comes first, after another question, or after a reload; the lock serializes callers."""
from __future__ import annotations

import numpy as np
import pytest

from rag.embed import SentenceTransformerEmbedder
from rag.generate import LlamaGenerator
from rag.prompt import EXAMPLES, SYSTEM

pytestmark = pytest.mark.slow


def messages(question: str, passage: str) -> list[dict]:
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f'<passage id="1">\n{passage}\n</passage>\n\nQuestion: {question}'}]


EXPORTS = messages("How much did China's exports to Russia grow in April?",
                   "China’s exports to Russia hit a record in April, jumping 153% from a year earlier to $9.6 billion.")
OTHER = messages("Who did Xi meet?", "Xi Jinping met Vladimir Putin in Moscow for more than four hours on Monday.")


def answer(gen: LlamaGenerator, msgs: list[dict]) -> str:
    return "".join(gen.stream(msgs, 40))


@pytest.fixture(scope="module")
def gen():
    return LlamaGenerator("smollm2-135m", n_ctx=1024)


def test_same_answer_first_after_another_question_and_after_a_reload(gen):
    first = answer(gen, EXPORTS)
    answer(gen, OTHER)  # leaves its own tokens in the context
    after_other = answer(gen, EXPORTS)
    reloaded = answer(LlamaGenerator("smollm2-135m", n_ctx=1024), EXPORTS)
    assert first and first == after_other == reloaded


def test_the_prefix_is_evaluated_once_and_reused(gen):
    answer(gen, EXPORTS)
    state = gen._prefix_state(EXPORTS)
    prefix = state.n_tokens
    tokens, _ = gen.render(EXPORTS)
    assert 0 < prefix < len(tokens) and list(state.input_ids[:prefix]) == tokens[:prefix]
    answer(gen, OTHER)
    assert gen._prefix_state(OTHER) is state  # same system prompt: same saved state


def test_reusing_the_prefix_gives_the_answer_of_a_fresh_evaluation(gen):
    fresh = LlamaGenerator("smollm2-135m", n_ctx=1024, reuse_prefix=False)
    assert answer(fresh, EXPORTS) == answer(gen, EXPORTS)


def test_the_worked_examples_are_part_of_the_saved_prefix_and_change_nothing_else(gen):
    with_examples = [EXPORTS[0], *EXAMPLES, EXPORTS[1]]
    state = gen._prefix_state(with_examples)
    tokens, _ = gen.render(with_examples)
    assert gen._prefix_state(EXPORTS).n_tokens < state.n_tokens < len(tokens)  # the examples are read once
    assert list(state.input_ids[:state.n_tokens]) == tokens[:state.n_tokens]
    assert gen._prefix_state([with_examples[0], *EXAMPLES, OTHER[1]]) is state
    assert gen._prefix_state([with_examples[0], *EXAMPLES[:2], OTHER[1]]) is not state  # other examples, other state
    fresh = LlamaGenerator("smollm2-135m", n_ctx=1024, reuse_prefix=False)
    assert answer(fresh, with_examples) == answer(gen, with_examples)


def test_a_prompt_that_overflows_the_context_is_a_one_line_model_error():
    import rag

    small = LlamaGenerator("smollm2-135m", n_ctx=256)
    with pytest.raises(rag.ModelError, match="do not fit the model's context of 256 tokens") as e:
        answer(small, messages("Why?", "word " * 400))
    assert "\n" not in str(e.value)


def test_the_query_path_gives_the_same_vector_as_encode(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_CACHE", str(tmp_path))
    e = SentenceTransformerEmbedder()
    texts = ["What did Kirby say about Putin?", "Xi", "The talks lasted more than four hours, Tass said. " * 20]
    want = e.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert np.allclose(np.stack([e.embed_query(t) for t in texts]), want, atol=1e-5)
    assert np.allclose(e.embed(texts), want, atol=1e-5)  # a question's sentences take the same path
    assert e._onnx and list((tmp_path / "onnx").glob("*.onnx"))  # by onnxruntime, exported once to the cache


def test_a_corrupt_cached_export_falls_back_to_torch_with_the_same_vector(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_CACHE", str(tmp_path))
    SentenceTransformerEmbedder().embed_query("warm")
    for f in (tmp_path / "onnx").glob("*.onnx"):
        f.write_bytes(b"not an onnx model")
    e = SentenceTransformerEmbedder()
    text = "What did Kirby say about Putin?"
    assert np.allclose(e.embed_query(text), e.model.encode([text], normalize_embeddings=True)[0], atol=1e-5)
    assert e._onnx is False


# ---- the passage cache: each passage read once after the fixed start, then placed by shifting its positions ----

def two_passages(question: str) -> list[dict]:
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": '<passage id="1">\nXi Jinping met Vladimir Putin in Moscow on Monday.\n'
                                        '</passage>\n\n<passage id="2">\nChina’s exports to Russia hit a record in '
                                        'April, jumping 153% from a year earlier.\n</passage>\n\n'
                                        f"Question: {question}"}]


def test_a_passage_read_once_sits_where_it_was_read_and_gives_the_answer_of_reading_it(gen):
    cached = LlamaGenerator("smollm2-135m", n_ctx=1024, passage_cache=64)
    first = answer(cached, EXPORTS)
    tokens, _ = cached.render(EXPORTS)
    [span] = cached._passage_spans(EXPORTS, tokens, cached.prefix_tokens(EXPORTS))
    unit_tokens = len(span)
    assert cached.llm.detokenize(list(span)).decode().startswith('<passage id="1">\nChina’s exports')
    assert cached.placed == unit_tokens and len(cached._passages) == 1
    again = answer(cached, EXPORTS)  # from the cache this time
    assert len(cached._passages) == 1 and cached.placed == unit_tokens
    assert first == again == answer(gen, EXPORTS)  # one passage at the first place: exactly what reading it gives


def test_later_passages_are_shifted_to_their_places(gen):
    import llama_cpp

    cached = LlamaGenerator("smollm2-135m", n_ctx=1024, passage_cache=64)
    msgs = two_passages("How much did exports grow?")
    first = answer(cached, msgs)
    llm = cached.llm
    memory = llama_cpp.llama_get_memory(llm._ctx.ctx)
    # every position of the prompt and the answer is held once, with no gap where the second passage belongs
    assert llama_cpp.llama_memory_seq_pos_min(memory, 0) == 0
    assert llama_cpp.llama_memory_seq_pos_max(memory, 0) == llm.n_tokens - 1
    assert llama_cpp.llama_memory_seq_pos_max(memory, 1) == -1  # the reading sequence is left empty
    tokens, _ = cached.render(msgs)
    assert 0 < cached.placed < len(tokens) - cached.prefix_tokens(msgs) and len(cached._passages) == 2
    cold = LlamaGenerator("smollm2-135m", n_ctx=1024, passage_cache=64)
    assert answer(cold, msgs) == first == answer(cached, msgs)  # deterministic, cold or warm


def test_the_passage_cache_keeps_to_its_budget_and_skips_prompts_without_passages(gen):
    cached = LlamaGenerator("smollm2-135m", n_ctx=1024, passage_cache=1)
    answer(cached, two_passages("Who met?"))
    assert len(cached._passages) == 1 and cached._passage_bytes <= 2**20  # two passages of ~0.5 MB: one kept
    plain = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Question: Who met?"}]
    assert answer(cached, plain) == answer(gen, plain) and cached.placed == 0


def test_a_failed_placement_reads_the_whole_prompt_instead(gen, monkeypatch):
    cached = LlamaGenerator("smollm2-135m", n_ctx=1024, passage_cache=64)
    msgs = two_passages("Who met?")

    def fails(*a):
        raise RuntimeError("llama.cpp refused")

    monkeypatch.setattr(cached, "_place_passages", fails)
    assert answer(cached, msgs) == answer(gen, msgs) and cached.placed == 0


def test_a_model_whose_positions_cannot_shift_keeps_the_cache_off(monkeypatch):
    import rag.generate as generate

    monkeypatch.setattr(generate, "_can_place", lambda llm: False)
    cached = LlamaGenerator("smollm2-135m", n_ctx=1024, passage_cache=64)
    answer(cached, two_passages("Who met?"))
    assert cached.passage_cache == 0 and cached.placed == 0 and not cached._passages


@pytest.mark.parametrize("flash", [False, True])
def test_flash_attention_is_on_as_configured_and_the_restored_prefix_still_answers_as_a_fresh_read(flash):
    import llama_cpp

    from rag import Config
    from rag.generate import from_config

    on = from_config(Config(llm="smollm2-135m", n_ctx=1024, flash_attn=flash))
    assert on.llm.context_params.flash_attn_type == (llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED if flash
                                                      else llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED)
    fresh = LlamaGenerator("smollm2-135m", n_ctx=1024, reuse_prefix=False, flash_attn=flash)
    first = answer(on, EXPORTS)
    answer(on, OTHER)
    assert first and first == answer(on, EXPORTS) == answer(fresh, EXPORTS)
