"""Degenerate samples from tiny random-weight models that use the embedded model's tokenizer.

Random weights produce the far end of collapse (token soup) quickly on a CPU.
Usage: python bench/random_model_samples.py OUT.jsonl [--count 12] [--max-tokens 200] [--first-seed 0] [--temps 0.0,0.7,1.0]"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path


def build_random_llama(folder: Path, tokenizer_dir: Path, seed: int) -> Path:
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_lm.models import llama

    config = {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "intermediate_size": 128,
              "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-5, "vocab_size": 49152,
              "tie_word_embeddings": True, "rope_theta": 10000.0}
    mx.random.seed(seed)
    model = llama.Model(llama.ModelArgs.from_dict(config))
    folder.mkdir(parents=True, exist_ok=True)
    mx.save_safetensors(str(folder / "model.safetensors"), dict(tree_flatten(model.parameters())))
    (folder / "config.json").write_text(json.dumps(config))
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(tokenizer_dir / name, folder / name)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--count", type=int, default=12)
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--temps", default="0.0,0.7,1.0", help="comma-separated temperatures, used in turn")
    args = parser.parse_args()

    from mlx_lm import generate, load
    from mlx_lm.sample_utils import make_sampler

    from pipeline.builtin_model import builtin_model_dir

    with tempfile.TemporaryDirectory() as tmp:
        temps = [float(t) for t in args.temps.split(",")]
        for index in range(args.first_seed, args.first_seed + args.count):
            folder = build_random_llama(Path(tmp) / f"m{index}", builtin_model_dir(), seed=index)
            model, tokenizer = load(str(folder))
            temp = temps[index % len(temps)]
            text = generate(model, tokenizer, "Write about memory.", max_tokens=args.max_tokens,
                            sampler=make_sampler(temp=temp))
            record = {"id": f"random-llama-{index:02d}", "source": "tiny-random-llama", "temp": temp, "text": text}
            with open(args.out, "a") as fh:
                fh.write(json.dumps(record) + "\n")
            print(record["id"], len(text), flush=True)


if __name__ == "__main__":
    main()
