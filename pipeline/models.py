"""Resolve a brief's `model:` into something mlx-lm can load: a local folder or a hub id."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError

BUILTIN_PREFIX = "builtin:"
BUILTINS = ("smollm2",)


@dataclass(frozen=True)
class ResolvedModel:
    spec: str  # what the user wrote
    source: str  # what mlx-lm loads: a folder path or a hub id
    is_local: bool

    @property
    def weight_bytes(self) -> int:
        """Size of the weights on disk (0 for a hub id not downloaded yet)."""
        if not self.is_local:
            return 0
        return sum(p.stat().st_size for p in Path(self.source).glob("*.safetensors"))


def looks_like_path(spec: str) -> bool:
    return spec.startswith(("/", "./", "../", "~")) or Path(spec).exists()


def check_model_spec(spec: str) -> None:
    """What can be known about `model:` without loading or converting anything (validate, schedule)."""
    if spec.startswith(BUILTIN_PREFIX):
        _check_builtin(spec[len(BUILTIN_PREFIX):])
        from .builtin_model import locate_gguf

        locate_gguf()  # the embedded model's wheel is installed
    else:
        resolve_model(spec)


def resolve_model(spec: str) -> ResolvedModel:
    if spec.startswith(BUILTIN_PREFIX):
        return ResolvedModel(spec, str(_builtin_dir(spec[len(BUILTIN_PREFIX):])), True)
    if looks_like_path(spec):
        folder = Path(spec).expanduser()
        if not folder.is_dir():
            raise ModelError(f"model folder {folder} does not exist",
                             hint="point `model:` at an MLX model folder (config.json + *.safetensors), "
                                  "or use builtin:smollm2")
        if not (folder / "config.json").is_file():
            raise ModelError(f"model folder {folder} has no config.json",
                             hint="point `model:` at an MLX model folder (config.json + *.safetensors)")
        return ResolvedModel(spec, str(folder), True)
    if spec.count("/") != 1:
        raise ModelError(f"model {spec!r} is neither a folder, a hub id (owner/name) nor builtin:smollm2",
                         hint="use builtin:smollm2, a local MLX folder, or a hub id like mlx-community/Qwen3-4B-4bit")
    return ResolvedModel(spec, spec, False)


def _check_builtin(name: str) -> None:
    if name not in BUILTINS:
        raise ModelError(f"unknown builtin model {name!r}", hint=f"available: {', '.join(BUILTINS)}")


def _builtin_dir(name: str) -> Path:
    _check_builtin(name)
    from .builtin_model import builtin_model_dir

    return builtin_model_dir()
