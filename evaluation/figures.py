"""A grid of 2-D density panels (rows: densities, columns: data and methods) for the toy scripts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def density_grid(
    rows: Sequence[str], columns: Sequence[str], draw: Callable[[object, str, str], None], path: Path, cell: float = 1.6
) -> None:
    """Call ``draw(ax, row, column)`` for every panel; label rows and columns; save to ``path``."""
    fig, axes = plt.subplots(len(rows), len(columns), figsize=(cell * len(columns), cell * len(rows)), squeeze=False)
    for r, row in enumerate(rows):
        for c, column in enumerate(columns):
            draw(axes[r, c], row, column)
        axes[r, 0].set_ylabel(row, fontsize=7)
    for c, column in enumerate(columns):
        axes[0, c].set_title(column, fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
