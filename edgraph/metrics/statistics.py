r"""Per-graph statistics of a padded batch ``adj [B, N, N]``, ``node_mask [B, N]``.

Every function returns one row per graph and equals, graph by graph, the networkx/scipy
definitions used by the published evaluations (GraphRNN, GRAN, GDSS):

* degree histogram: ``networkx.degree_histogram`` (counts of nodes by degree);
* clustering histogram: ``numpy.histogram(networkx.clustering(G).values(), bins=100,
  range=(0, 1))`` with :math:`c_i = (A^3)_{ii} / (d_i(d_i - 1))`;
* spectral histogram: ``numpy.histogram(eigvalsh(normalized_laplacian), bins=200,
  range=(-1e-5, 2))``;
* orbit statistic: the mean over nodes of the 15 orbit counts (:mod:`edgraph.metrics.orbits`).

Histograms hold counts; the kernels normalise them.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from edgraph.metrics.orbits import orbit_counts_dense


def _node_mask(adj: Tensor, node_mask: Tensor | None) -> Tensor:
    if adj.dim() != 3 or adj.shape[-1] != adj.shape[-2]:
        raise ValueError(f"adj must have shape [B, N, N], got {list(adj.shape)}")
    if node_mask is None:
        return torch.ones(adj.shape[:2], dtype=torch.bool, device=adj.device)
    if node_mask.shape != adj.shape[:2]:
        raise ValueError(f"node_mask must have shape {list(adj.shape[:2])}, got {list(node_mask.shape)}")
    return node_mask.bool()


def histogram(values: Tensor, valid: Tensor, bins: int, lower: float, upper: float) -> Tensor:
    r"""Row-wise ``numpy.histogram(values[valid], bins, range=(lower, upper))``, ``int64 [B, bins]``.

    Bin :math:`k` holds :math:`e_k \le v < e_{k+1}` with numpy's edges
    ``linspace(lower, upper, bins + 1)``; the last bin is closed; values outside are dropped.

    >>> histogram(torch.tensor([[0.0, 0.5, 1.0, 3.0]]), torch.ones(1, 4, dtype=torch.bool), 2, 0.0, 1.0)
    tensor([[1, 2]])
    """
    edges = torch.from_numpy(np.linspace(lower, upper, bins + 1)).to(values.device)
    values = values.to(torch.float64)
    index = torch.bucketize(values, edges, right=True) - 1
    index = torch.where(values == upper, bins - 1, index)
    keep = valid & (index >= 0) & (index < bins)
    counts = torch.zeros(values.shape[0], bins, dtype=torch.long, device=values.device)
    return counts.scatter_add_(1, index.clamp(0, bins - 1), keep.long())


def degree_histogram(adj: Tensor, node_mask: Tensor | None = None) -> Tensor:
    """Number of nodes of each degree ``0..N-1``, ``int64 [B, N]``.

    >>> degree_histogram(torch.tensor([[[0., 1., 1.], [1., 0., 0.], [1., 0., 0.]]]))
    tensor([[0, 2, 1]])
    """
    node_mask = _node_mask(adj, node_mask)
    degree = adj.sum(-1).round().long()
    counts = torch.zeros(adj.shape[:2], dtype=torch.long, device=adj.device)
    return counts.scatter_add_(1, degree, node_mask.long())


def clustering_coefficients(adj: Tensor) -> Tensor:
    r"""Local clustering :math:`c_i = (A^3)_{ii} / (d_i (d_i - 1))` (0 when :math:`d_i < 2`), ``[B, N]``.

    >>> clustering_coefficients(torch.ones(1, 3, 3) - torch.eye(3))
    tensor([[1., 1., 1.]], dtype=torch.float64)
    """
    a = adj.to(torch.float64)
    degree = a.sum(-1)
    closed = ((a @ a) * a).sum(-1)  # (A^3)_ii: twice the triangles at i
    pairs = degree * (degree - 1)
    return torch.where(closed > 0, closed / pairs.clamp(min=1), torch.zeros_like(closed))


def clustering_histogram(adj: Tensor, node_mask: Tensor | None = None, bins: int = 100) -> Tensor:
    """Histogram of the local clustering coefficients on ``[0, 1]``, ``int64 [B, bins]``.

    >>> clustering_histogram(torch.ones(1, 3, 3) - torch.eye(3), bins=4)
    tensor([[0, 0, 0, 3]])
    """
    return histogram(clustering_coefficients(adj), _node_mask(adj, node_mask), bins, 0.0, 1.0)


def normalized_laplacian_spectrum(adj: Tensor, node_mask: Tensor | None = None) -> Tensor:
    r"""Eigenvalues of :math:`I - D^{-1/2} A D^{-1/2}` (0 on the diagonal of isolated nodes), ``[B, N]``.

    Ascending per graph; padding positions hold ``nan``. Eigenvalues are clamped to
    :math:`[0, 2]`, the range they lie in exactly: a bipartite component has eigenvalue
    exactly 2, which rounding may otherwise push just above the histogram range.

    >>> normalized_laplacian_spectrum(torch.tensor([[[0., 1.], [1., 0.]]]))
    tensor([[0., 2.]], dtype=torch.float64)
    """
    node_mask = _node_mask(adj, node_mask)
    a = adj.to(torch.float64)
    degree = a.sum(-1)
    scale = torch.where(degree > 0, 1.0 / degree.sqrt(), torch.zeros_like(degree))
    laplacian = torch.diag_embed(degree) - a
    laplacian = scale[..., :, None] * (laplacian * scale[..., None, :])
    # Padding nodes become decoupled eigenvalues far above 2, so they sort last.
    laplacian = laplacian + torch.diag_embed((~node_mask).to(torch.float64) * 10.0)
    eigenvalues = torch.linalg.eigvalsh(laplacian).clamp(0.0, 2.0)
    num_nodes = node_mask.sum(-1, keepdim=True)
    position = torch.arange(adj.shape[-1], device=adj.device)
    return torch.where(position < num_nodes, eigenvalues, torch.full_like(eigenvalues, float("nan")))


def spectral_histogram(adj: Tensor, node_mask: Tensor | None = None, bins: int = 200) -> Tensor:
    """Histogram of the normalised-Laplacian eigenvalues on ``(-1e-5, 2)``, ``int64 [B, bins]``.

    >>> spectral_histogram(torch.tensor([[[0., 1.], [1., 0.]]]), bins=4)
    tensor([[1, 0, 0, 1]])
    """
    spectrum = normalized_laplacian_spectrum(adj, node_mask)
    return histogram(spectrum, ~spectrum.isnan(), bins, -1e-5, 2.0)


def orbit_statistic(adj: Tensor, node_mask: Tensor | None = None) -> Tensor:
    """Mean over the graph's nodes of the 15 node-orbit counts, ``float64 [B, 15]``.

    >>> orbit_statistic(torch.ones(1, 4, 4) - torch.eye(4))[0, [0, 3, 14]].tolist()
    [3.0, 3.0, 1.0]
    """
    node_mask = _node_mask(adj, node_mask)
    counts = orbit_counts_dense(adj, node_mask).to(torch.float64)
    return counts.sum(1) / node_mask.sum(-1, keepdim=True).clamp(min=1)
