"""The one figure style: Agg backend, fonts, sizes, a colour per rule, saving helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from paradec._json import jsonable  # noqa: E402

__all__ = ["RULE_COLORS", "RULE_NAMES", "WIDTH", "HEIGHT", "DPI", "apply", "figure", "save",
           "save_json", "load_json", "jsonable", "rule_color", "floats"]

#: colour of each rule (static is quota k = 1, drawn in black).
RULE_COLORS: dict[str, str] = {
    "static": "#000000", "quota": "#7f7f7f", "threshold": "#1f77b4", "factor": "#ff7f0e",
    "frechet": "#2ca02c", "tight": "#d62728", "entropy": "#9467bd", "freedave": "#8c564b",
    "predicted": "#17becf", "measured": "#8c564b",
}
RULE_NAMES: dict[str, str] = {
    "quota": "quota k", "threshold": "threshold τ", "factor": "factor f",
    "frechet": "Fréchet δ", "tight": "tight δ", "entropy": "entropy γ",
}
WIDTH, HEIGHT, DPI = 10.0, 4.2, 110


def apply() -> None:
    """Set the shared rcParams (called by :func:`figure`)."""
    plt.rcParams.update({
        "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 8.5,
        "xtick.labelsize": 9, "ytick.labelsize": 9, "axes.grid": True, "grid.alpha": 0.3,
        "axes.spines.top": False, "axes.spines.right": False, "savefig.bbox": "tight",
        "figure.dpi": DPI})


def rule_color(name: str) -> str:
    return RULE_COLORS.get(name, "#333333")


def figure(ncols: int = 2, nrows: int = 1, width: float = WIDTH,
           height: float = HEIGHT) -> tuple[Figure, Any]:
    """A figure with a grid of axes (squeezed like plt.subplots)."""
    apply()
    return plt.subplots(nrows, ncols, figsize=(width, height * nrows), constrained_layout=True)


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG at ``path`` (folders created) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def floats(x: Any) -> Any:
    """A float array from a list that may hold None (JSON's NaN)."""
    import numpy as np

    return np.asarray([np.nan if v is None else v for v in x], dtype=float)


def save_json(data: dict[str, Any], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(jsonable(data), indent=1) + "\n")
    return path


def load_json(path: str | Path) -> dict[str, Any]:
    return dict(json.loads(Path(path).read_text()))
