"""Throughput of a draft's sections, measured side by side in one process on one device:

  (a) sequential: one call per section, each prefilling its whole prompt;
  (b) batched: all sections decoded together, the shared prefix (system prompt + brief) prefilled once;
  (c) oneshot: one long call generating the same total number of tokens;
  (d) sequential with the prefix cache (pipeline's sequential mode): batching alone, (d)/(b).

All three go through pipeline's MLX backend (stream / share_prefix / stream_batch). EOS is
disabled so every path generates exactly sections x tokens, and the collapse watch is not involved
(its cost is measured by bench/collapse.py). Prints one JSON object.

  python bench/throughput.py --model builtin:smollm2 --sections 6 --tokens 300   # CPU, embedded model
  python bench/throughput.py --model random-qwen3-30b-a3b --bits 4               # GPU: random weights,
                                                                                 # Qwen3-30B-A3B shape
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pipeline  # noqa: E402,F401,I001  (before mlx: on a Linux CPU it loads OpenBLAS for MLX)
import mlx.core as mx  # noqa: E402,I001

from pipeline.backends.base import Request  # noqa: E402
from pipeline.backends.mlx import MLXBackend  # noqa: E402
from pipeline.config import MemorySettings, SamplingSettings  # noqa: E402
from pipeline.memory import plan_budget, total_memory  # noqa: E402
from pipeline.models import ResolvedModel  # noqa: E402

GIB = 1024**3
QWEN3_30B_A3B = dict(model_type="qwen3_moe", hidden_size=2048, num_hidden_layers=48, intermediate_size=6144,
                     num_attention_heads=32, num_experts=128, num_experts_per_tok=8, decoder_sparse_step=1,
                     mlp_only_layers=[], moe_intermediate_size=768, rms_norm_eps=1e-6, vocab_size=151936,
                     num_key_value_heads=4, head_dim=128, rope_theta=1e6, tie_word_embeddings=False,
                     max_position_embeddings=32768, norm_topk_prob=True)
TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
            "{% if add_generation_prompt %}<|im_start|>assistant\n{% if enable_thinking is defined and "
            "enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}{% endif %}")


def word_tokenizer(folder: Path, vocab_size: int) -> Path:
    """A word-level tokenizer as large as the model's vocabulary (nothing can be downloaded)."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
    words = ["[UNK]"] + [f"w{i}" for i in range(vocab_size - len(specials) - 1)]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(specials + words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
        "unk_token": "[UNK]", "chat_template": TEMPLATE}))
    return folder


def random_moe_backend(bits: int, layers: int) -> MLXBackend:
    """Random weights in the Qwen3-30B-A3B shape, quantized like a real MLX 4-bit build."""
    import mlx.nn as nn
    from mlx_lm.models import qwen3_moe
    from mlx_lm.utils import load_tokenizer

    config = {**QWEN3_30B_A3B, "num_hidden_layers": layers}
    model = qwen3_moe.Model(qwen3_moe.ModelArgs.from_dict(config))
    model.set_dtype(mx.bfloat16)
    nn.quantize(model, group_size=64, bits=bits)
    mx.eval(model.parameters())
    tokenizer = load_tokenizer(word_tokenizer(Path(tempfile.mkdtemp()), config["vocab_size"]))
    weights = sum(v.nbytes for _, v in __import__("mlx.utils").utils.tree_flatten(model.parameters()))
    budget = plan_budget(MemorySettings(), total_memory(mx), weights, mx.metal.is_available())
    spec = f"random-qwen3-30b-a3b-{bits}bit" + (f"-{layers}layers" if layers != 48 else "")
    return MLXBackend(model, tokenizer, ResolvedModel(spec, "(random weights)", False), budget)


