"""Figures written into run directories: a grid of graphs and the training-loss curve."""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402

from edgraph.io import atomic_write  # noqa: E402


def plot_graph_grid(rows: dict[str, Sequence[nx.Graph]], path: str | os.PathLike, per_row: int = 8) -> None:
    """Draw graphs in a grid, one labelled row per entry of ``rows`` (e.g. samples vs test).

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "grid.png"
    >>> plot_graph_grid({"paths": [nx.path_graph(4)] * 3}, out); out.stat().st_size > 0
    True
    """
    fig, axes = plt.subplots(len(rows), per_row, figsize=(1.6 * per_row, 1.8 * len(rows)), squeeze=False)
    for r, (label, graphs) in enumerate(rows.items()):
        for c, ax in enumerate(axes[r]):
            ax.set_axis_off()
            if c < len(graphs):
                graph = graphs[c]
                nx.draw_networkx(
                    graph,
                    pos=nx.spring_layout(graph, seed=0),
                    ax=ax,
                    node_size=18,
                    with_labels=False,
                    width=0.7,
                    node_color="#2b6cb0",
                )
                ax.set_title(f"{graph.number_of_nodes()}n {graph.number_of_edges()}e", fontsize=7)
        axes[r][0].text(
            -0.15, 0.5, label, transform=axes[r][0].transAxes, rotation=90, ha="right", va="center", fontsize=9
        )
    _save(fig, path)


def plot_loss(metrics_csvs: Sequence[str | os.PathLike], path: str | os.PathLike, smooth: int = 20) -> None:
    """Plot the ``loss`` column of Lightning ``metrics.csv`` files (a run and its resumptions)
    against the step, with a moving average."""
    steps, losses = [], []
    for metrics_csv in metrics_csvs:
        with open(metrics_csv) as handle:
            for row in csv.DictReader(handle):
                if row.get("loss"):
                    steps.append(int(row["step"]))
                    losses.append(float(row["loss"]))
    window = max(1, min(smooth, len(losses) // 5))
    averaged = [
        sum(losses[max(0, i - window + 1) : i + 1]) / len(losses[max(0, i - window + 1) : i + 1])
        for i in range(len(losses))
    ]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(steps, losses, color="#cbd5e0", linewidth=0.8, label="ED loss")
    ax.plot(steps, averaged, color="#2b6cb0", linewidth=1.5, label=f"moving average ({window})")
    ax.set_xlabel("step")
    ax.set_ylabel("ED loss")
    if losses and all(math.isfinite(v) for v in losses):
        ax.legend(fontsize=8)
    _save(fig, path)


def _save(fig: plt.Figure, path: str | os.PathLike) -> None:
    """Write a figure as PNG, atomically, and close it."""
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    atomic_write(path, buffer.getvalue())
