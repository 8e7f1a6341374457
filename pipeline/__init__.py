"""pipeline: YAML briefs to reviewed-ready drafts with MLX."""

from .cpu_blas import use_fast_blas

# Before anything imports mlx: on a Linux CPU, MLX's matmuls then use OpenBLAS (see cpu_blas.py).
use_fast_blas()
