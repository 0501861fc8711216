"""Float tolerances from an error model: the one helper every test comparing two
computations of the same quantity uses (two kernels, two code paths, two dtypes).

The model (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., Sec. 3.1
and Thm 3.5). A computed sum of n terms satisfies
|fl(sum x_i) - sum x_i| <= gamma_{n-1} sum |x_i|, gamma_n = n u / (1 - n u), where u is
the unit roundoff of the accumulation dtype, whatever the order of the additions: a SIMD
kernel, a blocked GEMM, a thread split or a padded row change the order, never the bound.
If the operands are stored in a lower precision (bf16 weights and activations with float32
accumulation), rounding each of the two factors of a product adds 2 u_store relative error
per term, and rounding the result once more adds u_store. A network is a chain of
``stages`` such reductions (projections, attention scores, softmax normaliser, weighted
sums, norms, LM head); to first order their relative errors add when every stage is
well-conditioned, which the normalised residual stream of a pre-norm transformer makes
the working assumption (Higham Sec. 3.3, the first-order propagation of componentwise
errors). Two evaluations each carry that error, so they differ by at most twice it:

    tol = 2 * stages * (3 u_store + n u_acc) * magnitude,

where ``magnitude`` bounds sum |x_i| over the output's terms (we take the largest
absolute output value: the terms of a softmax-normalised or RMS-normalised stage are of
the output's size), and n is the longest reduction on the path. For float32 and float64
u_store = u_acc. The bound is worst-case in the order of additions, so it holds on every
CPU kernel (default, AVX2, AVX-512, AMX) and thread count; it does not hold for an
ill-conditioned computation (heavy cancellation), which a test must not compare this way.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["unit_roundoff", "float_tolerance", "assert_close", "llada_path",
           "assert_within_se", "clear_of_ties", "Path"]


def unit_roundoff(dtype: torch.dtype | np.dtype | type) -> float:
    """u = eps / 2 of a torch or numpy floating dtype (float32: 2**-24, bf16: 2**-8)."""
    if isinstance(dtype, torch.dtype):
        return torch.finfo(dtype).eps / 2
    return float(np.finfo(dtype).eps) / 2


def _accumulation(dtype: torch.dtype | np.dtype | type) -> torch.dtype | np.dtype | type:
    """Half-precision operands accumulate in float32 (oneDNN, cuBLAS, torch's reductions)."""
    if dtype in (torch.bfloat16, torch.float16, np.float16):
        return torch.float32
    return dtype


@dataclass(frozen=True)
class Path:
    """The reduction structure of a computation: ``stages`` reductions in a chain, the
    longest summing ``n`` terms."""

    n: int
    stages: int = 1

    def __post_init__(self) -> None:
        if self.n < 1 or self.stages < 1:
            raise ValueError(f"n and stages must be >= 1, got n={self.n}, stages={self.stages}")


def llada_path(config, keys: int) -> Path:
    """A LLaDA-shaped forward (realmodel.model.llada): per layer 9 reductions (attention norm,
    q/k/v projection, scores over head_dim, softmax normaliser and weighted sum over the
    keys, output projection, MLP norm, gate/up projection, down projection) plus the final
    norm and the head; the longest reduction is d_model, the MLP width or the key count."""
    n = max(config.d_model, config.mlp_hidden_size, keys)
    return Path(n=n, stages=9 * config.n_layers + 2)


def float_tolerance(dtype, path: Path, magnitude: float) -> float:
    """2 * stages * (3 u_store + n u_acc) * magnitude (the module docstring's model)."""
    if not (math.isfinite(magnitude) and magnitude >= 0):
        raise ValueError(f"magnitude must be finite and >= 0, got {magnitude}")
    u_store, u_acc = unit_roundoff(dtype), unit_roundoff(_accumulation(dtype))
    return 2 * path.stages * (3 * u_store + path.n * u_acc) * magnitude


def assert_close(actual, expected, path: Path, *, dtype=None, magnitude: float | None = None,
                 ) -> float:
    """Assert |actual - expected| <= float_tolerance elementwise; returns the tolerance.

    ``dtype`` defaults to the lower precision of the two inputs; ``magnitude`` to
    max |expected|. Torch tensors or numpy arrays; shapes must match exactly. NaN or inf
    anywhere fails (a comparison of finite computations).
    """
    a = actual.detach().cpu().double().numpy() if torch.is_tensor(actual) else np.asarray(actual)
    e = (expected.detach().cpu().double().numpy() if torch.is_tensor(expected)
         else np.asarray(expected))
    if a.shape != e.shape:
        raise AssertionError(f"shapes differ: {a.shape} vs {e.shape}")
    if not (np.isfinite(a).all() and np.isfinite(e).all()):
        raise AssertionError("non-finite values in a float comparison")
    if dtype is None:
        dtypes = [x.dtype for x in (actual, expected)]
        dtype = max(dtypes, key=lambda d: unit_roundoff(d))
    if magnitude is None:
        magnitude = float(np.abs(e).max(initial=0.0))
    tol = float_tolerance(dtype, path, magnitude)
    diff = np.abs(a.astype(np.float64) - e.astype(np.float64))
    worst = float(diff.max(initial=0.0))
    _log_headroom(worst, tol)
    if worst > tol:
        bad = int((diff > tol).sum())
        raise AssertionError(
            f"{bad} of {diff.size} elements differ by more than the error-model bound "
            f"{tol:.3g} (dtype {dtype}, n={path.n}, stages={path.stages}, magnitude "
            f"{magnitude:.3g}); largest difference {worst:.3g} = {worst / tol:.2f} x bound")
    return tol


def _log_headroom(worst: float, tol: float) -> None:
    """With PARADEC_TOLERANCE_LOG=FILE, append "test worst bound worst/bound" to FILE: the
    measured headroom of every error-model comparison (docs/LOG.md quotes it)."""
    path = os.environ.get("PARADEC_TOLERANCE_LOG")
    if path:
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]
        with open(path, "a") as f:
            f.write(f"{test}\t{worst:.3g}\t{tol:.3g}\t{worst / tol if tol else 0:.4f}\n")


def assert_within_se(estimate: float, truth: float, se: float, *, z: float = 4.0) -> None:
    """Assert |estimate - truth| <= z * se: a Monte Carlo estimate in units of its standard
    error (z = 4: a correct estimator fails one seed in about 16,000)."""
    if not (se > 0 and math.isfinite(se)):
        raise ValueError(f"standard error must be positive and finite, got {se}")
    if not abs(estimate - truth) <= z * se:
        raise AssertionError(f"estimate {estimate:.6g} is {abs(estimate - truth) / se:.2f} "
                             f"standard errors ({se:.3g}) from {truth:.6g}; allowed {z}")


def clear_of_ties(logits: torch.Tensor, tol: float) -> torch.Tensor:
    """(..., V) logits -> (...) bool: True where the top logit leads the runner-up by more
    than 2 tol, so two evaluations within tol of each other pick the same argmax there."""
    top2 = logits.double().topk(2, dim=-1).values
    return (top2[..., 0] - top2[..., 1]) > 2 * tol
