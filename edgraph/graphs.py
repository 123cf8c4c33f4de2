r"""Conversions between the graph representations edgraph uses.

A graph on :math:`n \le N` nodes is held in three equivalent forms:

* a :class:`networkx.Graph` (or a PyG :class:`~torch_geometric.data.Data`), at the system's edges;
* a dense adjacency ``adj [B, N, N]`` with a node mask ``node_mask [B, N]`` (padding at the end);
* an edge vector ``x [B, D]``, :math:`D = N(N-1)/2`, the upper triangle of ``adj`` in
  :func:`torch.triu_indices` order, with a bool pair mask ``mask [B, D]`` that is True on pairs of real nodes.

The edge vector is the state that perturbations, energies and samplers work on; graphs are
converted once, when they enter or leave the system. The JSON interchange format
(``{"graphs": [{"num_nodes": n, "edges": [[u, v], ...]}]}``) is read and written here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TypeAlias

import networkx as nx
import torch
from torch import Tensor
from torch_geometric.data import Data

from edgraph.io import MAX_JSON_BYTES, atomic_write, read_json

#: A graph as users hand it in, a networkx graph or a PyG ``Data`` (undirected, both edge directions).
GraphLike: TypeAlias = nx.Graph | Data
#: Largest graph :func:`read_graphs_json` builds unless told otherwise (its statistics need N² memory).
MAX_NODES = 10_000


def num_pairs(max_nodes: int) -> int:
    r"""Number of node pairs :math:`D = N(N-1)/2` of a graph on ``max_nodes`` nodes.

    >>> num_pairs(18)
    153
    """
    return max_nodes * (max_nodes - 1) // 2


@lru_cache(maxsize=64)
def _triu(max_nodes: int) -> Tensor:
    return torch.triu_indices(max_nodes, max_nodes, offset=1)


def nodes_from_pairs(num_valid_pairs: Tensor) -> Tensor:
    r"""Invert :math:`D(n) = n(n-1)/2`: the node count of a graph with that many node pairs.

    Zero pairs map to one node (a graph of 0 or 1 nodes has no pairs either way).

    >>> nodes_from_pairs(torch.tensor([0, 1, 3, 153]))
    tensor([ 1,  2,  3, 18])
    """
    d = num_valid_pairs.to(torch.float64)
    return ((1 + torch.sqrt(1 + 8 * d)) / 2).round().long()


def _check_graph(graph: nx.Graph, index: int, max_nodes: int | None) -> None:
    if graph.is_directed():
        raise ValueError(
            f"graph {index} is directed; edgraph models undirected graphs (convert with graph.to_undirected())"
        )
    if graph.is_multigraph():
        raise ValueError(f"graph {index} is a multigraph; edgraph models simple graphs")
    loops = list(nx.selfloop_edges(graph))
    if loops:
        raise ValueError(f"graph {index} has self-loops at nodes {[u for u, _ in loops][:5]}")
    if max_nodes is not None and graph.number_of_nodes() > max_nodes:
        raise ValueError(f"graph {index} has {graph.number_of_nodes()} nodes, more than max_nodes={max_nodes}")


def from_pyg(data: Data) -> nx.Graph:
    """Convert an undirected PyG ``Data`` to a networkx graph on nodes ``0..num_nodes-1``.

    Both directions of every edge must be present, as PyG stores undirected graphs.

    >>> g = from_pyg(Data(edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=3))
    >>> g.number_of_nodes(), g.number_of_edges()
    (3, 1)
    """
    edge_index = data.edge_index if data.edge_index is not None else torch.empty(2, 0, dtype=torch.long)
    pairs = set(map(tuple, edge_index.t().tolist()))
    asymmetric = [(u, v) for u, v in pairs if (v, u) not in pairs]
    if asymmetric:
        raise ValueError(f"PyG graph is directed: edge {asymmetric[0]} has no reverse edge")
    graph = nx.Graph()
    graph.add_nodes_from(range(int(data.num_nodes)))
    graph.add_edges_from(pairs)
    return graph


def to_pyg(graph: nx.Graph) -> Data:
    """Convert a networkx graph to a PyG ``Data`` with both directions of every edge.

    Nodes are numbered in the graph's node order.

    >>> to_pyg(nx.path_graph(3)).edge_index
    tensor([[0, 1, 1, 2],
            [1, 0, 2, 1]])
    """
    _check_graph(graph, 0, None)
    index = {node: i for i, node in enumerate(graph.nodes)}
    edges = [(index[u], index[v]) for u, v in graph.edges]
    both = [e for u, v in edges for e in ((u, v), (v, u))]
    edge_index = torch.tensor(both, dtype=torch.long).t().reshape(2, -1)
    return Data(edge_index=edge_index, num_nodes=graph.number_of_nodes())


def _as_networkx(graphs: Sequence[GraphLike]) -> list[nx.Graph]:
    converted = []
    for i, graph in enumerate(graphs):
        try:
            converted.append(from_pyg(graph) if isinstance(graph, Data) else graph)
        except ValueError as err:
            raise ValueError(f"graph {i}: {err}") from None
    return converted


def bfs_order(graph: nx.Graph) -> list:
    r"""The nodes of ``graph`` in breadth-first order from a fixed rule: start at a node of
    largest degree, visit each node's unvisited neighbours by decreasing degree, and start each
    further connected component at its node of largest degree (ties go to the earlier node in
    the graph's own order).

    A breadth-first order puts every edge between nodes whose positions differ by less than the
    widest BFS layer, so an adjacency matrix in this order has its edges near the diagonal
    (You et al., "GraphRNN", ICML 2018); starting at the hub puts it first. It is a rule, not a
    canonical form: isomorphic graphs with tied degrees may be ordered differently.

    >>> bfs_order(nx.path_graph(4))
    [1, 2, 0, 3]
    >>> bfs_order(nx.star_graph(3))[0]
    0
    """
    rank = {node: i for i, node in enumerate(graph)}
    by_degree = sorted(graph, key=lambda v: (-graph.degree(v), rank[v]))
    order: list = []
    seen: set = set()
    for root in by_degree:
        if root in seen:
            continue
        seen.add(root)
        layer = [root]
        while layer:
            order += layer
            following = []
            for node in layer:
                for neighbour in sorted(graph[node], key=lambda v: (-graph.degree(v), rank[v])):
                    if neighbour not in seen:
                        seen.add(neighbour)
                        following.append(neighbour)
            layer = following
    return order


def renumbered(graph: nx.Graph, order: Callable[[nx.Graph], list]) -> nx.Graph:
    """``graph`` on nodes ``0..n-1`` numbered as ``order(graph)`` lists them.

    >>> sorted(renumbered(nx.star_graph(3), lambda g: [3, 2, 1, 0]).degree)[0]
    (0, 1)
    """
    index = {node: i for i, node in enumerate(order(graph))}
    ordered = nx.Graph()
    ordered.add_nodes_from(range(len(index)))
    ordered.add_edges_from((index[u], index[v]) for u, v in graph.edges)
    return ordered


def graphs_to_dense(graphs: Sequence[GraphLike], max_nodes: int | None = None) -> tuple[Tensor, Tensor]:
    r"""Pad graphs to a dense adjacency ``adj [B, N, N]`` and a node mask ``[B, N]``.

    Node :math:`i` of a graph is its :math:`i`-th node in iteration order; padding nodes come
    last. ``max_nodes`` defaults to the largest graph.

    >>> adj, node_mask = graphs_to_dense([nx.path_graph(3)], max_nodes=4)
    >>> adj[0].int().tolist(), node_mask.tolist()
    ([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]], [[True, True, True, False]])
    """
    graphs = _as_networkx(graphs)
    for i, graph in enumerate(graphs):
        _check_graph(graph, i, max_nodes)
    sizes = torch.tensor([g.number_of_nodes() for g in graphs], dtype=torch.long)
    n_max = max_nodes if max_nodes is not None else (int(sizes.max()) if len(graphs) else 0)
    batch, row, col = [], [], []
    for b, graph in enumerate(graphs):  # one scatter for all edges of all graphs
        index = {node: i for i, node in enumerate(graph)}
        for u, v in graph.edges:
            batch.append(b)
            row.append(index[u])
            col.append(index[v])
    adj = torch.zeros(len(graphs), n_max, n_max)
    rows, cols, graph_index = (torch.tensor(t, dtype=torch.long) for t in (row, col, batch))
    adj[graph_index, rows, cols] = 1.0
    adj[graph_index, cols, rows] = 1.0
    return adj, torch.arange(n_max) < sizes[:, None]


def check_adjacency(adj: Tensor, node_mask: Tensor | None = None) -> None:
    """Raise ``ValueError`` unless ``adj [B, N, N]`` is a valid simple undirected graph batch.

    Checks binary entries, symmetry, an empty diagonal and no edges at padding nodes.

    >>> check_adjacency(torch.tensor([[[0., 1.], [0., 0.]]]))
    Traceback (most recent call last):
    ...
    ValueError: adjacency of graph 0 is not symmetric (entry (0, 1) != (1, 0))
    """
    if adj.dim() != 3 or adj.shape[1] != adj.shape[2]:
        raise ValueError(f"adjacency must have shape [B, N, N], got {list(adj.shape)}")
    bad = ((adj != 0) & (adj != 1)).nonzero()
    if len(bad):
        b, i, j = bad[0].tolist()
        raise ValueError(f"adjacency of graph {b} is not binary (entry ({i}, {j}) = {adj[b, i, j].item()})")
    bad = (adj != adj.transpose(1, 2)).nonzero()
    if len(bad):
        b, i, j = bad[0].tolist()
        raise ValueError(f"adjacency of graph {b} is not symmetric (entry ({i}, {j}) != ({j}, {i}))")
    bad = adj.diagonal(dim1=1, dim2=2).nonzero()
    if len(bad):
        b, i = bad[0].tolist()
        raise ValueError(f"adjacency of graph {b} has a self-loop at node {i}")
    if node_mask is not None:
        pair_ok = node_mask[:, :, None] & node_mask[:, None, :]
        bad = ((adj != 0) & ~pair_ok).nonzero()
        if len(bad):
            b, i, j = bad[0].tolist()
            raise ValueError(f"adjacency of graph {b} has an edge ({i}, {j}) at a padding node")


def dense_to_graphs(adj: Tensor, node_mask: Tensor | None = None) -> list[nx.Graph]:
    """Convert ``adj [B, N, N]`` (+ node mask ``[B, N]``) to networkx graphs on ``0..n-1``.

    >>> adj, node_mask = graphs_to_dense([nx.path_graph(3)], max_nodes=5)
    >>> g, = dense_to_graphs(adj, node_mask)
    >>> sorted(g.edges), g.number_of_nodes()
    ([(0, 1), (1, 2)], 3)
    """
    check_adjacency(adj, node_mask)
    if node_mask is None:
        node_mask = torch.ones(adj.shape[:2], dtype=torch.bool, device=adj.device)
    graphs = []
    for a, m in zip(adj.cpu(), node_mask.cpu()):
        graph = nx.Graph()
        graph.add_nodes_from(range(int(m.sum())))
        graph.add_edges_from(torch.triu(a, diagonal=1).nonzero().tolist())
        graphs.append(graph)
    return graphs


def adj_to_edges(adj: Tensor) -> Tensor:
    """Upper triangle of ``adj [..., N, N]`` as an edge vector ``x [..., D]``.

    >>> adj_to_edges(torch.tensor([[0., 1., 0.], [1., 0., 1.], [0., 1., 0.]]))
    tensor([1., 0., 1.])
    """
    row, col = _triu(adj.shape[-1]).to(adj.device)
    return adj[..., row, col]


def edges_to_adj(x: Tensor, max_nodes: int) -> Tensor:
    """Symmetric adjacency ``adj [..., N, N]`` from an edge vector ``x [..., D]``.

    Differentiable in ``x``, so energies written on adjacency give gradients on edge vectors.

    >>> edges_to_adj(torch.tensor([1., 0., 1.]), 3)
    tensor([[0., 1., 0.],
            [1., 0., 1.],
            [0., 1., 0.]])
    """
    if x.shape[-1] != num_pairs(max_nodes):
        raise ValueError(
            f"edge vector has {x.shape[-1]} entries, expected {num_pairs(max_nodes)} for max_nodes={max_nodes}"
        )
    row, col = _triu(max_nodes).to(x.device)
    upper = x.new_zeros(*x.shape[:-1], max_nodes, max_nodes)
    upper[..., row, col] = x
    return upper + upper.transpose(-1, -2)


def pair_mask(node_mask: Tensor) -> Tensor:
    """Bool pair mask ``[B, D]``: True where both nodes of the pair are real, from ``node_mask [B, N]``.

    >>> pair_mask(torch.tensor([[True, True, False]]))
    tensor([[ True, False, False]])
    """
    row, col = _triu(node_mask.shape[-1]).to(node_mask.device)
    node_mask = node_mask.bool()
    return node_mask[..., row] & node_mask[..., col]


def node_mask_from_pairs(mask: Tensor, max_nodes: int) -> Tensor:
    """Node mask ``[B, N]`` of graphs whose pair mask ``[B, D]`` is given (padding at the end).

    >>> node_mask_from_pairs(torch.tensor([[True, False, False]]), 3)
    tensor([[ True,  True, False]])
    """
    n = nodes_from_pairs(mask.sum(-1))
    return torch.arange(max_nodes, device=mask.device) < n[..., None]


def sub_pairs(max_nodes: int, nodes: int) -> Tensor:
    """Positions, in the edge vector of ``max_nodes`` nodes, of the pairs among the first ``nodes``.

    ``x[..., sub_pairs(N, n)]`` is the edge vector of the same graphs padded to only ``n`` nodes
    (row-major upper-triangle order is kept by the filter).

    >>> sub_pairs(4, 3)
    tensor([0, 1, 3])
    """
    return (_triu(max_nodes)[1] < nodes).nonzero().flatten()


def size_buckets(mask: Tensor, max_nodes: int, buckets: int) -> list[tuple[Tensor, Tensor]]:
    """Split a batch into ``buckets`` groups of similar node counts, each with its own padding.

    Returns ``(rows, pairs)`` per group: the batch rows, sorted by node count, and
    :func:`sub_pairs` of the group's largest graph, so ``x[rows][:, pairs]`` is that group padded
    only to its largest graph. Work on dense graphs grows with the padded size, so splitting a
    batch of mixed sizes saves most of the work spent on padding.

    >>> mask = pair_mask(torch.arange(4) < torch.tensor([[2], [4], [3]]))
    >>> [(rows.tolist(), pairs.tolist()) for rows, pairs in size_buckets(mask, 4, 2)]
    [([0, 2], [0, 1, 3]), ([1], [0, 1, 2, 3, 4, 5])]
    """
    sizes = nodes_from_pairs(mask.sum(-1))
    groups = sizes.argsort().tensor_split(max(1, min(buckets, len(sizes))))
    return [(rows, sub_pairs(max_nodes, int(sizes[rows].max())).to(mask.device)) for rows in groups if len(rows)]


def graphs_to_edges(graphs: Sequence[GraphLike], max_nodes: int) -> tuple[Tensor, Tensor]:
    """Edge vectors ``x [B, D]`` and pair masks ``[B, D]`` of graphs padded to ``max_nodes``.

    >>> x, mask = graphs_to_edges([nx.path_graph(3)], max_nodes=3)
    >>> x, mask
    (tensor([[1., 0., 1.]]), tensor([[True, True, True]]))
    """
    adj, node_mask = graphs_to_dense(graphs, max_nodes)
    return adj_to_edges(adj), pair_mask(node_mask)


def edges_to_graphs(x: Tensor, mask: Tensor, max_nodes: int) -> list[nx.Graph]:
    """Networkx graphs from edge vectors ``x [B, D]`` with pair masks ``[B, D]``.

    >>> g, = edges_to_graphs(torch.tensor([[1., 0., 1.]]), torch.ones(1, 3, dtype=torch.bool), 3)
    >>> sorted(g.edges)
    [(0, 1), (1, 2)]
    """
    return dense_to_graphs(edges_to_adj(x * mask, max_nodes), node_mask_from_pairs(mask, max_nodes))


def _graph_from_record(record: object, index: int, max_nodes: int) -> nx.Graph:
    if not isinstance(record, dict) or "num_nodes" not in record or "edges" not in record:
        raise ValueError(f"graph {index}: expected an object with 'num_nodes' and 'edges'")
    unknown = sorted(set(record) - {"num_nodes", "edges", "label"})
    if unknown:
        raise ValueError(
            f"graph {index}: unknown fields {unknown}; a graph has 'num_nodes', 'edges' (each undirected "
            "edge once) and optionally 'label'"
        )
    n = record["num_nodes"]
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"graph {index}: num_nodes must be a non-negative integer, got {n!r}")
    if n > max_nodes:
        raise ValueError(f"graph {index}: num_nodes {n} is more than the limit of {max_nodes} nodes")
    if not isinstance(record["edges"], list):
        raise ValueError(f"graph {index}: edges must be a list of node pairs")
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    for edge in record["edges"]:
        if (
            not isinstance(edge, list)
            or len(edge) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in edge)
        ):
            raise ValueError(f"graph {index}: edge {edge!r} is not a pair of node indices")
        u, v = edge
        if not (0 <= u < n and 0 <= v < n):
            raise ValueError(f"graph {index}: edge {edge} names a node outside 0..{n - 1}")
        if u == v:
            raise ValueError(f"graph {index}: edge {edge} is a self-loop")
        if graph.has_edge(u, v):
            raise ValueError(f"graph {index}: edge {edge} appears twice")
        graph.add_edge(u, v)
    if "label" in record:
        label = record["label"]
        if not isinstance(label, int) or isinstance(label, bool) or label < 0:
            raise ValueError(f"graph {index}: label must be a non-negative integer (a class), got {label!r}")
        graph.graph["label"] = label
    return graph


def graph_labels(graphs: Sequence[nx.Graph]) -> list[int] | None:
    """The class labels ``graph.graph["label"]`` of graphs (as the interchange format's optional
    per-graph ``"label"`` gives them), or ``None`` when no graph has one; a ``ValueError`` names
    the first graph without a label when only some have one.

    >>> graph_labels([nx.Graph(label=1), nx.Graph(label=0)]), graph_labels([nx.Graph()])
    ([1, 0], None)
    """
    labels = [graph.graph.get("label") for graph in graphs]
    if all(label is None for label in labels):
        return None
    if None in labels:
        raise ValueError(f"graph {labels.index(None)} has no label, but others do: label every graph or none")
    return [int(label) for label in labels]


def read_graphs_json(
    path: str | os.PathLike, max_nodes: int = MAX_NODES, max_bytes: int = MAX_JSON_BYTES
) -> list[nx.Graph]:
    """Read graphs in the JSON interchange format ``{"graphs": [{"num_nodes", "edges"}]}``.

    Raises ``ValueError`` naming the file, graph and edge that is malformed, and refuses, before
    building anything, a file over ``max_bytes`` or a graph of more than ``max_nodes`` nodes.
    """
    payload = read_json(path, max_bytes)
    try:
        return graphs_from_json(payload, max_nodes)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def read_graphs(path: str | os.PathLike, max_nodes: int = MAX_NODES) -> list[nx.Graph]:
    r"""Graphs from a JSON interchange file, or from a folder of edge-list files (one graph per
    file, networkx's edge-list format ``u v`` per line, ``#`` comments; files in name order).

    Edge-list nodes are renumbered ``0..n-1`` in order of first appearance; a self-loop, or a
    file or folder without graphs, is a ``ValueError`` naming it.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.txt").write_text("# a path\nx y\ny z\n")
    >>> [sorted(g.edges) for g in read_graphs(folder)]
    [[(0, 1), (1, 2)]]
    """
    path = Path(path)
    if not path.is_dir():
        graphs = read_graphs_json(path, max_nodes=max_nodes)
    else:
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        graphs = [_read_edge_list(file, max_nodes) for file in files]
    if not graphs:
        raise ValueError(f"{path} holds no graphs")
    return graphs


def _read_edge_list(path: Path, max_nodes: int) -> nx.Graph:
    index: dict[str, int] = {}
    graph = nx.Graph()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a text edge-list file (one 'u v' pair per line)") from None
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) < 2:
            raise ValueError(f"{path}:{number}: expected an edge 'u v', got {line.strip()!r}")
        u, v = (index.setdefault(node, len(index)) for node in fields[:2])
        if u == v:
            raise ValueError(f"{path}:{number}: edge {fields[0]} {fields[1]} is a self-loop")
        if len(index) > max_nodes:
            raise ValueError(f"{path}: more than the limit of {max_nodes} nodes")
        graph.add_edge(u, v)
    if graph.number_of_nodes() == 0:
        raise ValueError(f"{path} holds no edges")
    return nx.convert_node_labels_to_integers(graph, ordering="sorted")


def graphs_from_json(payload: object, max_nodes: int = MAX_NODES) -> list[nx.Graph]:
    """Graphs from an interchange-format record ``{"graphs": [{"num_nodes", "edges"}]}``, the
    inverse of :func:`graphs_to_json`; ``ValueError`` names the malformed graph and edge. A
    graph's optional ``"label"`` (a class, an integer) becomes ``graph.graph["label"]``.

    >>> [sorted(g.edges) for g in graphs_from_json({"graphs": [{"num_nodes": 3, "edges": [[0, 2]]}]})]
    [[(0, 2)]]
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("graphs"), list):
        raise ValueError(
            "expected an object with a 'graphs' list, as in the interchange format "
            '{"graphs": [{"num_nodes": 3, "edges": [[0, 1], [1, 2]]}, ...]}'
        )
    return [_graph_from_record(r, i, max_nodes) for i, r in enumerate(payload["graphs"])]


def graphs_to_json(graphs: Sequence[GraphLike]) -> dict:
    """The interchange-format record of graphs, nodes renumbered ``0..n-1`` in node order; a
    networkx graph's ``graph.graph["label"]`` is written as its ``"label"``.

    >>> graphs_to_json([nx.path_graph(2)])
    {'graphs': [{'num_nodes': 2, 'edges': [[0, 1]]}]}
    """
    records = []
    for i, graph in enumerate(_as_networkx(graphs)):
        _check_graph(graph, i, None)
        index = {node: k for k, node in enumerate(graph.nodes)}
        edges = sorted(sorted((index[u], index[v])) for u, v in graph.edges)
        label = graph.graph.get("label")
        records.append(
            {"num_nodes": len(index), "edges": [list(e) for e in edges], **({} if label is None else {"label": label})}
        )
    return {"graphs": records}


def write_graphs_json(graphs: Sequence[GraphLike], path: str | os.PathLike, **extra: object) -> None:
    """Write graphs (and optional extra top-level fields) in the JSON interchange format, atomically."""
    atomic_write(path, json.dumps({**graphs_to_json(graphs), **extra}))
