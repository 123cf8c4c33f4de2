r"""``GraphEBM``: an energy-based model of graphs — fit on graphs, sample graphs, save and load.

A :class:`GraphEBM` is an energy :math:`E_\theta(x, m)` over edge vectors of graphs padded to
``max_nodes`` (:class:`~edgraph.energies.GraphEnergy`), plus what generation needs beside it: the
node-count distribution :math:`p(n)` and the edge density :math:`\rho_n` of training graphs of
each size, both derived from the training graphs the model keeps. Sampling draws
:math:`n \sim p(n)`, starts a chain at :math:`x_0 \sim \mathrm{Bernoulli}(\rho_n)` on the valid
pairs (or, with ``init="data"``, at a training graph drawn uniformly) and runs a discrete MCMC
sampler (Gibbs, GWG, DULA or DMALA) on :math:`p_\theta(x \mid n) \propto \exp(-E_\theta(x, m_n))`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from edgraph.energies.gnn import NODE_FEATURES, GraphEnergy
from edgraph.graphs import (
    GraphLike,
    adj_to_edges,
    dense_to_graphs,
    edges_to_adj,
    graphs_to_dense,
    node_mask_from_pairs,
    num_pairs,
    pair_mask,
    size_buckets,
)
from edgraph.models.base import EnergyModel, States, check_options, draw, hold_out
from edgraph.objectives import PersistentCD, PersistentChains, energy_discrepancy
from edgraph.perturbations import BernoulliFlip, EdgeSwap, Perturbation, ScaledBernoulliFlip
from edgraph.samplers import Sampler, make_sampler

if TYPE_CHECKING:
    import lightning.pytorch as pl

    from edgraph.training import EnergyModule, Loss, TrainConfig

#: Edge-flip probability of the ED perturbation.
DEFAULT_EPS = 0.2
#: The most flipped pairs per graph (expected) in the ED perturbation, so that a graph of ``D`` valid
#: pairs flips each with probability ``min(DEFAULT_EPS, DEFAULT_FLIPS / D)``.
DEFAULT_FLIPS: float | None = 6.0
#: Sampling chains run in this many groups of similar node counts, each padded to its largest graph.
SAMPLING_GROUPS = 3


@dataclass
class GraphConfig:
    """The arguments of :class:`GraphEBM`, checked."""

    max_nodes: int
    hidden: int
    layers: int
    features: Sequence[str]
    eps: float
    flips: float | None
    rewire: float | None
    num_negatives: int
    w: float
    sampler: str
    sampler_steps: int
    step_size: float

    def __post_init__(self) -> None:
        if self.eps is None:
            raise ValueError("eps must be a flip probability; flips caps it rather than replacing it (e.g. flips=8)")
        check_options(self)
        if not 0 < self.eps < 1:
            raise ValueError(f"eps must be a flip probability in (0, 1), got {self.eps}")
        if self.flips is not None and not self.flips > 0:
            raise ValueError(f"flips must be a positive number of flipped pairs per graph, got {self.flips}")
        if self.rewire is not None and not (math.isfinite(self.rewire) and self.rewire > 0):
            raise ValueError(f"rewire must be a positive number of swaps per edge (or None), got {self.rewire}")
        if self.max_nodes < 2:
            raise ValueError(f"max_nodes must be at least 2, got {self.max_nodes}")
        unknown = sorted(set(self.features) - set(NODE_FEATURES))
        if unknown or not self.features:
            raise ValueError(f"features must be a non-empty subset of {NODE_FEATURES}, got {list(self.features)}")

    def perturbation(self) -> BernoulliFlip | ScaledBernoulliFlip:
        """The ED perturbation: flips with probability ``eps``, capped at about ``flips`` per graph."""
        if self.flips is not None:
            return ScaledBernoulliFlip(self.flips, max_eps=self.eps)
        return BernoulliFlip(self.eps)


def saved_graph_config(config: dict[str, Any]) -> dict[str, Any]:
    """A saved ``GraphEBM`` config in this version's terms: runs saved when ``flips`` replaced
    ``eps`` store ``eps: null``, and their flip probability was capped at 1/2, which is ``eps=0.5``;
    runs saved before ``rewire`` existed trained without it.

    >>> saved_graph_config({"eps": None, "flips": 8})
    {'rewire': None, 'eps': 0.5, 'flips': 8}
    """
    config = {"rewire": None, **config}
    return {**config, "eps": 0.5} if "eps" in config and config["eps"] is None and config.get("flips") else config


class GraphEBM(EnergyModel):
    r"""Energy-based model of graphs trained with Energy Discrepancy.

    Args:
        max_nodes: ``N``, the largest graph the model handles; larger inputs are refused.
        hidden: width of the GIN energy's node embeddings.
        layers: number of message-passing layers.
        features: structural node features (:data:`~edgraph.energies.gnn.NODE_FEATURES`).
        eps: flip probability of each valid node pair in the ED perturbation.
        flips: the most flipped pairs per graph (expected): a graph of :math:`D` valid pairs
            flips each with probability :math:`\min(\varepsilon, \text{flips}/D)`;
            ``None`` for no cap.
        rewire: ``None``, or a second ED term whose perturbation attempts ``rewire`` times as
            many degree-preserving double-edge swaps as the graph has edges
            (:class:`~edgraph.perturbations.EdgeSwap`); its negatives keep the degrees and lose
            the structure beyond them, which local flips never show the energy.
        num_negatives: ``M``, negatives per training graph in the ED estimator (in each term).
        w: the ED stabiliser (the ``w/M`` inside the logarithm).
        sampler: default sampler, one of ``"gibbs"``, ``"gwg"``, ``"dula"``, ``"dmala"``.
        sampler_steps: default number of sampler steps.
        step_size: step size of DULA and DMALA.

    Example:
        >>> graphs = [nx.cycle_graph(4), nx.path_graph(5)] * 4
        >>> model = GraphEBM(max_nodes=5, hidden=8, layers=1, num_negatives=4)
        >>> model = model.fit(graphs, max_steps=2, progress=False)
        >>> [g.number_of_nodes() in (4, 5) for g in model.sample(3, steps=5, seed=0)]
        [True, True, True]
    """

    format = "edgraph.GraphEBM"
    config: GraphConfig

    def __init__(
        self,
        max_nodes: int,
        *,
        hidden: int = 64,
        layers: int = 4,
        features: Sequence[str] = ("degree", "triangles", "size"),
        eps: float = DEFAULT_EPS,
        flips: float | None = DEFAULT_FLIPS,
        rewire: float | None = None,
        num_negatives: int = 32,
        w: float = 1.0,
        sampler: str = "gwg",
        sampler_steps: int = 200,
        step_size: float = 0.25,
    ) -> None:
        super().__init__(
            GraphConfig(
                max_nodes,
                hidden,
                layers,
                features,
                eps,
                flips,
                rewire,
                num_negatives,
                w,
                sampler,
                sampler_steps,
                step_size,
            )
        )
        self.node_counts: Tensor | None = None
        self.edge_density: Tensor | None = None

    @classmethod
    def _saved_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        return saved_graph_config(config)

    def _new_energy(self) -> GraphEnergy:
        c = self.config
        return GraphEnergy(c.max_nodes, hidden=c.hidden, layers=c.layers, features=c.features)

    def encode(self, data: Iterable[GraphLike]) -> dict[str, Tensor]:
        """The training record of graphs: ``edges`` bool ``[B, D]`` (upper triangles padded to
        ``max_nodes``) and ``num_nodes`` ``[B]``. Any iterable of networkx graphs or PyG ``Data``."""
        graphs = list(data)
        if not graphs:
            raise ValueError("cannot fit a graph model on zero graphs")
        for i, graph in enumerate(graphs):
            if not isinstance(graph, (nx.Graph, Data)):
                raise ValueError(
                    f"graph {i} is a {type(graph).__module__}.{type(graph).__name__}; expected a networkx.Graph "
                    "or torch_geometric Data (convert adjacency matrices with networkx.from_numpy_array)"
                )
            if graph.num_nodes == 0 if isinstance(graph, Data) else graph.number_of_nodes() == 0:
                raise ValueError(f"graph {i} has no nodes; a graph model needs graphs of at least one node")
        adj, node_mask = graphs_to_dense(graphs, self.config.max_nodes)
        return {"edges": adj_to_edges(adj).bool(), "num_nodes": node_mask.sum(1)}

    def _set_training_data(self, record: dict[str, Tensor]) -> None:
        n_max = self.config.max_nodes
        edges, sizes = record["edges"], record["num_nodes"]
        if edges.dtype != torch.bool or edges.dim() != 2 or edges.shape[1] != num_pairs(n_max):
            raise ValueError(
                f"training edges must be bool [B, {num_pairs(n_max)}], got {edges.dtype} {list(edges.shape)}"
            )
        if sizes.shape != edges.shape[:1] or not ((sizes >= 1) & (sizes <= n_max)).all():
            raise ValueError(f"training node counts must be [B] integers in 1..{n_max}")
        mask = pair_mask(torch.arange(n_max) < sizes[:, None])
        if (edges & ~mask).any():
            raise ValueError("training edges lie outside their graphs' node pairs")
        super()._set_training_data(record)
        self.node_counts = torch.bincount(sizes, minlength=n_max + 1).double() / len(sizes)
        edge_sum = torch.zeros(n_max + 1, dtype=torch.float64).index_add_(0, sizes, edges.sum(1).double())
        pair_sum = torch.zeros(n_max + 1, dtype=torch.float64).index_add_(0, sizes, mask.sum(1).double())
        self.edge_density = edge_sum / pair_sum.clamp(min=1)

    def _training_tensors(self) -> States:
        record = self._require_data()
        node_mask = torch.arange(self.config.max_nodes) < record["num_nodes"][:, None]
        return record["edges"].float(), pair_mask(node_mask)

    def fit(
        self,
        graphs: Iterable[GraphLike],
        run_dir: str | Path | None = None,
        resume: bool = False,
        *,
        reference: Sequence[GraphLike] | None = None,
        run_info: dict[str, Any] | None = None,
        **train_options: Any,
    ) -> GraphEBM:
        """Train the energy with ED on ``graphs``; ``train_options`` are fields of
        :class:`~edgraph.training.TrainConfig` (``max_steps``, ``max_minutes``, ``lr``, ...).

        ``run_dir`` receives ``config.json``, checkpoints (``checkpoints/last.ckpt``), CSV logs and
        the final ``model.pt`` (default: a temporary folder, removed afterwards); a folder that
        already holds a run is refused, and one process at a time may write to it. ``resume=True``
        continues from its ``last.ckpt`` at the saved step, with optimiser and EMA state, after
        checking that the run holds this model, these graphs, the same optimisation options and
        budget left (``max_steps`` / ``max_minutes`` count the whole run). ``run_info`` adds fields
        to ``config.json``. ``reference`` graphs (default: the training graphs) are what the
        periodic validation MMD (``val_every > 0``) compares with.

        With ``val_fraction > 0`` a seeded share of ``graphs`` is held out (:func:`~edgraph.models.base.hold_out`, seed
        ``seed``): the model trains on the rest, scores ``val_graphs`` samples against the held-out
        graphs every ``val_every`` steps (default: every ``checkpoint_every``) by the sum of their
        degree, clustering and orbit MMD, and samples with the EMA weights that scored best
        (``selected_step``); ``checkpoints/last.ckpt`` keeps the last weights for resuming.
        """
        from edgraph.training import TrainConfig

        graphs = list(graphs)
        config = TrainConfig.from_dict(train_options)
        graphs, held_out = hold_out(graphs, config.val_fraction, config.seed)
        if held_out and config.val_every == 0:
            train_options = {**train_options, "val_every": config.checkpoint_every}
        targets = held_out or (graphs if reference is None else reference)
        stats = ("degree", "clustering", "orbit") if held_out else ("degree", "clustering")

        def callbacks(module: EnergyModule) -> list[pl.Callback]:
            from edgraph.metrics import graph_mmd_dense
            from edgraph.training import PeriodicValidation

            config = module.config
            if config.val_every <= 0:
                return []

            def evaluate() -> dict[str, float]:
                adj, node_mask = self.sample_tensors(config.val_graphs, seed=0, energy=module.ema)
                return graph_mmd_dense(adj, node_mask, targets, stats=stats)

            return [PeriodicValidation(config.val_every, evaluate, keep_best=bool(held_out))]

        self._fit(graphs, run_dir, resume, train_options, run_info, callbacks)
        return self

    def training_loss(self, config: TrainConfig) -> Loss:
        """The loss ``(energy, x, mask) -> scalar`` that ``config.objective`` names: ED with
        Bernoulli flips of valid pairs (probability ``eps``, capped at about ``flips`` per graph),
        plus, with ``rewire``, ED with degree-preserving edge swaps; or PCD on chains from noise."""
        c = self.config
        if config.objective == "ed":
            perturbations: list[Perturbation] = [c.perturbation()]
            if c.rewire is not None:
                perturbations.append(EdgeSwap(c.rewire))

            def loss(energy: nn.Module, x: Tensor, mask: Tensor) -> Tensor:
                return torch.stack(
                    [energy_discrepancy(energy, x, q, c.num_negatives, c.w, mask) for q in perturbations]
                ).sum()

            return loss
        generator = torch.Generator().manual_seed(config.seed)
        cpu = torch.device("cpu")
        x0, mask = self.noise_states(config.cd_chains, generator, cpu)

        def restart(num: int, gen: torch.Generator | None) -> tuple[Tensor, Tensor]:
            x, mask = self.noise_states(num, gen or torch.default_generator, cpu)
            return x, mask

        chains = PersistentChains(
            x0,
            mask,
            reinit=restart,
            reinit_prob=config.cd_reinit,
        )
        return PersistentCD(
            make_sampler(config.cd_sampler, c.step_size),
            config.cd_steps,
            chains,
            energy_penalty=config.cd_energy_penalty,
        )

    def noise_states(self, num: int, generator: torch.Generator, device: torch.device) -> States:
        r"""Chain starts :math:`n \sim p(n)`, :math:`x_0 \sim \mathrm{Bernoulli}(\rho_n)` on valid
        pairs: edge vectors ``x0 [num, D]`` and their bool pair masks."""
        self._require_data()
        assert self.node_counts is not None and self.edge_density is not None
        n = draw(self.node_counts.float().to(device), num, generator)
        mask = pair_mask(torch.arange(self.config.max_nodes, device=device) < n[:, None])
        density = self.edge_density.float().to(device)[n]
        return torch.bernoulli(density[:, None] * mask, generator=generator), mask

    def data_states(self, num: int, generator: torch.Generator, device: torch.device) -> States:
        r"""Chain starts at training graphs drawn uniformly with replacement (so :math:`n \sim p(n)`
        too): edge vectors ``x0 [num, D]`` and their bool pair masks."""
        x, mask = self._training_tensors()
        rows = torch.randint(len(x), (num,), generator=generator, device=generator.device).cpu()
        return x[rows].to(device), mask[rows].to(device)

    def _run_chains(
        self, energy: nn.Module, chain: Sampler, states: States, steps: int, generator: torch.Generator, progress: bool
    ) -> States:
        x, mask = states
        n_max = self.config.max_nodes
        # Chains sorted by node count run in groups padded only to the group's largest graph:
        # the same target distribution, much less work on padding.
        for rows, pairs in size_buckets(mask, n_max, SAMPLING_GROUPS):
            moved = chain.sample(
                energy, x[rows][:, pairs], steps, mask[rows][:, pairs], generator=generator, progress=progress
            )
            x[rows[:, None], pairs] = moved
        return edges_to_adj(x * mask, n_max), node_mask_from_pairs(mask, n_max)

    def decode(self, tensors: States) -> list[nx.Graph]:
        """Networkx graphs on nodes ``0..n-1`` from ``(adj, node_mask)``."""
        adj, node_mask = tensors
        return dense_to_graphs(adj, node_mask)
