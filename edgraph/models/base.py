r"""What every edgraph model shares: ``fit``, ``sample``, ``save`` and ``load``.

A model is an energy network :math:`E_\theta` plus what generation needs beside it, derived from
its training data (which it keeps, as compact tensors). Subclasses say how data become tensors
(:meth:`EnergyModel.encode`), which loss trains the energy, how chains start and run, and how
sampled tensors become user objects (:meth:`EnergyModel.decode`). Everything else lives here once:
the training run, the sampling loop, and checkpoint input and output.

A checkpoint (``model.pt`` or a Lightning ``last.ckpt``) holds ``format`` (the model class),
``version`` (:data:`FORMAT_VERSION`), ``config`` (the constructor's arguments), ``steps_trained``,
``training_data`` (tensors) and the raw and EMA weights. It is read with
``torch.load(weights_only=True)``, so loading never runs code from the file.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import numbers
import pickle
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import Tensor, nn

from edgraph.energies.terms import ComposedEnergy, EnergyTerm
from edgraph.io import atomic_write, read_json_mapping, run_lock
from edgraph.options import check_fields
from edgraph.samplers import DISCRETE_SAMPLERS, Sampler, make_sampler

if TYPE_CHECKING:
    import lightning.pytorch as pl

    from edgraph.training import EnergyModule, Loss, TrainConfig

#: Version of the checkpoint format this edgraph writes and reads; other versions are refused.
FORMAT_VERSION = 2
#: What a run directory holds once a run has started; a fresh fit refuses a folder with any of them.
RUN_ARTEFACTS = ("model.pt", "config.json", "checkpoints", "logs")
#: Where sampling chains start, ``"noise"`` (from the training statistics) or ``"data"`` (at training examples).
INITS = ("noise", "data")

States = tuple[Tensor, ...]


class EnergyModel(ABC):
    """Base class of :class:`~edgraph.GraphEBM` and :class:`~edgraph.MoleculeEBM`.

    ``config`` is a dataclass of the constructor's arguments; ``energy`` holds the raw weights and
    ``sampling_energy`` the EMA weights that sampling uses; ``training_data`` the encoded
    training set (``None`` before ``fit``).
    """

    format: ClassVar[str]
    #: The samplers of this model's states, and what those states are (for messages).
    samplers: ClassVar[tuple[str, ...]] = DISCRETE_SAMPLERS
    states: ClassVar[str] = "discrete states"
    #: Training options ``fit`` uses where the caller gives none, over :class:`~edgraph.training.TrainConfig`'s.
    fit_defaults: ClassVar[dict[str, Any]] = {}
    config: Any

    def __init__(self, config: Any) -> None:
        self.config = config
        self.energy = self._new_energy()
        self.sampling_energy = self.energy
        self.training_data: dict[str, Tensor] | None = None
        self.steps_trained = 0
        self.selected_step: int | None = None  # the step whose weights sample, when chosen on validation data

    # What a model defines.

    @abstractmethod
    def _new_energy(self) -> nn.Module:
        """A freshly initialised energy network for ``self.config``."""

    @abstractmethod
    def encode(self, data: Any, labels: Any = None) -> dict[str, Tensor]:
        """The compact training record of user data (checked), as stored in checkpoints, with
        one class label per example for a class-conditional model (others refuse labels)."""

    @abstractmethod
    def _training_tensors(self) -> States:
        """The tensors one training batch is drawn from, in the order the loss takes them."""

    @abstractmethod
    def training_loss(self, config: TrainConfig) -> Loss:
        """The loss ``(energy, *batch) -> scalar`` for ``config.objective``."""

    @abstractmethod
    def noise_states(
        self, num: int, generator: torch.Generator, device: torch.device, label: int | None = None
    ) -> States:
        """Chain starts drawn from the training statistics (of class ``label``, if given), as the
        model's sampling states."""

    @abstractmethod
    def data_states(
        self, num: int, generator: torch.Generator, device: torch.device, label: int | None = None
    ) -> States:
        """Chain starts at training examples (of class ``label``, if given) drawn uniformly with replacement."""

    @abstractmethod
    def _run_chains(
        self, energy: nn.Module, chain: Sampler, states: States, steps: int, generator: torch.Generator, progress: bool
    ) -> States:
        """Run ``chain`` for ``steps`` steps from ``states``; return the final dense tensors."""

    @abstractmethod
    def decode(self, tensors: States) -> list:
        """User objects (graphs, SMILES) from the dense tensors :meth:`sample_tensors` returns."""

    def conditioned(self, energy: nn.Module, label: int | None, guidance: float) -> nn.Module:
        """The energy chains of class ``label`` sample, at classifier-free ``guidance``; models
        without classes refuse a label (the default)."""
        if label is not None or guidance:
            raise ValueError(
                f"this {type(self).__name__} is not class-conditional: label and guidance need a model "
                "built with num_classes and fitted with labels"
            )
        return energy

    # Shared behaviour.

    def _set_training_data(self, record: dict[str, Tensor]) -> None:
        """Keep the encoded training set; subclasses derive their sampling statistics from it."""
        self.training_data = record

    def prepare(self, data: Any) -> States:
        """Encode ``data``, keep it as the training set (what sampling statistics derive from),
        and return the tensors training batches are drawn from, e.g. ``(x [B, D], mask [B, D])`` for
        graphs.

        >>> import networkx as nx
        >>> from edgraph import GraphEBM
        >>> x, mask = GraphEBM(4).prepare([nx.path_graph(3)])
        >>> x.tolist(), mask.tolist()
        ([[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]], [[True, True, False, True, False, False]])
        """
        self._set_training_data(self.encode(data))
        return self._training_tensors()

    def _require_data(self) -> dict[str, Tensor]:
        if self.training_data is None:
            raise RuntimeError("the model has not been fitted: call fit() or load() first")
        return self.training_data

    def metadata(self) -> dict[str, Any]:
        """Everything a checkpoint holds besides the weights.

        >>> from edgraph import GraphEBM
        >>> sorted(GraphEBM(4).metadata())
        ['config', 'format', 'selected_step', 'steps_trained', 'training_data', 'version']
        """
        return {
            "format": self.format,
            "version": FORMAT_VERSION,
            "config": _plain(dataclasses.asdict(self.config)),
            "steps_trained": self.steps_trained,
            "selected_step": self.selected_step,
            "training_data": self.training_data,
        }

    def _read_metadata(self, meta: dict[str, Any]) -> None:
        """Restore what :meth:`metadata` saved besides the config, which built the model."""
        self._set_training_data(meta["training_data"])
        self.steps_trained = int(meta["steps_trained"])
        selected = meta.get("selected_step")
        self.selected_step = None if selected is None else int(selected)

    def _fit(
        self,
        record: dict[str, Tensor],
        run_dir: str | Path | None,
        resume: bool,
        train_options: dict[str, Any],
        run_info: dict[str, Any] | None = None,
        callbacks: Callable[[EnergyModule], list[pl.Callback]] | None = None,
        finish: Callable[[], None] | None = None,
    ) -> None:
        """Train the energy on the encoded training set ``record`` (:meth:`encode`) in ``run_dir``
        (see :meth:`GraphEBM.fit`).

        Everything is checked before anything is written or changed: the options, the data, and
        the run directory (:meth:`_check_run`). The run directory is locked while training, so
        one process at a time writes to it; ``config.json`` (the model's and the training's
        options, with ``run_info``) is written once the checks have passed. ``finish()`` runs
        after training and before ``model.pt`` is written (on rank 0 of a distributed run), for
        choices made with the trained weights that the saved model must hold.
        """
        from edgraph.training import TrainConfig, worker_process

        config = TrainConfig.from_dict(train_options)
        if run_dir is None and resume:
            raise ValueError("resume=True needs the run_dir of the run to continue")
        if run_dir is None:
            with tempfile.TemporaryDirectory(prefix="edgraph-run-") as scratch:
                self._train(Path(scratch), record, config, False, callbacks, finish)
            return
        run_dir = Path(run_dir)
        if worker_process():  # a DDP worker that Lightning started: rank 0 checked, locked and wrote
            self._train(run_dir, record, config, resume, callbacks, finish)
            return
        self._check_run(run_dir, record, config, resume)
        with run_lock(run_dir):
            self._check_run(run_dir, record, config, resume)  # again: another process may have written meanwhile
            run_config = {**_plain(dataclasses.asdict(self.config)), **dataclasses.asdict(config), **(run_info or {})}
            atomic_write(run_dir / "config.json", json.dumps(run_config, indent=2))
            # a run stopped before its first checkpoint has nothing to continue from: it starts again
            saved = (run_dir / "checkpoints" / "last.ckpt").is_file()
            self._train(run_dir, record, config, resume and saved, callbacks, finish)

    def _check_run(self, run_dir: Path, record: dict[str, Tensor], config: TrainConfig, resume: bool) -> None:
        """Refuse a fresh fit into a folder that holds a run, and a resume of a run that is not this
        model on this data with these optimisation options, or whose budget is spent."""
        from edgraph.training import RESUMABLE_OPTIONS, check_budget_left, spent_budget

        if not resume:
            found = sorted(name for name in RUN_ARTEFACTS if (run_dir / name).exists())
            if found:
                raise ValueError(
                    f"{run_dir} already holds a run ({', '.join(found)}); pass --resume (resume=True) to continue "
                    "it or choose another --out (nothing was overwritten)"
                )
            return
        checkpoint = run_dir / "checkpoints" / "last.ckpt"
        if not checkpoint.is_file():
            if (run_dir / "model.pt").exists() or not (run_dir / "config.json").is_file():
                raise FileNotFoundError(f"cannot resume: no checkpoint at {checkpoint}")
            self._check_saved_config(run_dir / "config.json")
            return  # the run stopped before its first save: it starts again from step 0
        saved = _read_checkpoint(checkpoint, self.format)
        meta = saved["edgraph"]
        ours = _plain(dataclasses.asdict(self.config))
        theirs = self._saved_config(meta["config"])
        if theirs != ours:
            diff = {k: (theirs.get(k), v) for k, v in ours.items() if theirs.get(k) != v}
            raise ValueError(f"cannot resume: the run belongs to another model (saved vs requested: {diff})")
        if not _same_record(meta.get("training_data"), record):
            raise ValueError("cannot resume: the run was trained on other data than the data given now")
        saved_train = meta.get("train_config", {})
        changed = {
            k: (saved_train[k], v)
            for k, v in dataclasses.asdict(config).items()
            if k not in RESUMABLE_OPTIONS and k in saved_train and saved_train[k] != v
        }
        if changed:
            listed = ", ".join(f"{k} {new!r} (the run's: {old!r})" for k, (old, new) in changed.items())
            raise ValueError(
                f"cannot resume with other optimisation options: {listed}; they are fixed for a run "
                "(start a new run to change them)"
            )
        check_budget_left(config, *spent_budget(saved))

    def _check_saved_config(self, path: Path) -> None:
        """Refuse to restart, in place, a run whose ``config.json`` names another model."""
        saved = self._saved_config(read_json_mapping(path))
        ours = _plain(dataclasses.asdict(self.config))
        diff = {k: (saved.get(k), v) for k, v in ours.items() if saved.get(k) != v}
        if diff:
            raise ValueError(f"cannot resume: the run belongs to another model (saved vs requested: {diff})")

    def _train(
        self,
        run_dir: Path,
        record: dict[str, Tensor],
        config: TrainConfig,
        resume: bool,
        callbacks: Callable[[EnergyModule], list[pl.Callback]] | None,
        finish: Callable[[], None] | None = None,
    ) -> None:
        from edgraph.training import train_energy

        self._set_training_data(record)
        if not resume and self.steps_trained == 0:
            # A fresh fit draws its initial weights from the run's seed, so a seed fixes the whole run.
            with torch.random.fork_rng():
                torch.manual_seed(config.seed)
                self.energy = self._new_energy()
        module = train_energy(
            self.energy,
            self.training_loss(config),
            self._training_tensors(),
            config,
            run_dir,
            {**self.metadata(), "train_config": dataclasses.asdict(config)},
            resume,
            callbacks,
        )
        from edgraph.training import PeriodicValidation

        self.steps_trained = module.global_step
        self.energy = module.energy.cpu()
        self.sampling_energy = module.ema.cpu()
        chosen = [c.best for c in module.trainer.callbacks if isinstance(c, PeriodicValidation) and c.best]  # type: ignore[attr-defined]
        self.selected_step = None
        if chosen:  # the weights that scored best on the held-out graphs sample, not the last ones
            self.sampling_energy.load_state_dict(chosen[0]["weights"])
            self.selected_step = int(chosen[0]["step"])
        if module.trainer.is_global_zero:
            if finish is not None:
                finish()
            self.save(run_dir / "model.pt")

    def sample(
        self,
        num: int,
        *,
        seed: int | None = None,
        sampler: str | None = None,
        steps: int | None = None,
        step_size: float | None = None,
        init: str = "noise",
        device: str | torch.device | None = None,
        progress: bool = False,
        terms: Sequence[EnergyTerm | Callable[..., Tensor]] = (),
        label: int | None = None,
        guidance: float = 0.0,
    ) -> list:
        r"""Generate ``num`` samples (node or atom counts drawn from the training distribution).

        ``sampler`` (``"gibbs"``, ``"gwg"``, ``"dula"``, ``"dmala"``), ``steps`` and
        ``step_size`` default to the model's config; the same ``seed`` gives the same samples.
        ``init="noise"`` starts each chain from the training statistics, ``init="data"`` at a
        training example drawn uniformly (``steps=0`` then returns training examples unchanged).
        ``progress=True`` reports the sampler's steps on stderr. ``terms`` are added to the learned
        energy (:mod:`edgraph.energies.terms`): the chains sample
        :math:`p(x) \propto \exp(-E_\theta(x) - \sum_k \lambda_k T_k(x))`, for instance
        ``terms=[Connected(weight=5)]``; a plain callable ``energy(x, mask) -> [B]`` counts with weight 1.
        A class-conditional model samples class ``label`` (node counts and chain starts from that
        class's training graphs), at classifier-free ``guidance`` :math:`w`
        (:class:`~edgraph.energies.GuidedEnergy`); ``label=None`` samples the unlabelled energy.
        """
        return self.decode(
            self.sample_tensors(
                num,
                seed=seed,
                sampler=sampler,
                steps=steps,
                step_size=step_size,
                init=init,
                device=device,
                progress=progress,
                terms=terms,
                label=label,
                guidance=guidance,
            )
        )

    def sample_tensors(
        self,
        num: int,
        *,
        seed: int | None = None,
        sampler: str | None = None,
        steps: int | None = None,
        step_size: float | None = None,
        init: str = "noise",
        device: str | torch.device | None = None,
        progress: bool = False,
        terms: Sequence[EnergyTerm | Callable[..., Tensor]] = (),
        label: int | None = None,
        guidance: float = 0.0,
        energy: nn.Module | None = None,
    ) -> States:
        """What :meth:`sample` decodes: the model's dense tensors, on the CPU; arguments as in
        :meth:`sample` (``energy`` defaults to the EMA weights). Graph models give
        ``(adj [B, N, N], node_mask [B, N])``, molecule models ``(atoms [B, N, Ka], bonds [B, D, Kb],
        node_mask [B, N])``, with ``B = num``."""
        if isinstance(num, bool) or not isinstance(num, numbers.Integral) or num < 0:
            raise ValueError(f"the number of samples must be a non-negative integer, got {num!r}")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose from {INITS}")
        self._require_data()
        c = self.config
        name = sampler or c.sampler
        if name not in self.samplers:
            raise ValueError(f"a {type(self).__name__} samples {self.states} with {self.samplers}, not {name!r}")
        chain = make_sampler(name, step_size if step_size is not None else c.step_size)
        steps = c.sampler_steps if steps is None else steps
        if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
            raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
        energy = self.conditioned(self.sampling_energy if energy is None else energy, label, guidance)
        if terms:
            energy = ComposedEnergy(energy, terms)
        device = torch.device(device) if device is not None else next(energy.parameters()).device
        generator = torch.Generator(device)
        generator.manual_seed(seed if seed is not None else int(torch.randint(2**62, ())))
        starts = self.noise_states if init == "noise" else self.data_states
        states = starts(int(num), generator, device, label)
        was_training, home = energy.training, next(energy.parameters()).device
        energy.eval().to(device)
        try:
            with torch.no_grad():
                dense = self._run_chains(energy, chain, states, int(steps), generator, progress)
        finally:
            energy.train(was_training).to(home)
        return tuple(t.cpu() for t in dense)

    def save(self, path: str | Path) -> None:
        """Write config, training data and weights (raw and EMA) to ``path``, atomically."""
        buffer = io.BytesIO()
        torch.save(
            {
                **self.metadata(),
                "energy": self.energy.state_dict(),
                "sampling_energy": self.sampling_energy.state_dict(),
            },
            buffer,
        )
        atomic_write(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> Any:
        """Load a model from a ``model.pt``, a Lightning ``.ckpt``, or a run directory.

        A run directory gives its ``model.pt`` if training finished, else
        ``checkpoints/last.ckpt`` (an interrupted run can be sampled from).
        """
        path = model_file(path)
        payload = _read_checkpoint(path, cls.format)
        meta = payload.get("edgraph", payload)
        try:
            model = cls(**cls._saved_config(meta["config"]))
            model._read_metadata(meta)
            if "state_dict" in payload:  # a Lightning checkpoint of EnergyModule
                weights = payload["state_dict"]
                raw = {k[len("energy.") :]: v for k, v in weights.items() if k.startswith("energy.")}
                ema = {k[len("ema.") :]: v for k, v in weights.items() if k.startswith("ema.")}
            else:
                raw, ema = payload["energy"], payload["sampling_energy"]
        except (TypeError, ValueError, KeyError, IndexError, RuntimeError, AttributeError) as err:
            raise ValueError(f"{path}: the saved config, training data or weights are damaged ({err!r})") from None
        try:
            model.energy.load_state_dict(raw)
            model.sampling_energy = model._new_energy()
            model.sampling_energy.load_state_dict(ema)
        except RuntimeError as err:
            raise ValueError(f"{path}: weights do not fit the saved config ({err})") from None
        if not all(torch.isfinite(p).all() for p in model.sampling_energy.parameters()):
            raise ValueError(f"{path}: the saved weights hold NaN or infinite values")
        model.sampling_energy.requires_grad_(False)
        return model

    @classmethod
    def _saved_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """The constructor arguments of a saved config, in this version's terms."""
        return config


def is_main_process() -> bool:
    """Whether this process writes a run's shared files: the only one, or rank 0 of a
    distributed run (every rank trains; one saves).

    >>> is_main_process()  # no process group: the only process
    True
    """
    distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
    return not distributed or torch.distributed.get_rank() == 0


def hold_out(items: list, fraction: float, seed: int) -> tuple[list, list]:
    """Split ``items`` into training and validation parts: the validation part is
    ``round(fraction * n)`` items (at least one when ``fraction > 0``) at the first positions of a
    permutation seeded by ``seed``; both parts keep the input order.

    >>> hold_out(list("abcdefghij"), 0.2, seed=0)
    (['a', 'c', 'd', 'f', 'g', 'h', 'i', 'j'], ['b', 'e'])
    """
    if fraction <= 0:
        return items, []
    if len(items) < 2:
        raise ValueError(
            f"holding out validation graphs needs at least 2 graphs, got {len(items)} "
            "(val_fraction=0 trains on all of them)"
        )
    count = min(len(items) - 1, max(1, round(fraction * len(items))))
    held = set(torch.randperm(len(items), generator=torch.Generator().manual_seed(seed))[:count].tolist())
    return [x for i, x in enumerate(items) if i not in held], [x for i, x in enumerate(items) if i in held]


def draw(probs: Tensor, num: int, generator: torch.Generator) -> Tensor:
    """``num`` categories drawn with replacement from each row of ``probs`` (``[K]`` or ``[B, K]``),
    as :func:`torch.multinomial` does, but also for ``num = 0``.

    >>> draw(torch.tensor([0.0, 1.0]), 3, torch.Generator()).tolist(), draw(torch.ones(2), 0, torch.Generator()).shape
    ([1, 1, 1], torch.Size([0]))
    """
    if num == 0:
        return torch.zeros(*probs.shape[:-1], 0, dtype=torch.long, device=probs.device)
    return torch.multinomial(probs, num, replacement=True, generator=generator)


def check_options(config: Any, samplers: Sequence[str] = DISCRETE_SAMPLERS) -> None:
    """Check a model config's types, and the options every model has: ``hidden``, ``layers``,
    ``num_negatives``, ``w``, ``sampler`` (one of ``samplers``), ``sampler_steps`` and ``step_size``."""
    check_fields(config)
    for name in ("hidden", "layers", "num_negatives"):
        if getattr(config, name) < 1:
            raise ValueError(f"{name} must be at least 1, got {getattr(config, name)}")
    if not (math.isfinite(config.w) and math.isfinite(config.step_size)):
        raise ValueError(f"w and step_size must be finite numbers, got {config.w} and {config.step_size}")
    if config.w < 0 or config.step_size <= 0 or config.sampler_steps < 0:
        raise ValueError(
            f"need w >= 0, step_size > 0 and sampler_steps >= 0; got {config.w}, {config.step_size}, "
            f"{config.sampler_steps}"
        )
    if config.sampler not in samplers:
        raise ValueError(f"unknown sampler {config.sampler!r}; choose from {tuple(samplers)}")


def _plain(config: dict[str, Any]) -> dict[str, Any]:
    """A config as JSON would hold it (tuples as lists), so saved and new configs compare equal."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}


def _same_record(saved: dict[str, Tensor] | None, record: dict[str, Tensor]) -> bool:
    if not isinstance(saved, dict) or saved.keys() != record.keys():
        return False
    return all(saved[k].shape == record[k].shape and torch.equal(saved[k], record[k]) for k in record)


def model_file(path: str | Path) -> Path:
    """The file a model loads from: ``path`` itself, or for a run directory the newer of its
    ``model.pt`` (written when a training session ends) and ``checkpoints/last.ckpt`` (written
    during one), so a run being resumed gives its latest weights."""
    path = Path(path)
    if not path.is_dir():
        return path
    found = [p for p in (path / "model.pt", path / "checkpoints" / "last.ckpt") if p.is_file()]
    if not found:
        raise FileNotFoundError(f"{path} holds no model.pt nor checkpoints/last.ckpt")
    return max(found, key=lambda p: p.stat().st_mtime_ns)


def checkpoint_format(path: str | Path) -> str:
    """The model format a checkpoint, ``model.pt`` or run directory holds (e.g.
    ``"edgraph.GraphEBM"``), so callers can pick the class that loads it."""
    payload = _read_checkpoint(model_file(path), None)
    return payload.get("edgraph", payload)["format"]


def _read_checkpoint(path: Path, format: str | None) -> dict[str, Any]:
    """Load a checkpoint safely (``weights_only``), turning damage into a clear ``ValueError``.

    ``format``: the model format it must hold (``None``: any edgraph model format).
    """
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    with path.open("rb") as file:
        head = file.read(4)
    if not (head == b"PK\x03\x04" or head[:1] == b"\x80"):  # torch.save writes a zip; old torch a pickle
        raise ValueError(f"{path} is not an edgraph checkpoint (not a file that torch.save wrote)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:  # the safe loader met something other than tensors and containers
        reason = next((line.strip() for line in str(err).splitlines() if "GLOBAL" in line or "Unsupported" in line), "")
        raise ValueError(
            f"refused: {path} asks to run code on load, which edgraph never does" + (f" ({reason})" if reason else "")
        ) from None
    except Exception as err:  # torch raises several types for truncated or damaged files
        raise ValueError(
            f"{path} is not a readable edgraph checkpoint (truncated or corrupted?): {type(err).__name__}: {err}"
        ) from None
    meta = payload.get("edgraph", payload) if isinstance(payload, dict) else {}
    found = meta.get("format") if isinstance(meta, dict) else None
    if not isinstance(found, str) or not found.startswith("edgraph.") or format not in (None, found):
        held = f" (it holds {found})" if isinstance(found, str) and found.startswith("edgraph.") else ""
        raise ValueError(f"{path} is not an edgraph {(format or 'model').removeprefix('edgraph.')} checkpoint{held}")
    if meta.get("version") != FORMAT_VERSION:
        raise ValueError(
            f"{path} has checkpoint format version {meta.get('version')}; this edgraph reads version "
            f"{FORMAT_VERSION} (train the model again with this version)"
        )
    return payload