def prompts(backend: MLXBackend, sections: int, brief_words: int) -> tuple[list[tuple[dict, ...]], tuple[dict, ...]]:
    """Section chats sharing a long system prompt (the brief), and the one-shot chat asking for all."""
    vocab = backend._tokenizer.vocab_size if hasattr(backend._tokenizer, "vocab_size") else 1000
    if backend.describe().spec.startswith("random"):
        brief = " ".join(f"w{(i * 7919) % (vocab - 10)}" for i in range(brief_words))
        asks = [" ".join(f"w{(s * 104729 + i * 13) % (vocab - 10)}" for i in range(30)) for s in range(sections)]
    else:
        sentence = "The Mac has 64 GB of unified memory and the model needs 35 GB of it for weights. "
        brief = (sentence * (brief_words // 16 + 1))[: brief_words * 6]
        asks = [f"Write section {s + 1} of {sections}: part {s + 1} of the memory budget, in detail." for s in range(sections)]
    system = {"role": "system", "content": f"You write one section of a blog post. Research notes: {brief}"}
    chats = [(system, {"role": "user", "content": ask}) for ask in asks]
    oneshot = (system, {"role": "user", "content": "Write all sections:\n" + "\n".join(asks)})
    return chats, oneshot


def timed(label: str, work) -> dict:
    mx.synchronize()
    mx.reset_peak_memory()
    started = time.perf_counter()
    stats = work()
    mx.synchronize()
    wall = time.perf_counter() - started
    return {"wall_s": round(wall, 3), "tokens": stats["tokens"], "decode_tok_s": round(stats["tokens"] / wall, 1),
            "prefill_tokens": stats["prefill"], "peak_memory_gb": round(mx.get_peak_memory() / GIB, 3)}


def request(backend, messages, settings) -> Request:
    return Request(backend.render(messages, False), settings, 0)


def sequential(backend, chats, settings):
    backend._prefix = None  # one call per section, each with its whole prompt
    tokens = prefill = 0
    for messages in chats:
        final = list(backend.stream(request(backend, messages, settings)))[-1]
        tokens += final.stats.generation_tokens
        prefill += final.stats.prompt_tokens
    return {"tokens": tokens, "prefill": prefill}


def sequential_cached(backend, chats, settings):
    """Pipeline's sequential mode: one call per section, but the shared prefix prefilled once."""
    shared = backend.share_prefix([backend.render(m, False) for m in chats])
    tokens = prefill = 0
    for messages in chats:
        final = list(backend.stream(request(backend, messages, settings)))[-1]
        tokens += final.stats.generation_tokens
        prefill += final.stats.prompt_tokens
    return {"tokens": tokens, "prefill": shared + prefill}


def batched(backend, chats, settings):
    rendered = [backend.render(m, False) for m in chats]
    shared = backend.share_prefix(rendered)
    stream = backend.stream_batch([request(backend, m, settings) for m in chats])
    finals = [d for _, d in stream if d.finish_reason]
    return {"tokens": sum(d.stats.generation_tokens for d in finals),
            "prefill": shared + sum(d.stats.prompt_tokens for d in finals)}


def oneshot(backend, chat, settings):
    backend._prefix = None
    final = list(backend.stream(request(backend, chat, settings)))[-1]
    return {"tokens": final.stats.generation_tokens, "prefill": final.stats.prompt_tokens}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="builtin:smollm2", help="builtin:smollm2, a folder, or random-qwen3-30b-a3b")
    parser.add_argument("--bits", type=int, default=4)
    parser.add_argument("--layers", type=int, default=48)
    parser.add_argument("--sections", type=int, default=6)
    parser.add_argument("--tokens", type=int, default=300)
    parser.add_argument("--brief-words", type=int, default=400)
    args = parser.parse_args()

    started = time.perf_counter()
    if args.model.startswith("random-qwen3"):
        backend = random_moe_backend(args.bits, args.layers)
    else:
        backend = MLXBackend.load(args.model, MemorySettings())
    load_s = time.perf_counter() - started
    backend._tokenizer.eos_token_ids = []  # every path generates exactly its cap
    chats, long_chat = prompts(backend, args.sections, args.brief_words)
    section = SamplingSettings(max_tokens=args.tokens, temperature=0.0, repetition_penalty=None, collapse_watch=False)
    whole = section.model_copy(update={"max_tokens": args.tokens * args.sections})

    warm = section.model_copy(update={"max_tokens": 16})
    sequential(backend, chats[:1], warm)  # compile kernels before anything is timed
    batched(backend, chats[:2], warm)
    results = {
        "sequential": timed("sequential", lambda: sequential(backend, chats, section)),
        "batched": timed("batched", lambda: batched(backend, chats, section)),
        "oneshot": timed("oneshot", lambda: oneshot(backend, long_chat, whole)),
        "sequential_prefix_cached": timed("sequential_cached", lambda: sequential_cached(backend, chats, section)),
    }
    b = results["batched"]["wall_s"]
    print(json.dumps({
        "benchmark": "throughput",
        "device": f"{mx.default_device()} ({platform.machine()}, {platform.system()})",
        "model": backend.describe().spec, "model_load_s": round(load_s, 1),
        "sections": args.sections, "tokens_per_section": args.tokens,
        **results,
        "sequential_over_batched": round(results["sequential"]["wall_s"] / b, 2),
        "oneshot_over_batched": round(results["oneshot"]["wall_s"] / b, 2),
        # batching alone, with the prefix cache on both sides: what `generation.mode: auto` decides on
        "sequential_cached_over_batched": round(results["sequential_prefix_cached"]["wall_s"] / b, 2),
        "mlx": mx.__version__,
        "command": " ".join(["python", "bench/throughput.py", *sys.argv[1:]]),
    }, indent=2))


if __name__ == "__main__":
    main()
