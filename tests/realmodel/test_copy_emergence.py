"""benchmarks/copy_emergence.py: its task is laid out like the engine's canvas, and the
shipped models' objective teaches copying at a fixed offset within a few hundred steps."""

import pytest
import torch

from tests.scripts import load_benchmark


def _script():
    return load_benchmark("copy_emergence")


@pytest.mark.parametrize("fixed", [True, False])
def test_the_copy_task_repeats_the_prompt_symbols_on_a_left_padded_canvas(fixed):
    ce = _script()
    task = ce.CopyTask(vocab=20, length=8, fixed=fixed)
    x, key_ok, positions, P = task.batch(32, torch.Generator().manual_seed(0))
    assert P == 9 and x.shape == (32, 17)
    lengths = set()
    for row, ok, pos in zip(x, key_ok, positions, strict=True):
        k = int(ok[:P].sum()) - 1
        lengths.add(k)
        prompt = row[P - 1 - k:P - 1]
        assert row[P - 1] == ce.SEP and not ok[:P - 1 - k].any()
        assert (prompt >= ce.FIRST).all() and (prompt < 20).all()
        assert torch.equal(row[P:P + k], prompt) and (row[P + k:] == ce.EOS).all()
        assert pos[P - 1 - k] == 0 and pos[-1] == k + 8  # positions count real tokens
    assert lengths == {8} if fixed else len(lengths) > 1 and lengths <= set(range(4, 9))


def test_copying_at_a_fixed_offset_is_learned_in_a_few_hundred_steps():
    """The positional half of the LOG's finding, small: chance is 1/17 here."""
    ce = _script()
    curve = ce.train_copy(ce.CopyTask(vocab=20, length=6, fixed=True), steps=300, every=150,
                          d_model=32, batch_size=32, echo=False)
    assert curve[-1][2] > 0.9, curve
    assert ce.first_step(curve) is not None


def test_the_results_probe_masks_exactly_the_digits_of_each_worked_result():
    """copy_probe's arithmetic probe: the spans it finds are the results of the worked
    steps, digit for digit, in order."""
    import re

    from realmodel.shipped import heldout_problems, load_shipped

    probe = load_benchmark("copy_probe")
    den = load_shipped("tiny-words")
    tok = den.tokenizer
    for problem in heldout_problems("tiny-words")[:40]:
        ids = tok(problem.response, add_special_tokens=False)["input_ids"]
        spans = probe._results(den, ids)
        found = [tok.decode([ids[j] for j in span]) for span in spans]
        assert found == re.findall(r"= (\d+)", problem.response), problem.response
