"""Safe loading: paradec's checkpoints are safetensors only, pickles are loaded with
``weights_only=True`` or not at all, and remote code never runs by default.

The malicious file below is a real pickle whose ``__reduce__`` opens a sentinel file for
writing: if anything unpickled it unsafely, the sentinel would exist.
"""

from __future__ import annotations

import ast
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from realmodel.model import hf
from realmodel.model.checkpoint import load_llada, save_llada
from realmodel.model.tiny import random_llada, tiny_config
from realmodel.models import load_denoiser

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("theory", "simulate", "realmodel", "paradec", "benchmarks")


class Sentinel:
    """Unpickling this calls ``open(path, "w")``: the sentinel file appears."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.path), "w"))


def _evil_pickle(target: Path, sentinel: Path) -> Path:
    torch.save({"weight": torch.zeros(2), "payload": Sentinel(sentinel)}, target)
    return target


@pytest.fixture
def sentinel(tmp_path: Path) -> Path:
    return tmp_path / "PWNED"


def test_the_sentinel_works_when_unpickled_unsafely(tmp_path, sentinel):
    """The control: the same file does run its payload under weights_only=False."""
    path = _evil_pickle(tmp_path / "evil.bin", sentinel)
    torch.load(path, weights_only=False)["payload"].close()  # the payload: an open file
    assert sentinel.exists()


def test_torch_load_with_weights_only_refuses_the_payload(tmp_path, sentinel):
    path = _evil_pickle(tmp_path / "evil.bin", sentinel)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
    assert not sentinel.exists()


def _llada_folder(tmp_path: Path) -> tuple[Path, dict]:
    model = random_llada(tiny_config(d_model=32, n_heads=2, vocab_size=64), seed=0)
    good = save_llada(model, tmp_path / "good")
    return good, json.loads((good / "config.json").read_text())


@pytest.mark.parametrize("name", ["pytorch_model.bin", "model.pt", "weights.pth"])
def test_a_pickle_in_a_paradec_checkpoint_is_refused_unopened(tmp_path, sentinel, name):
    _, config = _llada_folder(tmp_path)
    folder = tmp_path / "pickled"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    _evil_pickle(folder / name, sentinel)
    for load in (lambda: load_llada(folder), lambda: load_denoiser(str(folder))):
        with pytest.raises(ValueError, match=f"pickled weights \\({name}\\).*never unpickles"):
            load()
    assert not sentinel.exists()


def test_an_index_naming_a_pickle_shard_is_refused(tmp_path, sentinel):
    _, config = _llada_folder(tmp_path)
    folder = tmp_path / "indexed"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    _evil_pickle(folder / "model-00001-of-00001.bin", sentinel)
    (folder / "model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {"model.transformer.wte.weight": "model-00001-of-00001.bin"}}))
    with pytest.raises(ValueError, match="shards must be .safetensors files"):
        load_llada(folder)
    assert not sentinel.exists()


def test_a_pickle_renamed_to_safetensors_is_refused(tmp_path, sentinel):
    _, config = _llada_folder(tmp_path)
    folder = tmp_path / "renamed"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    _evil_pickle(folder / "model.safetensors", sentinel)
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        load_llada(folder)
    assert not sentinel.exists()


def test_a_transformers_folder_with_a_malicious_bin_does_not_run_it(tmp_path, sentinel):
    from transformers import BertConfig

    folder = tmp_path / "bert"
    folder.mkdir()
    BertConfig(vocab_size=30, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
               intermediate_size=32).save_pretrained(folder)
    _evil_pickle(folder / "pytorch_model.bin", sentinel)
    with pytest.raises(ValueError, match="cannot load the masked LM"):
        load_denoiser(str(folder))
    assert not sentinel.exists()


def test_antiberty_weights_are_loaded_weights_only(tmp_path, sentinel, monkeypatch):
    files = dict(hf.antiberty_files())
    files["weights"] = _evil_pickle(tmp_path / "pytorch_model.bin", sentinel)
    monkeypatch.setattr(hf, "antiberty_files", lambda: files)
    with pytest.raises(pickle.UnpicklingError):
        hf.load_antiberty()
    assert not sentinel.exists()


def test_certify_refuses_pickled_npz_arrays(tmp_path, sentinel):
    from tests.fuzz.cli import assert_usage_error, run_cli

    path = tmp_path / "evil.npz"
    buffer = io.BytesIO()
    np.savez(buffer, c=np.array([Sentinel(sentinel)], dtype=object))
    path.write_bytes(buffer.getvalue())
    assert_usage_error(run_cli(["certify", "--input", str(path)]), "cannot read")
    assert not sentinel.exists()


def test_remote_code_is_off_unless_asked(monkeypatch, tmp_path):
    """load_denoiser passes trust_remote_code=False to transformers by default."""
    from transformers import AutoModelForMaskedLM

    seen: dict[str, object] = {}

    def spy(path, **kwargs):
        seen.update(kwargs)
        raise OSError("stop here")

    monkeypatch.setattr(AutoModelForMaskedLM, "from_pretrained", spy)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ValueError, match="stop here"):
        load_denoiser(str(tmp_path))
    assert seen["trust_remote_code"] is False and seen["local_files_only"] is True
    with pytest.raises(ValueError):
        load_denoiser(str(tmp_path), trust_remote_code=True)
    assert seen["trust_remote_code"] is True


def _calls(name: str) -> list[tuple[str, int, ast.Call]]:
    """Every call to ``*.name(...)`` or ``name(...)`` in the packages."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    func = node.func
                    called = func.attr if isinstance(func, ast.Attribute) else \
                        getattr(func, "id", None)
                    if called == name:
                        found.append((str(path.relative_to(ROOT)), node.lineno, node))
    return found


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def test_every_torch_load_in_the_packages_is_weights_only():
    loads = [(f, line, c) for f, line, c in _calls("load")
             if isinstance(c.func, ast.Attribute) and getattr(c.func.value, "id", "") == "torch"]
    assert loads, "the audit found no torch.load at all (realmodel/model/hf.py has one)"
    for path, line, call in loads:
        value = _keyword(call, "weights_only")
        assert isinstance(value, ast.Constant) and value.value is True, f"{path}:{line}"


def test_no_package_sets_trust_remote_code_true_and_from_pretrained_says_it():
    for path, line, call in _calls("from_pretrained"):
        value = _keyword(call, "trust_remote_code")
        assert value is not None, f"{path}:{line}: from_pretrained without trust_remote_code="
        assert not (isinstance(value, ast.Constant) and value.value is True), f"{path}:{line}"
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.keyword) and node.arg == "trust_remote_code":
                    assert not (isinstance(node.value, ast.Constant) and node.value.value), \
                        f"{path}: trust_remote_code=True"


def test_numpy_loads_in_the_packages_refuse_pickles():
    for path, line, call in _calls("load"):
        if isinstance(call.func, ast.Attribute) and getattr(call.func.value, "id", "") == "np":
            value = _keyword(call, "allow_pickle")
            assert isinstance(value, ast.Constant) and value.value is False, f"{path}:{line}"
