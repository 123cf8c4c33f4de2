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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from edgraph.energies.conditional import GuidedEnergy
from edgraph.energies.gnn import NODE_FEATURES, GraphEnergy
from edgraph.graphs import (
    GraphLike,
    _as_networkx,
    adj_to_edges,
    bfs_order,
    dense_to_graphs,
    edges_to_adj,
    graphs_to_dense,
    node_mask_from_pairs,
    num_pairs,
    pair_mask,
    renumbered,
    size_buckets,
)
from edgraph.metrics.diversity import graph_novelty
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
#: Share of training graphs whose label is dropped, so a class-conditional energy also learns
#: :math:`E(x, \varnothing)` for classifier-free guidance (Ho & Salimans 2022 use 0.1 to 0.2).
DEFAULT_LABEL_DROPOUT = 0.1
#: Validation chooses among snapshots whose samples are at least as novel as the held-out graphs
#: are to the training graphs, less this margin (:func:`novelty_required`).
NOVELTY_MARGIN = 0.1
#: What a validation check scores against held-out graphs.
VALIDATION_STATS = ("degree", "clustering", "orbit")
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
    num_classes: int = 0
    label_dropout: float = DEFAULT_LABEL_DROPOUT

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
        if self.num_classes < 0:
            raise ValueError(f"num_classes must be 0 (unconditional) or a number of classes, got {self.num_classes}")
        if not 0 <= self.label_dropout < 1:
            raise ValueError(f"label_dropout must be a probability in [0, 1), got {self.label_dropout}")
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
        num_classes: ``K > 0`` for a class-conditional energy :math:`E_\theta(x, c)`, fitted with
            ``fit(graphs, labels=...)`` and sampled with ``sample(n, label=c)``; ``0``: unconditional.
        label_dropout: share of training labels replaced by "no label" at each step, so the same
            network learns :math:`E_\theta(x, \varnothing)` too, which classifier-free
            ``guidance`` needs (:class:`~edgraph.energies.GuidedEnergy`).

    Example:
        >>> graphs = [nx.cycle_graph(4), nx.path_graph(5)] * 4
        >>> model = GraphEBM(max_nodes=5, hidden=8, layers=1, num_negatives=4)
        >>> model = model.fit(graphs, max_steps=2, progress=False)
        >>> [g.number_of_nodes() in (4, 5) for g in model.sample(3, steps=5, seed=0)]
        [True, True, True]
    """

    format = "edgraph.GraphEBM"
    states = "edge vectors"
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
        num_classes: int = 0,
        label_dropout: float = DEFAULT_LABEL_DROPOUT,
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
                num_classes,
                label_dropout,
            )
        )
        self.node_counts: Tensor | None = None
        self.edge_density: Tensor | None = None
        self.class_statistics: list[tuple[Tensor, Tensor]] = []  # (node_counts, edge_density) of each class

    @classmethod
    def _saved_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        return saved_graph_config(config)

    def _new_energy(self) -> GraphEnergy:
        c = self.config
        return GraphEnergy(
            c.max_nodes, hidden=c.hidden, layers=c.layers, features=c.features, num_classes=c.num_classes
        )

    def encode(self, data: Iterable[GraphLike], labels: Sequence[int] | Tensor | None = None) -> dict[str, Tensor]:
        """The training record of graphs (:func:`~edgraph.models.graph.graph_record`), plus ``labels`` ``[B]`` for a
        class-conditional model (one class in ``0..num_classes-1`` per graph).

        >>> record = GraphEBM(4).encode([nx.path_graph(3)])
        >>> record["edges"].int().tolist(), record["num_nodes"].tolist()
        ([[1, 0, 0, 1, 0, 0]], [3])
        """
        graphs = list(data)
        classes = self.config.num_classes
        if (labels is None) != (classes == 0):
            raise ValueError(
                "a class-conditional model (num_classes > 0) needs one label per graph: fit(graphs, labels=...)"
                if classes
                else "labels need a class-conditional model: GraphEBM(..., num_classes=K)"
            )
        record = graph_record(graphs, self.config.max_nodes)
        if labels is not None:
            record["labels"] = _class_labels(labels, len(graphs), classes)
        return record

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
        classes = self.config.num_classes
        if ("labels" in record) != (classes > 0):
            raise ValueError(
                f"training labels must be given exactly for a class-conditional model (num_classes={classes})"
            )
        labels = record["labels"] if classes else None
        if labels is not None:
            _class_labels(labels, len(edges), classes)
        super()._set_training_data(record)
        self.node_counts, self.edge_density = _size_statistics(edges, sizes, mask, n_max)
        members = [] if labels is None else [labels == c for c in range(classes)]
        self.class_statistics = [_size_statistics(edges[m], sizes[m], mask[m], n_max) for m in members]

    def _training_tensors(self) -> States:
        record = self._require_data()
        node_mask = torch.arange(self.config.max_nodes) < record["num_nodes"][:, None]
        tensors = (record["edges"].float(), pair_mask(node_mask))
        return (*tensors, record["labels"]) if "labels" in record else tensors

    def fit(
        self,
        graphs: Iterable[GraphLike],
        run_dir: str | Path | None = None,
        resume: bool = False,
        *,
        labels: Sequence[int] | Tensor | None = None,
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
        periodic validation MMD (``val_every > 0``) compares with. A second ``fit`` of the same
        model trains on from the last weights it trained (not validation-selected ones), with a
        fresh optimiser and step count (a warm start); build a new model to train from scratch.

        With ``val_fraction > 0`` a seeded share of ``graphs`` is held out (:func:`~edgraph.models.base.hold_out`, seed
        ``seed``): the model trains on the rest, scores ``val_graphs`` samples against the held-out
        graphs every ``val_every`` steps (default: every ``checkpoint_every``) and at the last
        step by the sum of their degree, clustering and orbit MMD, and samples with the EMA
        weights that scored best (``selected_step``) among those whose samples are novel enough
        (:func:`~edgraph.models.graph.novelty_required`: so that copying the training graphs,
        which scores the floor, is not chosen); ``checkpoints/last.ckpt`` keeps the last weights
        for resuming.

        A class-conditional model (``num_classes=K``) takes one label in ``0..K-1`` per graph,
        ``labels``; ED then trains :math:`E_\theta(x, c)` on each graph with its own label,
        replaced by "no label" with probability ``label_dropout``. Periodic validation samples
        the unlabelled energy.
        """
        from edgraph.training import TrainConfig

        objective = TrainConfig.from_dict(train_options).objective
        if labels is not None and objective != "ed":
            raise ValueError(f"class-conditional models train with ED; objective {objective!r} is not supported")
        fit_graphs(self, list(graphs), labels, run_dir, resume, reference, run_info, train_options)
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

            def loss(energy: nn.Module, x: Tensor, mask: Tensor, labels: Tensor | None = None) -> Tensor:
                scored = energy if labels is None else _with_labels(energy, self._drop_labels(labels))
                return torch.stack(
                    [energy_discrepancy(scored, x, q, c.num_negatives, c.w, mask) for q in perturbations]
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

    def _drop_labels(self, labels: Tensor) -> Tensor:
        """``labels`` with each replaced by "no label" (``num_classes``) with probability ``label_dropout``."""
        c = self.config
        if not c.label_dropout:
            return labels
        dropped = torch.rand(labels.shape, device=labels.device) < c.label_dropout
        return torch.where(dropped, torch.full_like(labels, c.num_classes), labels)

    def conditioned(self, energy: nn.Module, label: int | None, guidance: float) -> nn.Module:
        """:class:`~edgraph.energies.GuidedEnergy` of ``label`` at ``guidance`` for a class-conditional model."""
        c = self.config
        if not c.num_classes:
            return super().conditioned(energy, label, guidance)
        if guidance and not c.label_dropout:
            raise ValueError("guidance needs E(x, no label), which a model trained with label_dropout=0 never learned")
        return GuidedEnergy(energy, c.num_classes, label, guidance)

    def _statistics(self, label: int | None) -> tuple[Tensor, Tensor]:
        """Node-count distribution ``[N + 1]`` and edge density by node count ``[N + 1]`` of the
        training graphs (of class ``label``, if given)."""
        self._require_data()
        if label is None:
            assert self.node_counts is not None and self.edge_density is not None
            return self.node_counts, self.edge_density
        self.conditioned(self.energy, label, 0.0)  # refuses a label this model does not have
        return self.class_statistics[label]

    def noise_states(
        self, num: int, generator: torch.Generator, device: torch.device, label: int | None = None
    ) -> States:
        r"""Chain starts :math:`n \sim p(n)`, :math:`x_0 \sim \mathrm{Bernoulli}(\rho_n)` on valid
        pairs, with :math:`p(n)` and :math:`\rho_n` those of class ``label`` if given: edge vectors
        ``x0 [num, D]`` and their bool pair masks."""
        node_counts, edge_density = self._statistics(label)
        n = draw(node_counts.float().to(device), num, generator)
        mask = pair_mask(torch.arange(self.config.max_nodes, device=device) < n[:, None])
        density = edge_density.float().to(device)[n]
        return torch.bernoulli(density[:, None] * mask, generator=generator), mask

    def data_states(
        self, num: int, generator: torch.Generator, device: torch.device, label: int | None = None
    ) -> States:
        r"""Chain starts at training graphs (of class ``label``, if given) drawn uniformly with
        replacement (so :math:`n \sim p(n)` too): edge vectors ``x0 [num, D]`` and their bool pair masks."""
        x, mask, *labels = self._training_tensors()
        self.conditioned(self.energy, label, 0.0)  # refuses a label this model does not have
        pool = torch.arange(len(x)) if label is None else (labels[0] == label).nonzero().squeeze(1)
        rows = pool[torch.randint(len(pool), (num,), generator=generator, device=generator.device).cpu()]
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
        """Networkx graphs on nodes ``0..n-1`` from ``(adj [B, N, N], node_mask [B, N])``.

        >>> adj = torch.tensor([[[0, 1, 0], [1, 0, 0], [0, 0, 0]]])
        >>> [sorted(g.edges) for g in GraphEBM(3).decode((adj, torch.tensor([[True, True, False]])))]
        [[(0, 1)]]
        """
        adj, node_mask = tensors
        return dense_to_graphs(adj, node_mask)


def graph_record(graphs: Sequence[GraphLike], max_nodes: int, bfs: bool = False) -> dict[str, Tensor]:
    """The training record of graphs, checked: ``edges`` bool ``[B, D]`` (upper triangles padded
    to ``max_nodes``) and ``num_nodes`` ``[B]``. Any sequence of networkx graphs or PyG ``Data``;
    ``bfs=True`` first renumbers each graph's nodes by :func:`~edgraph.graphs.bfs_order`.

    >>> record = graph_record([nx.path_graph(3)], max_nodes=4)
    >>> record["edges"].int().tolist(), record["num_nodes"].tolist()
    ([[1, 0, 0, 1, 0, 0]], [3])
    """
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
    if bfs:
        graphs = [renumbered(g, bfs_order) for g in _as_networkx(graphs)]
    adj, node_mask = graphs_to_dense(graphs, max_nodes)
    return {"edges": adj_to_edges(adj).bool(), "num_nodes": node_mask.sum(1)}


def fit_graphs(
    model: EnergyModel,
    graphs: list[GraphLike],
    labels: Sequence[int] | Tensor | None,
    run_dir: str | Path | None,
    resume: bool,
    reference: Sequence[GraphLike] | None,
    run_info: dict[str, Any] | None,
    train_options: dict[str, Any],
    finish: Callable[[list[GraphLike], list[GraphLike]], None] | None = None,
) -> None:
    """Train a graph model on ``graphs`` (see :meth:`edgraph.GraphEBM.fit`): hold out the
    validation share, add periodic validation, and train (``EnergyModel._fit``).
    ``finish(trained_on, held_out)`` runs after training, before the model is saved."""
    from edgraph.training import TrainConfig

    config = TrainConfig.from_dict(train_options)
    model.encode(graphs, labels)  # checks graphs and labels before anything is split or written
    kept, held = hold_out(list(range(len(graphs))), config.val_fraction, config.seed)
    held_out = [graphs[i] for i in held]
    graphs, labels = [graphs[i] for i in kept], None if labels is None else [int(labels[i]) for i in kept]
    val_every = config.val_every or (config.checkpoint_every if held_out else 0)
    train_options = {**train_options, "val_every": val_every}
    targets = held_out or (graphs if reference is None else reference)
    stats = VALIDATION_STATS if held_out else ("degree", "clustering")

    def callbacks(module: EnergyModule) -> list[pl.Callback]:
        from edgraph.training import PeriodicValidation

        config = module.config
        if config.val_every <= 0:
            return []
        required = novelty_required(held_out, graphs) if held_out else 0.0

        def evaluate() -> dict[str, float]:
            train = graphs if held_out else None
            return validation_metrics(model, config.val_graphs, targets, stats, train, energy=module.ema)

        def score(metrics: dict[str, float]) -> tuple[float, float]:
            return validation_score(metrics, stats, required)

        shortfalls = 0

        def stop(metrics: dict[str, float]) -> bool:
            nonlocal shortfalls
            shortfalls = shortfalls + 1 if score(metrics)[0] > 0 else 0
            return 0 < config.val_patience <= shortfalls

        validation = PeriodicValidation(config.val_every, evaluate, bool(held_out), score, stop if held_out else None)
        return [validation]

    after = None if finish is None else lambda: finish(graphs, held_out)
    model._fit(model.encode(graphs, labels), run_dir, resume, train_options, run_info, callbacks, after)


def validation_metrics(
    model: EnergyModel,
    num: int,
    targets: Sequence[GraphLike],
    stats: Sequence[str],
    train: Sequence[GraphLike] | None = None,
    energy: nn.Module | None = None,
    **options: Any,
) -> dict[str, float]:
    """One validation check: the gdss MMD over ``stats`` between ``num`` samples (seed 0) and
    ``targets``, with the samples' novelty against ``train`` when it is given. ``energy`` and
    ``options`` are passed to :meth:`~edgraph.models.base.EnergyModel.sample_tensors`.

    >>> graphs = [nx.path_graph(4), nx.star_graph(3)] * 4
    >>> model = GraphEBM(max_nodes=4, hidden=8, layers=1).fit(graphs, max_steps=2, progress=False)
    >>> sorted(validation_metrics(model, 8, graphs, ["degree"], train=graphs, steps=2))
    ['degree', 'novelty']
    """
    from edgraph.metrics import graph_mmd_dense

    adj, node_mask = model.sample_tensors(num, seed=0, energy=energy, **options)
    metrics = graph_mmd_dense(adj, node_mask, targets, stats=stats)
    if train is not None:
        metrics["novelty"] = graph_novelty(dense_to_graphs(adj, node_mask), train)
    return metrics


def novelty_required(
    held_out: Sequence[GraphLike], train: Sequence[GraphLike], margin: float = NOVELTY_MARGIN
) -> float:
    r"""The least novelty a model's samples need to be chosen on validation graphs: the share of
    ``held_out`` graphs isomorphic to no ``train`` graph, less ``margin``, at least 0.

    Held-out graphs are fresh draws from the data distribution, so samples of a model that
    generalises are about as new to the training graphs as they are; samples much less new than
    that are copies.

    >>> novelty_required([nx.path_graph(3), nx.cycle_graph(4)], [nx.star_graph(2)], margin=0.1)
    0.4
    """
    return max(0.0, graph_novelty(held_out, train, clean=False) - margin)


def validation_score(metrics: dict[str, float], stats: Sequence[str], required: float) -> tuple[float, float]:
    """The rank of one validation check, lower is better: first by how far its samples' ``novelty``
    falls short of ``required`` (0 when it does not), then by the sum of their MMD over ``stats``.

    Copies of training graphs score the train-vs-held-out floor, so MMD alone would prefer a model
    that memorises to one that generalises but is not yet at the floor. Among checks that are all
    too little novel, the most novel one wins, not the one that copies best.

    >>> checks = [{"degree": 0.01, "novelty": 0.1}, {"degree": 0.02, "novelty": 0.5}, {"degree": 0.03, "novelty": 0.3}]
    >>> min(range(3), key=lambda i: validation_score(checks[i], ["degree"], required=0.4))
    1
    >>> min([0, 2], key=lambda i: validation_score(checks[i], ["degree"], required=0.4))
    2
    """
    return max(0.0, required - metrics.get("novelty", 1.0)), sum(metrics[s] for s in stats)


def _size_statistics(edges: Tensor, sizes: Tensor, mask: Tensor, n_max: int) -> tuple[Tensor, Tensor]:
    """Node-count distribution ``[N + 1]`` and edge density by node count ``[N + 1]`` of graphs
    ``edges [B, D]`` with ``sizes [B]`` and pair masks ``mask [B, D]``."""
    node_counts = torch.bincount(sizes, minlength=n_max + 1).double() / len(sizes)
    edge_sum = torch.zeros(n_max + 1, dtype=torch.float64).index_add_(0, sizes, edges.sum(1).double())
    pair_sum = torch.zeros(n_max + 1, dtype=torch.float64).index_add_(0, sizes, mask.sum(1).double())
    return node_counts, edge_sum / pair_sum.clamp(min=1)


def _class_labels(labels: Sequence[int] | Tensor, num_graphs: int, num_classes: int) -> Tensor:
    """Labels as a ``long [B]`` tensor, checked: one per graph, each in ``0..num_classes-1``, every class present."""
    try:
        values = torch.as_tensor(labels)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"labels must be integers in 0..{num_classes - 1}, got {labels!r:.80}") from None
    if values.dim() != 1 or len(values) != num_graphs:
        raise ValueError(f"need one label per graph: {num_graphs} graphs, labels of shape {tuple(values.shape)}")
    if values.dtype.is_floating_point or values.dtype == torch.bool or values.dtype.is_complex:
        raise ValueError(f"labels must be integers in 0..{num_classes - 1}, got {values.dtype}")
    values = values.long()
    outside = values[(values < 0) | (values >= num_classes)]
    if len(outside):
        raise ValueError(
            f"labels must lie in 0..{num_classes - 1} (num_classes={num_classes}), got {outside[0].item()}"
        )
    missing = sorted(set(range(num_classes)) - set(values.tolist()))
    if missing:
        raise ValueError(f"classes {missing} have no training graphs; every class needs at least one")
    return values


def _with_labels(energy: nn.Module, labels: Tensor) -> Callable[[Tensor, Tensor], Tensor]:
    """``energy(states, mask)`` for ED's states, each data graph followed by its negatives: every
    state reads the label of the data graph it came from."""

    def labelled(states: Tensor, mask: Tensor) -> Tensor:
        return energy(states, mask, labels.repeat_interleave(len(states) // len(labels)))

    return labelled
