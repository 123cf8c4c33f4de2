r"""Exact 4-node orbit counts (graphlet degree vectors) from adjacency-matrix identities.

For every node :math:`x` we count, for each of the 15 node orbits of the connected graphlets on
2-4 nodes, how many *induced* graphlets touch :math:`x` in that orbit. The order is ORCA's
(Hočevar & Demšar, "A combinatorial approach to graphlet counting", Bioinformatics 2014):

====  ==========================  ====  ==========================================
 0    edge (degree)                8    4-cycle
 1    end of a 3-path              9    paw: end of the tail (degree-1 node)
 2    middle of a 3-path          10    paw: triangle node of degree 2
 3    triangle                    11    paw: node of degree 3
 4    end of a 4-path             12    diamond: node of degree 2
 5    inner node of a 4-path      13    diamond: node of degree 3
 6    leaf of a 3-star            14    4-clique
 7    centre of a 3-star
====  ==========================  ====  ==========================================

Method. With :math:`A` the adjacency, :math:`d = A\mathbf 1`, :math:`C = A^2 - \mathrm{diag}(d)`
(common neighbours), :math:`E = A \odot C` (triangles on each edge) and :math:`t = \tfrac12 E\mathbf 1`
(triangles at each node), the number :math:`N_k(x)` of *not necessarily induced* copies of each
4-node pattern in which :math:`x` sits at orbit :math:`k` is a short matrix expression (see
``_subgraph_counts``); only the 4-clique needs a three-index quantity, the number of
triangles inside each neighbourhood. Each induced graphlet on 4 nodes contains a fixed number
of copies of the smaller patterns (a 4-clique contains 3 diamonds at every node, ...), so
:math:`N = M o` with :math:`M` unit upper-triangular, and the induced counts :math:`o` follow by
back-substitution (``_induced_from_subgraph_counts``). Everything is batched over padded
adjacency ``[B, N, N]`` in float64, which is exact for all counts below :math:`2^{53}`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from edgraph.graphs import GraphLike, graphs_to_dense

#: Number of node orbits counted (orbits 0-14 of the graphlets on 2-4 nodes, in ORCA order).
NUM_ORBITS = 15

#: Elements of the neighbourhood blocks gathered at once when counting 4-cliques.
_NEIGHBOURHOOD_BUDGET = 1 << 24


def _choose2(v: Tensor) -> Tensor:
    return v * (v - 1) / 2


def _four_cliques(adj: Tensor, edge_tri: Tensor) -> Tensor:
    r"""Number of 4-cliques at every node, ``[B, N]``: the triangles among its neighbours.

    Only *strong* neighbours :math:`j` (edge :math:`xj` on at least 2 triangles) can share a
    4-clique with :math:`x`, and only nodes with at least 3 of them can be in one. The strong
    neighbourhood of each such node is gathered into a ``[Δ, Δ]`` block (Δ = its largest size)
    and its triangles are :math:`\tfrac16 \sum_{jk} S_{jk} (S^2)_{jk}`; candidates are
    processed in chunks, so graphs with few 4-cliques or hundreds of sparse nodes stay cheap.
    """
    batch, n, _ = adj.shape
    out = adj.new_zeros(batch, n)
    strong = adj * (edge_tri >= 2)
    # An edge of a 4-clique lies on 2 triangles of strong edges too: prune once more.
    strong = strong * ((strong @ strong) * strong >= 2)
    strong_degree = strong.sum(-1)
    graph, node = (strong_degree >= 3).nonzero(as_tuple=True)
    if len(graph) == 0:
        return out
    size = int(strong_degree[graph, node].max())
    is_strong, neighbour = strong[graph, node].topk(size, dim=-1)  # [M, Δ]; strong ones first
    offset = (graph * n * n)[:, None, None]
    # float32 products are exact (entries of S @ S are at most Δ < 2^24); sums are taken in float64.
    dtype = torch.float32 if size < 4096 else torch.float64
    chunk = max(1, _NEIGHBOURHOOD_BUDGET // (size * size))
    for start in range(0, len(graph), chunk):
        part = slice(start, start + chunk)
        nbr, valid = neighbour[part], is_strong[part]
        block = adj.take(offset[part] + nbr[:, :, None] * n + nbr[:, None, :])
        block = (block * valid[:, :, None] * valid[:, None, :]).to(dtype)
        out[graph[part], node[part]] = ((block @ block) * block).to(adj.dtype).sum((-1, -2)) / 6
    return out


def _subgraph_counts(adj: Tensor) -> tuple[Tensor, Tensor]:
    r"""Orbits 0-3 (already induced) and non-induced pattern counts :math:`N_4..N_{14}`.

    Returns ``small [B, N, 4]`` and ``patterns [B, N, 11]`` (columns :math:`N_4, ..., N_{14}`).
    """
    a = adj.to(torch.float64)
    deg = a.sum(-1)
    a2 = a @ a
    common = a2 - torch.diag_embed(deg)  # common neighbours of distinct nodes
    edge_tri = a * common  # triangles through each edge
    tri = edge_tri.sum(-1) / 2

    def spread(v: Tensor) -> Tensor:  # (A v)_x = sum of v over the neighbours of x
        return (a @ v.unsqueeze(-1)).squeeze(-1)

    paths2 = spread(deg - 1)  # walks x-a-b with b != x
    small = torch.stack([deg, paths2 - 2 * tri, _choose2(deg) - tri, tri], dim=-1)
    patterns = torch.stack(
        [
            spread(paths2) - deg * (deg - 1) - 2 * tri,  # N4: x end of a 4-path
            (deg - 1) * paths2 - 2 * tri,  # N5: x inner node of a 4-path
            spread(_choose2(deg - 1)),  # N6: x leaf of a 3-star
            _choose2(deg) * (deg - 2) / 3,  # N7: x centre of a 3-star
            _choose2(common).sum(-1),  # N8: 4-cycles through x
            spread(tri) - 2 * tri,  # N9: x tail of a paw
            (edge_tri * (deg.unsqueeze(-2) - 2)).sum(-1),  # N10: x degree-2 paw node
            tri * (deg - 2),  # N11: x centre of a paw
            ((a @ (edge_tri - a)) * a).sum(-1) / 2,  # N12: x degree-2 diamond node
            _choose2(edge_tri).sum(-1),  # N13: x degree-3 diamond node
            _four_cliques(a, edge_tri),  # N14: 4-cliques at x
        ],
        dim=-1,
    )
    return small, patterns


def _induced_from_subgraph_counts(n: Tensor) -> Tensor:
    r"""Back-substitute :math:`N = M o` for the induced orbit counts :math:`o_4..o_{14}`.

    Row :math:`k` of :math:`M` lists how many copies of pattern orbit :math:`k` an induced
    graphlet contains at a node of orbit :math:`o` (e.g. a 4-clique node is the end of 6 of the
    12 Hamiltonian paths, a degree-3 diamond node the centre of one 3-star).
    """
    n4, n5, n6, n7, n8, n9, n10, n11, n12, n13, n14 = n.unbind(-1)
    o14 = n14
    o13 = n13 - 3 * o14
    o12 = n12 - 3 * o14
    o11 = n11 - 2 * o13 - 3 * o14
    o10 = n10 - 2 * o12 - 2 * o13 - 6 * o14
    o9 = n9 - 2 * o12 - 3 * o14
    o8 = n8 - o12 - o13 - 3 * o14
    o7 = n7 - o11 - o13 - o14
    o6 = n6 - o9 - o10 - 2 * o12 - o13 - 3 * o14
    o5 = n5 - 2 * o8 - o10 - 2 * o11 - 2 * o12 - 4 * o13 - 6 * o14
    o4 = n4 - 2 * o8 - 2 * o9 - o10 - 4 * o12 - 2 * o13 - 6 * o14
    return torch.stack([o4, o5, o6, o7, o8, o9, o10, o11, o12, o13, o14], dim=-1)


def orbit_counts_dense(adj: Tensor, node_mask: Tensor | None = None) -> Tensor:
    r"""Node-orbit counts of a batch of padded graphs, ``int64 [B, N, 15]`` (ORCA order).

    ``adj [B, N, N]`` is a binary symmetric adjacency with an empty diagonal; padding nodes
    (``node_mask`` False) have no edges and get all-zero rows.

    >>> k4 = torch.ones(1, 4, 4) - torch.eye(4)
    >>> orbit_counts_dense(k4)[0, 0].tolist()
    [3, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    """
    if adj.dim() != 3 or adj.shape[-1] != adj.shape[-2]:
        raise ValueError(f"adj must have shape [B, N, N], got {list(adj.shape)}")
    small, patterns = _subgraph_counts(adj)
    counts = torch.cat([small, _induced_from_subgraph_counts(patterns)], dim=-1).round().long()
    if node_mask is not None:
        counts = counts * node_mask.unsqueeze(-1)
    return counts


def orbit_counts(graph: GraphLike) -> np.ndarray:
    r"""Node-orbit counts of one graph, ``int64 [n, 15]``, rows in the graph's node order.

    Orbit 0 is the degree and orbit 14 the number of 4-cliques at the node (see the module
    docstring for all 15). Isolated nodes get zero rows; a graph without nodes gives ``[0, 15]``.

    >>> import networkx as nx
    >>> orbit_counts(nx.path_graph(4)).sum(0).tolist()
    [6, 4, 2, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    """
    adj, node_mask = graphs_to_dense([graph])
    return orbit_counts_dense(adj, node_mask)[0].numpy()
