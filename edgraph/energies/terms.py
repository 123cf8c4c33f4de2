r"""Energy terms added to a learned energy at sampling time: :math:`E(x) = E_\theta(x) + \sum_k \lambda_k T_k(x)`.

Energies add, so a model can be steered without retraining: the composed density
:math:`p(x) \propto \exp(-E_\theta(x) - \sum_k \lambda_k T_k(x))` is exact, and every sampler in
:mod:`edgraph.samplers` targets it with its Metropolis correction intact. Gibbs reads exact energy
differences only. Gibbs-with-Gradients and DMALA use the gradient only to *propose* moves; their
Metropolis-Hastings test uses exact energies, so a term whose gradient is only a rough guide (a
count, a hinge, a connectivity surrogate) still leaves the target exact. DULA has no correction
and is exact only in the small-step limit, with or without terms.

A term reads the states the model's energy reads. Graph terms read the same edge vectors
``x [B, D]`` and pair masks as :class:`~edgraph.energies.GraphEnergy` (a batch may be padded to
fewer nodes than the model's ``max_nodes``); molecule terms (:class:`PropertyTarget`) read
``(atoms, bonds, node_mask)`` as :class:`~edgraph.energies.MoleculeEnergy` does. Any callable
``energy(*states) -> [B]`` can be a term too (:class:`FunctionTerm`).

>>> x, mask = torch.ones(2, 6), torch.ones(2, 6, dtype=torch.bool)  # two complete graphs on 4 nodes
>>> EdgeCount(target=4, weight=2.0)(x, mask)  # 2 * (6 - 4)^2
tensor([8., 8.])
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from edgraph.energies.gnn import node_cycles4, node_triangles
from edgraph.graphs import edges_to_adj, node_mask_from_pairs, nodes_from_pairs


class EnergyTerm(nn.Module):
    r"""A weighted term :math:`\lambda\,T(x)` of a composed energy; ``forward(*states) -> [B]``,
    e.g. ``forward(x, mask)`` for graphs.

    Subclasses implement :meth:`value`, :math:`T(x)` itself. A positive weight makes high values
    of :math:`T` less probable, a negative one more probable.
    """

    def __init__(self, weight: float = 1.0) -> None:
        super().__init__()
        weight = float(weight)
        if not math.isfinite(weight):
            raise ValueError(f"a term's weight must be a finite number, got {weight}")
        self.weight = weight

    @abstractmethod
    def value(self, *states: Any) -> Tensor:
        """:math:`T(x)`, one value per state ``[B]``."""

    def forward(self, *states: Any) -> Tensor:
        return self.weight * self.value(*states)

    def extra_repr(self) -> str:
        return f"weight={self.weight}"


class FunctionTerm(EnergyTerm):
    """Any callable ``energy(*states) -> [B]`` (``energy(x, mask)`` for graphs) as a term, times ``weight``.

    >>> term = FunctionTerm(lambda x, mask: x.sum(-1), weight=0.5)
    >>> term(torch.ones(1, 3), torch.ones(1, 3, dtype=torch.bool))
    tensor([1.5000])
    """

    def __init__(self, function: Callable[..., Tensor], weight: float = 1.0) -> None:
        super().__init__(weight)
        if not callable(function):
            raise ValueError(f"a term must be an EnergyTerm or a callable energy(x, mask) -> [B], got {function!r}")
        self.function = function

    def value(self, *states: Any) -> Tensor:
        return self.function(*states)


class GraphTerm(EnergyTerm):
    """A term on graphs: :meth:`graph_value` of the dense adjacency ``adj [B, N, N]`` and
    ``node_mask [B, N]`` rebuilt from edge vectors ``x [B, D]`` and their pair mask."""

    def value(self, *states: Any) -> Tensor:
        if len(states) not in (1, 2) or states[0].dim() != 2:
            shapes = [tuple(t.shape) for t in states if isinstance(t, Tensor)]
            raise ValueError(f"graph terms read edge vectors [B, D] (GraphEBM states); got states of shapes {shapes}")
        x, mask = states[0], states[1] if len(states) == 2 else None
        padded = int(nodes_from_pairs(torch.tensor(x.shape[-1])))
        mask = torch.ones_like(x, dtype=torch.bool) if mask is None else mask.bool()
        return self.graph_value(edges_to_adj(x * mask, padded), node_mask_from_pairs(mask, padded))

    @abstractmethod
    def graph_value(self, adj: Tensor, node_mask: Tensor) -> Tensor:
        """:math:`T` of graphs ``adj [B, N, N]`` with real nodes ``node_mask [B, N]``: ``[B]``."""


def edge_count(adj: Tensor) -> Tensor:
    r"""Edges :math:`m = \tfrac12 \sum_{ij} A_{ij}` of ``adj [B, N, N]``: ``[B]``.

    >>> edge_count(torch.ones(1, 3, 3) - torch.eye(3))
    tensor([3.])
    """
    return adj.sum((-1, -2)) / 2


def component_count(adj: Tensor, node_mask: Tensor) -> Tensor:
    r"""Connected components of each graph, exactly: ``[B]`` (float).

    Reachability :math:`R = [(I + A)^{2^k} > 0]` by repeated squaring (:math:`2^k \ge N`); node
    :math:`i` lies in a component of :math:`\sum_j R_{ij}` nodes, so the count is
    :math:`\sum_i 1/\sum_j R_{ij}` over real nodes.

    >>> adj = torch.zeros(1, 4, 4); adj[0, 0, 1] = adj[0, 1, 0] = 1
    >>> component_count(adj, torch.ones(1, 4, dtype=torch.bool))  # {0, 1}, {2}, {3}
    tensor([3.])
    """
    return _components(_reachable(adj, node_mask), node_mask)


def _components(reach: Tensor, node_mask: Tensor) -> Tensor:
    return reach.sum(-1).clamp(min=1).reciprocal().mul(node_mask).sum(-1).round()


def _reachable(adj: Tensor, node_mask: Tensor) -> Tensor:
    """Float 0/1 ``[B, N, N]``: 1 where node j can be reached from real node i."""
    real = node_mask.to(adj.dtype)
    reach = ((adj.detach() > 0.5).to(adj.dtype) + torch.diag_embed(real)) * real[:, :, None] * real[:, None, :]
    for _ in range(max(1, math.ceil(math.log2(max(adj.shape[-1], 2))))):
        reach = (reach @ reach).clamp(max=1)
    return reach


class EdgeCount(GraphTerm):
    r"""Edge-count target: :math:`T(x) = (m - m^*)^2`, :math:`m` the number of edges.

    >>> EdgeCount(target=2)(torch.ones(1, 3), torch.ones(1, 3, dtype=torch.bool))
    tensor([1.])
    """

    def __init__(self, target: float, weight: float = 1.0) -> None:
        super().__init__(weight)
        self.target = _non_negative("edge-count target", target)

    def graph_value(self, adj: Tensor, node_mask: Tensor) -> Tensor:
        return (edge_count(adj) - self.target) ** 2

    def extra_repr(self) -> str:
        return f"target={self.target}, weight={self.weight}"


class Density(GraphTerm):
    r"""Edge-density target: :math:`T(x) = D_n(\rho - \rho^*)^2 = (m - \rho^* D_n)^2 / D_n`, with
    :math:`D_n = n(n-1)/2` the graph's node pairs and :math:`\rho = m / D_n` its density.

    >>> Density(target=0.5)(torch.ones(1, 6), torch.ones(1, 6, dtype=torch.bool))  # 6 * (1 - 0.5)^2
    tensor([1.5000])
    """

    def __init__(self, target: float, weight: float = 1.0) -> None:
        super().__init__(weight)
        if not 0 <= float(target) <= 1:
            raise ValueError(f"a density target must lie in [0, 1], got {target}")
        self.target = float(target)

    def graph_value(self, adj: Tensor, node_mask: Tensor) -> Tensor:
        n = node_mask.sum(-1).to(adj.dtype)
        pairs = (n * (n - 1) / 2).clamp(min=1)
        return (edge_count(adj) - self.target * pairs) ** 2 / pairs

    def extra_repr(self) -> str:
        return f"target={self.target}, weight={self.weight}"


class MaxDegree(GraphTerm):
    r"""Degree bound: :math:`T(x) = \sum_i \max(0, d_i - d^*)`, the degree above the bound
    :math:`d^*` summed over nodes (zero when every degree is within it).

    >>> MaxDegree(bound=1)(torch.ones(1, 3), torch.ones(1, 3, dtype=torch.bool))  # a triangle
    tensor([3.])
    """

    def __init__(self, bound: float, weight: float = 1.0) -> None:
        super().__init__(weight)
        self.bound = _non_negative("degree bound", bound)

    def graph_value(self, adj: Tensor, node_mask: Tensor) -> Tensor:
        return torch.relu(adj.sum(-1) - self.bound).sum(-1)

    def extra_repr(self) -> str:
        return f"bound={self.bound}, weight={self.weight}"


class Connected(GraphTerm):
    r"""Connectedness: :math:`T(x) = c(x) - 1`, with :math:`c` the exact number of connected
    components (:func:`component_count`), so :math:`T = 0` exactly on connected graphs.

    :math:`c` has no useful gradient, so the term adds the surrogate
    :math:`S(x) = -\sum_{i<j} A_{ij} (1 - R_{ij})` with the reachability :math:`R` held constant.
    :math:`S` is zero on every graph (an edge joins nodes that reach each other), so the value
    stays exact, and :math:`\partial S / \partial A_{ij} = -1` for pairs in different
    components: gradient-guided samplers propose the edges that join components.

    >>> adj = torch.zeros(1, 3, 3); adj[0, 0, 1] = adj[0, 1, 0] = 1
    >>> from edgraph.graphs import adj_to_edges
    >>> Connected()(adj_to_edges(adj), torch.ones(1, 3, dtype=torch.bool))  # {0, 1} and {2}
    tensor([1.])
    """

    def graph_value(self, adj: Tensor, node_mask: Tensor) -> Tensor:
        reach = _reachable(adj, node_mask)
        exact = _components(reach, node_mask)
        surrogate = -(adj * (1 - reach) * node_mask[:, :, None] * node_mask[:, None, :]).sum((-1, -2)) / 2
        return (exact - 1).clamp(min=0) + surrogate


class _CountTerm(GraphTerm):
    r""":math:`T(x) = k(x)` without a target, :math:`(k(x) - k^*)^2` with target :math:`k^*`."""

    def __init__(self, weight: float = 1.0, target: float | None = None) -> None:
        super().__init__(weight)
        self.target = None if target is None else _non_negative(f"{type(self).__name__} target", target)

    @abstractmethod
    def count(self, adj: Tensor, node_mask: Tensor) -> Tensor:
        """The count :math:`k` of each graph, ``[B]``."""

    def graph_value(self, adj: Tensor, node_mask: Tensor) -> Tensor:
        count = self.count(adj, node_mask)
        return count if self.target is None else (count - self.target) ** 2

    def extra_repr(self) -> str:
        target = "" if self.target is None else f"target={self.target}, "
        return f"{target}weight={self.weight}"


class Triangles(_CountTerm):
    r"""Triangles, :math:`k = \operatorname{tr}(A^3)/6`: a positive weight without a target forbids
    them, a negative one asks for them, and a target :math:`k^*` gives :math:`(k - k^*)^2`.

    >>> Triangles(weight=1.0)(torch.ones(1, 6), torch.ones(1, 6, dtype=torch.bool))  # K4
    tensor([4.])
    """

    def count(self, adj: Tensor, node_mask: Tensor) -> Tensor:
        return node_triangles(adj).sum(-1) / 3


class Cycles4(_CountTerm):
    r"""4-cycles, :math:`k = \tfrac14 \sum_i c_i` with :math:`c_i` the 4-cycles through node
    :math:`i` (:func:`~edgraph.energies.gnn.node_cycles4`); weight and target as in
    :class:`Triangles`.

    >>> Cycles4(weight=1.0)(torch.ones(1, 6), torch.ones(1, 6, dtype=torch.bool))  # K4
    tensor([3.])
    """

    def count(self, adj: Tensor, node_mask: Tensor) -> Tensor:
        return node_cycles4(adj).sum(-1) / 4


class PropertyTarget(EnergyTerm):
    r"""A property target, :math:`T(x) = (f_\phi(x) - y^*)^2`, through a regressor :math:`f_\phi`
    of the model's states, e.g. a molecule GNN ``f(atoms, bonds, node_mask) -> [B]`` trained on
    RDKit's QED or logP (:class:`edgraph.models.PropertyRegressor`).

    The samplers use the regressor's gradient only to propose moves and its exact values in
    their Metropolis test, so the chains sample :math:`\exp(-E_\theta - \lambda T)` exactly;
    how close the *true* property of samples comes to :math:`y^*` depends on how well
    :math:`f_\phi` predicts it on what the chains visit.

    >>> carbons = lambda atoms, bonds, node_mask: atoms[..., 0].sum(-1)   # a toy "regressor"
    >>> atoms = torch.eye(2)[torch.tensor([[0, 0, 1]])]                    # two C, one O
    >>> PropertyTarget(carbons, target=1.0, weight=2.0)(atoms, None, None)  # 2 * (2 - 1)^2
    tensor([2.])
    """

    def __init__(self, regressor: Callable[..., Tensor], target: float, weight: float = 1.0) -> None:
        super().__init__(weight)
        if not callable(regressor):
            raise ValueError(f"the regressor must be a callable f(*states) -> [B], got {regressor!r}")
        target = float(target)
        if not math.isfinite(target):
            raise ValueError(f"a property target must be a finite number, got {target}")
        self.regressor, self.target = regressor, target

    def value(self, *states: Any) -> Tensor:
        return (self.regressor(*states) - self.target) ** 2

    def extra_repr(self) -> str:
        return f"target={self.target}, weight={self.weight}"


def _non_negative(what: str, value: float) -> float:
    value = float(value)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"a {what} must be a non-negative number, got {value}")
    return value


class ComposedEnergy(nn.Module):
    r"""A learned energy plus terms: :math:`E(x, m) = E_\theta(x, m) + \sum_k \lambda_k T_k(x, m)`;
    ``forward(*states)`` passes the states (``x, mask`` for graphs) to the energy and every term.

    >>> base = lambda x, mask: torch.zeros(len(x))
    >>> ComposedEnergy(base, [EdgeCount(target=0)])(torch.ones(1, 3), torch.ones(1, 3, dtype=torch.bool))
    tensor([9.])
    """

    def __init__(self, energy: Callable[..., Tensor], terms: Sequence[EnergyTerm | Callable[..., Tensor]]) -> None:
        super().__init__()
        self.energy = energy
        self.terms = nn.ModuleList(term if isinstance(term, EnergyTerm) else FunctionTerm(term) for term in terms)

    def forward(self, *states: Any) -> Tensor:
        total = self.energy(*states)
        for term in self.terms:
            total = total + term(*states)
        return total


#: Command-line names of the built-in terms.
TERMS: dict[str, type[GraphTerm]] = {
    "edges": EdgeCount,
    "density": Density,
    "max_degree": MaxDegree,
    "connected": Connected,
    "triangles": Triangles,
    "cycles4": Cycles4,
}


def parse_term_spec(spec: str) -> tuple[str, float, float | None]:
    """``(name, weight, target or None)`` of a term spec ``NAME=WEIGHT[:TARGET]``.

    >>> parse_term_spec("edges=2:30"), parse_term_spec("connected=5")
    (('edges', 2.0, 30.0), ('connected', 5.0, None))
    """
    name, _, setting = spec.partition("=")
    weight_text, has_target, target_text = setting.partition(":")
    try:
        weight = float(weight_text)
        target = float(target_text) if has_target else None
    except ValueError:
        raise ValueError(f"energy term {spec!r} must read NAME=WEIGHT[:TARGET] with numbers") from None
    return name, weight, target


def term_from_spec(spec: str) -> GraphTerm:
    """A built-in term from ``NAME=WEIGHT[:TARGET]``, as ``edgraph sample --term`` takes it.

    ``TARGET`` is the edge count (``edges``), the density (``density``), the degree bound
    (``max_degree``) or the count (``triangles``, ``cycles4``, optional); ``connected`` takes none.

    >>> term_from_spec("edges=2:30")
    EdgeCount(target=30.0, weight=2.0)
    """
    name = spec.partition("=")[0]
    if name not in TERMS:
        raise ValueError(f"unknown energy term {name!r} in {spec!r}; choose from {sorted(TERMS)}")
    name, weight, target = parse_term_spec(spec)
    if name == "connected":
        if target is not None:
            raise ValueError(f"energy term {name!r} takes no target: {name}=WEIGHT")
        return Connected(weight)
    if name == "triangles":
        return Triangles(weight, target)
    if name == "cycles4":
        return Cycles4(weight, target)
    if target is None:
        raise ValueError(f"energy term {name!r} needs a target: {name}=WEIGHT:TARGET")
    if name == "edges":
        return EdgeCount(target, weight)
    if name == "density":
        return Density(target, weight)
    return MaxDegree(target, weight)
