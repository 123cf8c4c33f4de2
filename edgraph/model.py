r"""``GraphEBM``: the user-facing model — fit on graphs, sample graphs, save and load.

A :class:`GraphEBM` is an energy :math:`E_\theta(x, m)` over edge vectors of graphs padded to
``max_nodes`` (:class:`~edgraph.energies.GraphEnergy`), plus what generation needs beside it: the
node-count distribution :math:`p(n)` and the edge density :math:`\rho_n` of training graphs of
each size, and the training graphs themselves. Sampling draws :math:`n \sim p(n)`, starts a
chain at :math:`x_0 \sim \mathrm{Bernoulli}(\rho_n)` on the valid pairs (or, with
``init="data"``, at a training graph drawn uniformly) and runs a discrete MCMC sampler (Gibbs,
GWG, DULA or DMALA) on :math:`p_\theta(x \mid n) \propto \exp(-E_\theta(x, m_n))`.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import networkx as nx
import torch
from torch import Tensor, nn

from edgraph.energies.gnn import GraphEnergy
from edgraph.graphs import (
    GraphLike,
    adj_to_edges,
    edges_to_graphs,
    graphs_from_json,
    graphs_to_dense,
    graphs_to_edges,
    graphs_to_json,
    pair_mask,
    size_buckets,
)
from edgraph.io import atomic_write
from edgraph.samplers import DMALA, DULA, GWG, Gibbs
from edgraph.objectives import PersistentCD, PersistentChains
from edgraph.training import (
    EnergyModule,
    Loss,
    TrainConfig,
    ValidationMMD,
    build_trainer,
    ed_loss,
    make_loader,
)

FORMAT = "edgraph.GraphEBM"
FORMAT_VERSION = 1
SAMPLERS = ("gibbs", "gwg", "dula", "dmala")
INITS = ("noise", "data")


@dataclass
class ModelConfig:
    """What defines a :class:`GraphEBM`: its energy network, ED loss and default sampler."""

    max_nodes: int
    hidden: int = 64
    layers: int = 4
    features: tuple[str, ...] = ("degree", "triangles", "size")
    conv: str = "gin"
    # Measured on ego_small over 3 x 3 seeds (evaluation/graph_results.md): a fixed eps of 0.2 beats
    # ~1.5 flips per graph on all three MMDs, and GWG 200 steps samples as well as 500 in 2/5 the time.
    eps: float = 0.2
    flips: float | None = None
    num_negatives: int = 32
    w: float = 1.0
    sampler: str = "gwg"
    sampler_steps: int = 200
    step_size: float = 0.25

    def __post_init__(self) -> None:
        self.features = tuple(self.features)
        if self.max_nodes < 2:
            raise ValueError(f"max_nodes must be at least 2, got {self.max_nodes}")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; choose from {SAMPLERS}")


def make_sampler(name: str, step_size: float):
    """The sampler object called ``name`` (``"gibbs"``, ``"gwg"``, ``"dula"`` or ``"dmala"``)."""
    if name == "gibbs":
        return Gibbs()
    if name == "gwg":
        return GWG()
    if name == "dula":
        return DULA(step_size)
    if name == "dmala":
        return DMALA(step_size)
    raise ValueError(f"unknown sampler {name!r}; choose from {SAMPLERS}")


class TrainedEnergy:
    """What the user-facing models (:class:`GraphEBM`, :class:`~edgraph.molecule_model.MoleculeEBM`)
    share: an energy and its EMA copy trained in the Lightning loop of :mod:`edgraph.training`,
    atomic saving, and loading from a ``model.pt``, a Lightning ``.ckpt`` or a run directory.

    A subclass sets ``format`` (the checkpoint's format name) and implements ``_new_energy``,
    ``metadata`` (everything but the weights, with ``format``, ``version``, ``config``,
    ``steps_trained``) and ``_restore`` (statistics from that metadata); ``cls(**config)`` must
    rebuild the model.
    """

    format: str
    energy: nn.Module
    sampling_energy: nn.Module
    steps_trained: int

    def _new_energy(self) -> nn.Module:
        raise NotImplementedError

    def metadata(self) -> dict[str, Any]:
        raise NotImplementedError

    def _restore(self, meta: dict[str, Any]) -> None:
        raise NotImplementedError

    def _train(self, tensors: Sequence[Tensor], loss: Loss, config: TrainConfig, run_dir: str | Path | None,
               resume: bool, callbacks: Callable[[EnergyModule], list[pl.Callback]] = lambda module: []) -> None:
        """Minimise ``loss(energy, *batch)`` over batches of the rows of ``tensors``.

        ``run_dir`` (default: a new temporary folder) receives checkpoints
        (``checkpoints/last.ckpt``), CSV logs and the final ``model.pt``; ``resume=True``
        continues from ``last.ckpt`` at the saved step, with optimiser and EMA state.
        """
        run_dir = Path(run_dir) if run_dir is not None else Path(tempfile.mkdtemp(prefix="edgraph-run-"))
        checkpoint = run_dir / "checkpoints" / "last.ckpt"
        if resume:
            self._check_resumable(checkpoint)
        pl.seed_everything(config.seed, verbose=False)
        module = EnergyModule(self.energy, loss, config, self.metadata())
        trainer = build_trainer(config, run_dir, callbacks(module))
        trainer.fit(module, make_loader(*tensors, batch_size=config.batch_size, seed=config.seed),
                    ckpt_path=str(checkpoint) if resume else None)
        self.steps_trained = trainer.global_step
        module.metadata = self.metadata()
        trainer.save_checkpoint(checkpoint, weights_only=False)
        self.energy = module.energy.cpu()
        self.sampling_energy = module.ema.cpu()
        if trainer.is_global_zero:
            self.save(run_dir / "model.pt")

    def _check_resumable(self, checkpoint: Path) -> None:
        if not checkpoint.is_file():
            raise FileNotFoundError(f"cannot resume: no checkpoint at {checkpoint}")
        saved = _read_checkpoint(checkpoint, self.format)["edgraph"]["config"]
        ours = self.metadata()["config"]
        if saved != ours:
            diff = {k: (saved.get(k), ours[k]) for k in ours if saved.get(k) != ours[k]}
            raise ValueError(f"cannot resume from {checkpoint}: it belongs to another model "
                             f"(saved vs requested: {diff})")

    def save(self, path: str | Path) -> None:
        """Write config, statistics and weights (raw and EMA) to ``path``, atomically."""
        buffer = io.BytesIO()
        torch.save({**self.metadata(), "energy": self.energy.state_dict(),
                    "sampling_energy": self.sampling_energy.state_dict()}, buffer)
        atomic_write(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | Path):
        """Load a model from a ``model.pt``, a Lightning ``.ckpt``, or a run directory.

        A run directory gives its ``model.pt`` if training finished, else
        ``checkpoints/last.ckpt`` (an interrupted run can be sampled from).
        """
        path = model_file(path)
        payload = _read_checkpoint(path, cls.format)
        meta = payload.get("edgraph", payload)
        model = cls(**dict(meta["config"]))
        model._restore(meta)
        model.steps_trained = meta["steps_trained"]
        if "state_dict" in payload:  # a Lightning checkpoint of EnergyModule
            weights = payload["state_dict"]
            raw = {k[len("energy."):]: v for k, v in weights.items() if k.startswith("energy.")}
            ema = {k[len("ema."):]: v for k, v in weights.items() if k.startswith("ema.")}
        else:
            raw, ema = payload["energy"], payload["sampling_energy"]
        try:
            model.energy.load_state_dict(raw)
            model.sampling_energy = model._new_energy()
            model.sampling_energy.load_state_dict(ema)
        except RuntimeError as err:
            raise ValueError(f"{path}: weights do not fit the saved config ({err})") from None
        model.sampling_energy.requires_grad_(False)
        return model


class GraphEBM(TrainedEnergy):
    r"""Energy-based model of graphs trained with Energy Discrepancy.

    Args:
        max_nodes: largest graph the model handles (``N``); larger inputs are refused.
        **options: fields of :class:`ModelConfig` (``hidden``, ``layers``, ``features``,
            ``conv``, ``eps``, ``flips``, ``num_negatives``, ``w``, ``sampler``,
            ``sampler_steps``, ``step_size``). ``eps`` is the edge-flip probability of the ED
            perturbation; ``flips``, when set, replaces it by about ``flips`` flipped pairs per
            graph whatever its size.

    Example:
        >>> graphs = [nx.cycle_graph(4), nx.path_graph(5)] * 4
        >>> model = GraphEBM(max_nodes=5, hidden=8, layers=1, num_negatives=4)
        >>> model = model.fit(graphs, max_steps=2, progress=False)  # doctest: +ELLIPSIS
        >>> [g.number_of_nodes() in (4, 5) for g in model.sample(3, steps=5, seed=0)]
        [True, True, True]
    """

    format = FORMAT

    def __init__(self, max_nodes: int, **options: Any) -> None:
        self.config = ModelConfig(max_nodes=max_nodes, **options)
        self.energy = self._new_energy()
        self.sampling_energy = self.energy
        self.node_counts: Tensor | None = None
        self.edge_density: Tensor | None = None
        self.training_graphs: list[dict] | None = None
        self.steps_trained = 0

    def _new_energy(self) -> GraphEnergy:
        c = self.config
        return GraphEnergy(c.max_nodes, hidden=c.hidden, layers=c.layers, features=c.features, conv=c.conv)

    def prepare(self, graphs: Sequence[GraphLike]) -> tuple[Tensor, Tensor]:
        """Edge vectors ``x [B, D]`` and pair masks of ``graphs``, recording what sampling needs
        from them: the node-count distribution, the edge density of each size and the graphs
        themselves (JSON interchange records, for chains started at the data)."""
        n_max = self.config.max_nodes
        adj, node_mask = graphs_to_dense(graphs, n_max)
        x, mask = adj_to_edges(adj), pair_mask(node_mask)
        sizes = node_mask.sum(1)
        self.node_counts = torch.bincount(sizes, minlength=n_max + 1).double() / len(sizes)
        edges = torch.zeros(n_max + 1, dtype=torch.float64).index_add_(0, sizes, x.sum(1).double())
        pairs = torch.zeros(n_max + 1, dtype=torch.float64).index_add_(0, sizes, mask.sum(1).double())
        self.edge_density = edges / pairs.clamp(min=1)
        self.training_graphs = graphs_to_json(graphs)["graphs"]
        return x, mask

    def metadata(self) -> dict[str, Any]:
        """Everything but the weights: config, node-count distribution, edge densities, training
        graphs, steps."""
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "config": {**asdict(self.config), "features": list(self.config.features)},
            "node_counts": None if self.node_counts is None else self.node_counts.tolist(),
            "edge_density": None if self.edge_density is None else self.edge_density.tolist(),
            "training_graphs": self.training_graphs,
            "steps_trained": self.steps_trained,
        }

    def fit(self, graphs: Sequence[GraphLike], run_dir: str | Path | None = None, resume: bool = False,
            reference: Sequence[GraphLike] | None = None, **train_options: Any) -> GraphEBM:
        """Train the energy with ED on ``graphs``; options are fields of :class:`TrainConfig`.

        ``run_dir`` receives checkpoints (``checkpoints/last.ckpt``), ``metrics.csv`` and the
        final ``model.pt``; ``resume=True`` continues from its ``last.ckpt`` at the saved step,
        with optimiser and EMA state. ``reference`` graphs (default: the training graphs) are
        what the periodic validation MMD (``val_every > 0``) compares samples with.
        """
        config = TrainConfig.from_dict(train_options)
        x, mask = self.prepare(graphs)

        def callbacks(module: EnergyModule) -> list[pl.Callback]:
            if config.val_every <= 0:
                return []
            return [ValidationMMD(lambda k: self._sample_with(module.ema, k, seed=0),
                                  reference if reference is not None else graphs,
                                  config.val_every, config.val_graphs)]

        self._train((x, mask), self.training_loss(config), config, run_dir, resume, callbacks)
        return self

    def _restore(self, meta: dict[str, Any]) -> None:
        self.node_counts = torch.tensor(meta["node_counts"], dtype=torch.float64)
        self.edge_density = torch.tensor(meta["edge_density"], dtype=torch.float64)
        self.training_graphs = meta.get("training_graphs")  # absent from models saved before init="data" existed

    def training_loss(self, config: TrainConfig) -> Loss:
        """The loss ``(energy, x, mask) -> scalar`` that ``config.objective`` names: ED with this
        model's eps, M and w, or PCD on chains started by :meth:`initial_states`."""
        c = self.config
        if config.objective == "ed":
            return ed_loss(c.eps, c.num_negatives, c.w, c.flips)
        generator = torch.Generator().manual_seed(config.seed)
        x0, mask = self.initial_states(config.cd_chains, generator)
        chains = PersistentChains(x0, mask, reinit=lambda k, gen: self.initial_states(k, gen)[0],
                                  reinit_prob=config.cd_reinit)
        return PersistentCD(make_sampler(config.cd_sampler, c.step_size), config.cd_steps, chains,
                            energy_penalty=config.cd_energy_penalty)

    def initial_states(self, num_graphs: int, generator: torch.Generator,
                       device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
        r"""Chain starts: :math:`n \sim p(n)`, :math:`x_0 \sim \mathrm{Bernoulli}(\rho_n)` on valid pairs.

        Returns edge vectors ``x0 [num_graphs, D]`` and their pair masks.
        """
        if self.node_counts is None:
            raise RuntimeError("the model has not been fitted: call fit() or load() first")
        n = torch.multinomial(self.node_counts.float().to(device), num_graphs, replacement=True,
                              generator=generator)
        mask = pair_mask(torch.arange(self.config.max_nodes, device=device) < n[:, None])
        density = self.edge_density.float().to(device)[n]
        return torch.bernoulli(density[:, None] * mask, generator=generator), mask

    def data_states(self, num_graphs: int, generator: torch.Generator,
                    device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
        r"""Chain starts at training graphs drawn uniformly with replacement (so :math:`n \sim p(n)`
        too): edge vectors ``x0 [num_graphs, D]`` and their pair masks."""
        if self.training_graphs is None:
            raise RuntimeError("this model holds no training graphs (fit it, or load a model saved by an "
                               "edgraph that stores them); sample with init='noise'")
        x, mask = graphs_to_edges(graphs_from_json({"graphs": self.training_graphs}), self.config.max_nodes)
        rows = torch.randint(len(x), (num_graphs,), generator=generator, device=generator.device).cpu()
        return x[rows].to(device), mask[rows].to(device)

    @torch.no_grad()
    def _sample_with(self, energy: torch.nn.Module, num_graphs: int, sampler: str | None = None,
                     steps: int | None = None, step_size: float | None = None, seed: int | None = None,
                     device: str | torch.device | None = None, buckets: int = 3,
                     progress: bool = False, init: str = "noise") -> list[nx.Graph]:
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose from {INITS}")
        c = self.config
        device = torch.device(device) if device is not None else next(energy.parameters()).device
        generator = torch.Generator(device)
        generator.manual_seed(seed if seed is not None else int(torch.randint(2**62, ())))
        x, mask = (self.initial_states if init == "noise" else self.data_states)(num_graphs, generator, device)
        chain = make_sampler(sampler or c.sampler, step_size if step_size is not None else c.step_size)
        was_training = energy.training
        energy.eval().to(device)
        # Chains sorted by node count run in buckets padded only to the bucket's largest graph:
        # the same target distribution, much less work on padding.
        for bucket, pairs in size_buckets(mask, c.max_nodes, buckets):
            moved = chain.sample(energy, x[bucket][:, pairs], steps if steps is not None else c.sampler_steps,
                                 mask[bucket][:, pairs], generator=generator, progress=progress)
            x[bucket[:, None], pairs] = moved
        energy.train(was_training)
        return edges_to_graphs(x.cpu(), mask.cpu(), c.max_nodes)

    def sample(self, num_graphs: int, sampler: str | None = None, steps: int | None = None,
               step_size: float | None = None, seed: int | None = None,
               device: str | torch.device | None = None, buckets: int = 3,
               progress: bool = False, init: str = "noise") -> list[nx.Graph]:
        r"""Generate ``num_graphs`` graphs (node counts drawn from the training distribution).

        ``sampler`` (``"gibbs"``, ``"gwg"``, ``"dula"``, ``"dmala"``), ``steps`` and
        ``step_size`` default to the model's config; the same ``seed`` gives the same graphs.
        Chains run in ``buckets`` groups of similar node counts, each padded only to its largest
        graph (the energy is the same; the work on padding shrinks). ``progress=True`` shows a
        progress bar over each bucket's steps.

        ``init="noise"`` starts each chain at :math:`\mathrm{Bernoulli}(\rho_n)` noise;
        ``init="data"`` at a training graph drawn uniformly, so the chain edits real graphs
        under the energy. On ego_small the chains from noise do not reach the energy's basins
        around the training graphs of 7 or more nodes; from the data, 20 GWG steps sample below
        the real-vs-real MMD floor, with as many novel graphs as from noise. Where the energy itself
        is off (community_small), long chains forget the start and only short ones stay close
        to the data (``evaluation/graph_results.md``). Steps 0 returns training graphs unchanged.
        """
        return self._sample_with(self.sampling_energy, num_graphs, sampler, steps, step_size, seed, device,
                                 buckets, progress, init)


def model_file(path: str | Path) -> Path:
    """The file a model loads from: ``path`` itself, or for a run directory its ``model.pt``
    if training finished, else ``checkpoints/last.ckpt``."""
    path = Path(path)
    if not path.is_dir():
        return path
    found = [p for p in (path / "model.pt", path / "checkpoints" / "last.ckpt") if p.is_file()]
    if not found:
        raise FileNotFoundError(f"{path} holds no model.pt nor checkpoints/last.ckpt")
    return found[0]


def checkpoint_format(path: str | Path) -> str:
    """The model format a checkpoint, ``model.pt`` or run directory holds (e.g.
    ``"edgraph.GraphEBM"``), so callers can pick the class that loads it."""
    payload = _read_checkpoint(model_file(path), None)
    return payload.get("edgraph", payload)["format"]


def _read_checkpoint(path: Path, format: str | None = FORMAT) -> dict[str, Any]:
    """Load a checkpoint safely (``weights_only``), turning damage into a clear ``ValueError``.

    ``format``: the model format it must hold (``None``: any edgraph model format).
    """
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for truncated or foreign files
        raise ValueError(f"{path} is not a readable edgraph checkpoint (truncated or corrupted?): "
                         f"{type(err).__name__}: {str(err)[:200]}") from None
    meta = payload.get("edgraph", payload) if isinstance(payload, dict) else None
    found = meta.get("format") if isinstance(meta, dict) else None
    if not isinstance(found, str) or not found.startswith("edgraph.") or format not in (None, found):
        raise ValueError(f"{path} is not an edgraph {(format or 'model').removeprefix('edgraph.')} checkpoint"
                         + (f" (it holds {found})" if isinstance(found, str) and found.startswith("edgraph.") else ""))
    if meta.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path} has checkpoint format version {meta.get('version')}; "
                         f"this edgraph reads version {FORMAT_VERSION}")
    return payload
