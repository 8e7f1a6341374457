"""Tiny real MLX models for tests, built from scratch in a temp folder (no downloads).

`build_scripted_qwen3` makes a Qwen3 model (hidden size 64) whose weights are set so that, with
all attention and MLP outputs zeroed, the next token depends only on the current one: a bigram
table we choose. Generation still runs through mlx-lm's real model, cache, sampler and
detokenizer, and the chat template is a Qwen3-style one that honours `enable_thinking`."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

QWEN3_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}"
    "{% endif %}"
)
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
WORDS = ["[UNK]", "system", "user", "assistant", "Memory", "matters", "most", ".", "planning", "quietly",
         "loop", "the", "model", "fits", "well", "because", "in", "unified", "memory"]
HIDDEN = 64

# After the prompt's last token: thinking on ends the prompt at "assistant", off at "</think>".
THINKING_CHAIN = {"assistant": "<think>", "<think>": "planning", "planning": "quietly", "quietly": "</think>"}
# Eleven words: long enough for a 20-word section target (the smallest a brief allows) not to be "short".
ANSWER = "Memory matters most because the model fits well in unified memory."
_ANSWER_WORDS = ["</think>", *ANSWER.rstrip(".").split(), ".", "<|im_end|>"]
ANSWER_CHAIN = dict(itertools.pairwise(_ANSWER_WORDS))
LOOP_CHAIN = {"assistant": "loop", "</think>": "loop", "loop": "loop"}  # never stops: hits the cap


def write_tokenizer(folder: Path, vocab: list[str]) -> None:
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)  # joins words with spaces
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIALS])
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
        "unk_token": "[UNK]", "chat_template": QWEN3_TEMPLATE,
    }))


def qwen3_config(vocab_size: int) -> dict:
    return {
        "model_type": "qwen3", "hidden_size": HIDDEN, "num_hidden_layers": 2, "intermediate_size": 128,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "rms_norm_eps": 1e-6,
        "vocab_size": vocab_size, "max_position_embeddings": 4096, "rope_theta": 10000.0,
        "tie_word_embeddings": False,
    }


def build_scripted_qwen3(folder: Path, chain: dict[str, str]) -> Path:
    """A model that, greedily or at any sane temperature, follows `chain` token by token."""
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_lm.models import qwen3

    folder.mkdir(parents=True, exist_ok=True)
    vocab = SPECIALS + WORDS
    ids = {w: i for i, w in enumerate(vocab)}
    config = qwen3_config(len(vocab))
    model = qwen3.Model(qwen3.ModelArgs.from_dict(config))
    params = {name: mx.zeros_like(value) for name, value in tree_flatten(model.parameters())}
    for name in params:
        if name.endswith("norm.weight"):
            params[name] = mx.ones_like(params[name])
    # Token i is embedded as basis vector (i % HIDDEN); the lm_head maps that direction to its successor.
    embed = mx.zeros((len(vocab), HIDDEN)).at[mx.arange(len(vocab)), mx.arange(len(vocab)) % HIDDEN].add(1.0)
    head = [[0.0] * HIDDEN for _ in vocab]
    for current, following in chain.items():
        head[ids[following]][ids[current] % HIDDEN] = 10.0
    params["model.embed_tokens.weight"] = embed
    params["lm_head.weight"] = mx.array(head)
    mx.save_safetensors(str(folder / "model.safetensors"), params)
    (folder / "config.json").write_text(json.dumps(config))
    write_tokenizer(folder, vocab)
    return folder


def build_random_qwen3_moe(folder: Path) -> Path:
    """Random weights, Qwen3-MoE shape (hidden size 64): exercises the MoE code path."""
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_lm.models import qwen3_moe

    folder.mkdir(parents=True, exist_ok=True)
    vocab = SPECIALS + WORDS
    config = {**qwen3_config(len(vocab)), "model_type": "qwen3_moe", "num_experts": 4, "num_experts_per_tok": 2,
              "moe_intermediate_size": 32, "decoder_sparse_step": 1, "mlp_only_layers": [], "norm_topk_prob": True}
    mx.random.seed(0)
    model = qwen3_moe.Model(qwen3_moe.ModelArgs.from_dict(config))
    mx.save_safetensors(str(folder / "model.safetensors"), dict(tree_flatten(model.parameters())))
    (folder / "config.json").write_text(json.dumps(config))
    write_tokenizer(folder, vocab)
    return folder


def build_random_llama(folder: Path, tokenizer_from: Path) -> Path:
    """Random weights (hidden size 64) behind a real byte-level tokenizer copied from `tokenizer_from`:
    it can spell anything, JSON included, and left alone it writes noise."""
    import shutil

    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_lm.models import llama

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (tokenizer_from / name).exists():
            shutil.copy(tokenizer_from / name, folder / name)
    vocab_size = json.loads((tokenizer_from / "config.json").read_text())["vocab_size"]
    config = {**qwen3_config(vocab_size), "model_type": "llama", "tie_word_embeddings": True}
    mx.random.seed(0)
    model = llama.Model(llama.ModelArgs.from_dict(config))
    mx.save_safetensors(str(folder / "model.safetensors"), dict(tree_flatten(model.parameters())))
    (folder / "config.json").write_text(json.dumps(config))
    return folder
