"""The shared error-model tolerance: the bound it states, and that it is a bound (fails just
above it, passes just below)."""

import numpy as np
import pytest
import torch

from realmodel.model.tiny import tiny_config
from tests.tolerance import (
    Path,
    assert_close,
    assert_within_se,
    clear_of_ties,
    float_tolerance,
    llada_path,
    unit_roundoff,
)


def test_unit_roundoff_is_half_the_machine_epsilon():
    assert unit_roundoff(torch.float32) == 2.0**-24
    assert unit_roundoff(torch.bfloat16) == 2.0**-8
    assert unit_roundoff(np.float64) == 2.0**-53


def test_tolerance_is_the_stated_formula():
    path = Path(n=100, stages=3)
    assert float_tolerance(torch.float32, path, 2.0) == 2 * 3 * (3 + 100) * 2.0**-24 * 2.0
    # bf16 operands, float32 accumulation
    assert float_tolerance(torch.bfloat16, path, 1.0) == 2 * 3 * (3 * 2.0**-8 + 100 * 2.0**-24)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_a_perturbation_just_above_the_bound_fails_and_just_below_passes(dtype):
    x = torch.linspace(-3, 5, 64, dtype=torch.float64)
    path = Path(n=48, stages=20)
    tol = float_tolerance(dtype, path, 5.0)
    below, above = x.clone(), x.clone()
    below[7] += 0.99 * tol
    above[7] += 1.01 * tol
    assert assert_close(below, x, path, dtype=dtype) == tol
    with pytest.raises(AssertionError, match="1 of 64 elements"):
        assert_close(above, x, path, dtype=dtype)


def test_the_dtype_defaults_to_the_less_precise_input():
    x = torch.ones(4)
    path = Path(n=8)
    assert assert_close(x.bfloat16(), x, path) == float_tolerance(torch.bfloat16, path, 1.0)


def test_shapes_and_non_finite_values_fail():
    with pytest.raises(AssertionError, match="shapes"):
        assert_close(torch.zeros(3), torch.zeros(1, 3), Path(n=1))
    with pytest.raises(AssertionError, match="non-finite"):
        assert_close(torch.tensor([float("nan")]), torch.zeros(1), Path(n=1))
    with pytest.raises(ValueError, match="n and stages"):
        Path(n=0)


def test_llada_path_counts_nine_reductions_a_layer_and_the_longest_sum():
    cfg = tiny_config()
    assert llada_path(cfg, keys=10) == Path(n=cfg.mlp_hidden_size, stages=9 * 2 + 2)
    assert llada_path(cfg, keys=4096).n == 4096


def test_ties_within_the_bound_are_excluded():
    logits = torch.tensor([[1.0, 1.0 + 1e-6, 0.0], [3.0, 1.0, 0.0]])
    assert clear_of_ties(logits, 1e-5).tolist() == [False, True]


def test_estimates_are_judged_in_units_of_their_standard_error():
    assert_within_se(1.039, 1.0, 0.01)
    with pytest.raises(AssertionError, match="4.10 standard errors"):
        assert_within_se(1.041, 1.0, 0.01)
    with pytest.raises(ValueError, match="standard error"):
        assert_within_se(1.0, 1.0, 0.0)
