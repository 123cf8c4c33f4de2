r"""The training loop every model shares, on PyTorch Lightning.

:func:`train_energy` minimises ``loss(energy, *batch)`` over shuffled batches of rows of a tuple of
tensors: ``(x, mask)`` for graphs, ``(atoms, bonds, node_mask)`` for molecules. Which loss (Energy
Discrepancy, or the persistent contrastive divergence baseline) is the model's choice. Around it:
AdamW, gradient clipping, a cosine learning-rate decay over the budget, an exponential moving
average (EMA) of the weights for sampling, CSV logs, crash-safe checkpoints with resume, step and
time budgets that hold across resumes, progress reports, CPU/CUDA and multi-process DDP.
"""

from __future__ import annotations

import io
import logging
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import ModelCheckpoint, Timer, TQDMProgressBar
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.plugins.io import TorchCheckpointIO
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

from edgraph.io import atomic_write
from edgraph.options import check_fields

#: A training loss, ``loss(energy, *batch) -> scalar``, e.g. ``loss(energy, x, mask)``.
Loss = Callable[..., Tensor]
LR_SCHEDULES = ("cosine", "constant")
OBJECTIVES = ("ed", "pcd")
DEVICES = ("auto", "cpu", "cuda")
#: Lightning precisions a run may train in, full float32 or mixed bfloat16 / float16 (GPU) autocast.
PRECISIONS = ("32-true", "bf16-mixed", "16-mixed")
#: Options a resumed run may change (its budget and how it runs); the others fix the optimisation.
RESUMABLE_OPTIONS = frozenset(
    {
        "max_steps",
        "max_minutes",
        "device",
        "devices",
        "num_nodes",
        "strategy",
        "precision",
        "checkpoint_every",
        "log_every",
        "val_every",
        "val_graphs",
        "val_patience",
        "progress",
        "progress_every",
    }
)


@dataclass
class TrainConfig:
    """Optimisation settings of ``fit`` (the defaults are those of ``docs/decisions.md``).

    ``max_steps`` and ``max_minutes`` are budgets for the whole run, resumes included: training
    stops at whichever comes first (at least one must be set). ``ema_decay = 0`` samples with the
    raw weights. ``objective="pcd"`` trains a graph model by persistent contrastive divergence
    instead of ED, with ``cd_steps`` steps of ``cd_sampler`` per update on ``cd_chains``
    persistent chains (restarted with probability ``cd_reinit``), optionally with the
    energy-magnitude penalty ``cd_energy_penalty``: the baseline of the same energy and loop.
    ``lr_schedule="cosine"`` decays the learning rate to 0 over the budget (:class:`CosineDecay`);
    ``"constant"`` keeps ``lr``. ``progress`` reports training on stderr: a bar on a terminal,
    else a line every ``progress_every`` steps. ``val_fraction > 0`` holds out that share of a
    graph model's training graphs (:func:`~edgraph.models.base.hold_out`), scores samples against
    them every ``val_every`` steps and at the last step, and keeps the weights with the best score
    as the model; ``val_patience > 0`` then ends training once that many checks in a row gave
    samples less novel than the held-out graphs allow
    (:func:`~edgraph.models.graph.novelty_required`), since training on only makes a model copy more.
    """

    max_steps: int | None = 1400
    max_minutes: float | None = None
    batch_size: int = 32
    lr: float = 1e-3
    lr_schedule: str = "cosine"
    weight_decay: float = 1e-4
    grad_clip: float = 5.0
    ema_decay: float = 0.99
    seed: int = 0
    device: str = "auto"
    devices: int = 1
    num_nodes: int = 1
    strategy: str = "auto"
    precision: str = "32-true"
    checkpoint_every: int = 200
    log_every: int = 1
    val_every: int = 0
    val_graphs: int = 64
    val_fraction: float = 0.0
    val_patience: int = 0
    progress: bool = True
    progress_every: int = 100
    objective: str = "ed"
    cd_sampler: str = "gwg"
    cd_steps: int = 10
    cd_chains: int = 1024
    cd_reinit: float = 0.05
    cd_energy_penalty: float = 0.0

    def __post_init__(self) -> None:
        check_fields(self)
        if self.max_steps is None and self.max_minutes is None:
            raise ValueError("set max_steps or max_minutes (or both): training needs a budget")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, got {self.max_steps}")
        if self.max_minutes is not None and not (math.isfinite(self.max_minutes) and self.max_minutes > 0):
            raise ValueError(f"max_minutes must be a positive number of minutes, got {self.max_minutes}")
        for name in (
            "batch_size",
            "devices",
            "num_nodes",
            "checkpoint_every",
            "log_every",
            "progress_every",
            "cd_chains",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"unknown objective {self.objective!r}; choose from {OBJECTIVES}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"unknown lr_schedule {self.lr_schedule!r}; choose from {LR_SCHEDULES}")
        if self.device not in DEVICES:
            raise ValueError(f"unknown device {self.device!r}; choose from {DEVICES}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}; choose from {PRECISIONS}")
        if self.precision == "16-mixed" and self.device == "cpu":
            raise ValueError("precision 16-mixed needs a GPU; on a CPU use bf16-mixed")
        for name in ("lr", "weight_decay", "grad_clip", "cd_energy_penalty"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0) or (name == "lr" and value == 0):
                raise ValueError(f"{name} must be a finite number {'> 0' if name == 'lr' else '>= 0'}, got {value}")
        if not 0 <= self.cd_reinit <= 1:
            raise ValueError(f"cd_reinit must be a probability in [0, 1], got {self.cd_reinit}")
        for name in ("val_every", "val_patience", "cd_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0 <= self.val_fraction <= 0.5:
            raise ValueError(f"val_fraction must be in [0, 0.5], got {self.val_fraction}")
        if self.val_patience and not self.val_fraction:
            raise ValueError("val_patience stops on held-out graphs; set val_fraction > 0 to hold some out")
        if self.val_graphs < 1:
            raise ValueError(f"val_graphs must be at least 1, got {self.val_graphs}")
        if not 0 <= self.seed < 2**32:
            raise ValueError(f"seed must be in [0, 2**32), got {self.seed}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """A config from a mapping of its fields; unknown names are refused, listing the valid ones."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown training options {sorted(unknown)}; valid: {sorted(known)}")
        return cls(**values)


def accelerator(device: str) -> str:
    """Lightning accelerator for ``device`` (``"auto"``, ``"cpu"`` or ``"cuda"``), checked.

    >>> accelerator("cpu")
    'cpu'
    """
    if device == "auto":
        return "gpu" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("--device cuda was asked for, but no CUDA GPU is available (use --device cpu or auto)")
        return "gpu"
    if device == "cpu":
        return "cpu"
    raise ValueError(f"unknown device {device!r}; choose from {DEVICES}")


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoint writer that never leaves a half-written file: temp file + rename."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options: Any | None = None
    ) -> None:
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        atomic_write(path, buffer.getvalue())


class EnergyModule(pl.LightningModule):
    r"""Lightning module: minimise ``loss(energy, *batch)`` and keep an EMA copy of the energy.

    The EMA uses the warm-up :math:`\beta_t = \min(\beta, (1+t)/(10+t))`, so early in training it
    follows the raw weights instead of lagging behind them; with :math:`\beta = 0` it equals the
    raw weights, so sampling always uses ``ema``. ``metadata`` is what the model stores beside the
    weights; every checkpoint records it with the current step as ``steps_trained``.
    """

    def __init__(self, energy: nn.Module, loss: Loss, config: TrainConfig, metadata: dict[str, Any]) -> None:
        super().__init__()
        self.metadata = metadata
        self.energy = energy
        self.ema = frozen_copy(energy)
        self.loss = loss
        self.config = config
        self.checkpoint: Path | None = None  # where checkpoints are saved, for messages

    def training_step(self, batch: tuple[Tensor, ...], batch_index: int) -> Tensor:
        loss = self.loss(self.energy, *batch)
        if not torch.isfinite(loss):
            kept = (
                f"{self.checkpoint} keeps the run as of its last save"
                if self.checkpoint is not None and self.checkpoint.is_file()
                else "no checkpoint had been saved yet"
            )
            raise FloatingPointError(
                f"the training loss became {loss.item()} at step {self.global_step}; {kept}; "
                "lower the learning rate or eps"
            )
        self.log("loss", loss, prog_bar=True, on_step=True, on_epoch=False, batch_size=len(batch[0]))
        return loss

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_index: int) -> None:
        step = self.global_step
        decay = min(self.config.ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for averaged, current in zip(self.ema.parameters(), self.energy.parameters()):
                averaged.lerp_(current, 1 - decay)

    def configure_gradient_clipping(
        self, optimizer: torch.optim.Optimizer, gradient_clip_val: Any = None, gradient_clip_algorithm: Any = None
    ) -> None:
        """Clip the gradient norm of the energy at ``grad_clip``, or of each of its parts separately
        when it names them (``parameter_groups()``, e.g. an autoencoder and its latent prior), so
        that one part's large gradients never shrink another's steps."""
        groups = getattr(self.energy, "parameter_groups", None)
        if groups is None or not gradient_clip_val:
            super().configure_gradient_clipping(optimizer, gradient_clip_val, gradient_clip_algorithm)
            return
        for group in groups():
            nn.utils.clip_grad_norm_(group, gradient_clip_val)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["edgraph"] = {**self.metadata, "steps_trained": self.global_step}

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.energy.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay)


def frozen_copy(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` with gradients off (the EMA's starting point)."""
    buffer = io.BytesIO()
    torch.save(module, buffer)  # a deep copy that keeps torch_geometric layers intact
    buffer.seek(0)
    copy = torch.load(buffer, weights_only=False)
    copy.requires_grad_(False)
    return copy


def metrics_files(run_dir: str | os.PathLike) -> list[Path]:
    """The CSV logs of a run directory in order: one per training session (resumes add one)."""
    files = Path(run_dir).glob("logs/version_*/metrics.csv")
    return sorted(files, key=lambda p: int(p.parent.name.split("_")[1]))


def worker_process() -> bool:
    """Whether this process is a non-zero rank that Lightning's DDP launcher started (it re-runs
    the command with ``LOCAL_RANK`` set); such a process trains but leaves the run's files to rank 0."""
    rank = os.environ.get("RANK", os.environ.get("SLURM_PROCID", os.environ.get("LOCAL_RANK", "0")))
    return int(rank) != 0 or int(os.environ.get("NODE_RANK", "0")) != 0


def make_loader(*tensors: Tensor, batch_size: int, seed: int) -> DataLoader:
    """Shuffled loader of tuples of ``tensors`` rows, e.g. ``(x, mask)``; the last incomplete batch is kept."""
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        TensorDataset(*tensors), batch_size=min(batch_size, len(tensors[0])), shuffle=True, generator=generator
    )


def spent_budget(checkpoint: dict[str, Any]) -> tuple[int, float]:
    """Steps and training seconds a Lightning checkpoint has already spent."""
    seconds = 0.0
    for key, state in checkpoint.get("callbacks", {}).items():
        if key.startswith("Timer") and isinstance(state, dict):
            seconds = float(state.get("time_elapsed", {}).get("train", 0.0))
    return int(checkpoint.get("global_step", 0)), seconds


def check_budget_left(config: TrainConfig, steps: int, seconds: float) -> None:
    """Refuse to resume a run whose budget (``max_steps`` / ``max_minutes``, totals across resumes) is spent.

    >>> check_budget_left(TrainConfig(max_steps=100), steps=100, seconds=5.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: nothing to train: the run has trained 100 of its max_steps 100 (totals across resumes); pass...
    """
    if config.max_steps is not None and steps >= config.max_steps:
        raise ValueError(
            f"nothing to train: the run has trained {steps} of its max_steps {config.max_steps} "
            "(totals across resumes); pass a larger --max-steps to continue"
        )
    if config.max_minutes is not None and seconds >= 60 * config.max_minutes:
        raise ValueError(
            f"nothing to train: the run has trained {seconds / 60:.2f} of its max_minutes {config.max_minutes} "
            "(totals across resumes); pass a larger --max-minutes to continue"
        )


def train_energy(
    energy: nn.Module,
    loss: Loss,
    tensors: Sequence[Tensor],
    config: TrainConfig,
    run_dir: Path,
    metadata: dict[str, Any],
    resume: bool = False,
    callbacks: Callable[[EnergyModule], list[pl.Callback]] | None = None,
) -> EnergyModule:
    """Train ``energy`` on batches of rows of ``tensors``; return the module holding raw and EMA weights.

    ``run_dir`` receives ``checkpoints/last.ckpt`` (every ``checkpoint_every`` steps and at the
    end, with ``metadata``) and CSV logs; ``resume=True`` continues from ``last.ckpt`` at the
    saved step, with optimiser and EMA state. ``callbacks(module)`` adds Lightning callbacks.
    """
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    pl.seed_everything(config.seed, verbose=False)
    module = EnergyModule(energy, loss, config, metadata)
    module.checkpoint = checkpoint
    trainer = build_trainer(config, run_dir, callbacks(module) if callbacks is not None else [])
    if trainer.world_size > 1 and trainer.is_global_zero:
        print(f"training on {trainer.world_size} processes ({config.strategy})", file=sys.stderr, flush=True)
    with _quiet_lightning():
        trainer.fit(
            module,
            make_loader(*tensors, batch_size=config.batch_size, seed=config.seed),
            ckpt_path=str(checkpoint) if resume else None,
        )
    trainer.save_checkpoint(checkpoint, weights_only=False)
    return module


def build_trainer(config: TrainConfig, run_dir: Path, callbacks: list[pl.Callback]) -> pl.Trainer:
    """A Lightning trainer with the budgets, logging, progress and crash-safe checkpoints of ``config``."""
    checkpoints = ModelCheckpoint(
        dirpath=run_dir / "checkpoints", save_last=True, save_top_k=0, every_n_train_steps=config.checkpoint_every
    )
    on_terminal = config.progress and sys.stderr.isatty()
    progress: list[pl.Callback] = []
    if on_terminal:
        progress.append(TQDMProgressBar())
    elif config.progress:
        progress.append(LineProgress(config))
    with _quiet_lightning():
        return pl.Trainer(
            accelerator=accelerator(config.device),
            devices=config.devices,
            num_nodes=config.num_nodes,
            strategy=config.strategy,
            precision=config.precision,  # type: ignore[arg-type]
            max_steps=config.max_steps if config.max_steps is not None else -1,
            max_epochs=-1,
            max_time=timedelta(minutes=config.max_minutes) if config.max_minutes is not None else None,
            gradient_clip_val=config.grad_clip or None,
            logger=CSVLogger(save_dir=str(run_dir), name="logs"),  # a new version per (resumed) run
            log_every_n_steps=config.log_every,
            callbacks=[
                checkpoints,
                # Lightning times the run only under a time budget; this timer records the time of
                # step-budgeted sessions too, so a later --max-minutes counts the whole run.
                *([Timer(duration=timedelta(days=3650))] if config.max_minutes is None else []),
                *([CosineDecay(config)] if config.lr_schedule == "cosine" else []),
                *progress,
                *callbacks,
            ],
            plugins=[AtomicCheckpointIO()],
            enable_progress_bar=on_terminal,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            limit_val_batches=0,
            deterministic=False,
            default_root_dir=str(run_dir),
        )


@contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Silence Lightning's start-up banners, tips and data-loader advice, which say nothing about edgraph runs."""
    loggers = [logging.getLogger(name) for name in ("lightning.pytorch", "lightning.fabric")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            # A resumed run restarts its shuffling from the run's seed (documented: not bit-identical to an
            # uninterrupted run); Lightning's warning about loader state says no more than that.
            noise = (
                ".*does not have many workers.*",
                ".*litmodels.*",
                ".*LeafSpec.*",
                ".*treespec.*",
                ".*dataloader is not resumable.*",
            )
            for pattern in noise:
                warnings.filterwarnings("ignore", message=pattern)
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


class LineProgress(pl.Callback):
    """Progress for logs and pipes: one line on stderr every ``progress_every`` steps and at the end."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.start = time.perf_counter()

    def on_train_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self.start = time.perf_counter()

    def on_train_batch_end(self, trainer: pl.Trainer, module: pl.LightningModule, *args: Any) -> None:
        if trainer.global_step % self.config.progress_every == 0 and trainer.is_global_zero:
            self._report(trainer)

    def on_train_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if trainer.global_step % self.config.progress_every and trainer.is_global_zero:
            self._report(trainer)

    def _report(self, trainer: pl.Trainer) -> None:
        total = f"/{self.config.max_steps}" if self.config.max_steps is not None else ""
        loss = trainer.callback_metrics.get("loss")
        shown = f" loss {float(loss):.4f}" if loss is not None else ""
        elapsed = time.perf_counter() - self.start
        print(f"step {trainer.global_step}{total}{shown} ({elapsed:.0f} s)", file=sys.stderr, flush=True)


class CosineDecay(pl.Callback):
    r"""Cosine decay of the learning rate over the training budget (Loshchilov & Hutter, SGDR, 2017):

    .. math::
        \eta_t = \eta\,\tfrac12\big(1 + \cos(\pi f_t)\big),\qquad
        f_t = \max\Big(\frac{t}{T_\text{steps}}, \frac{\text{elapsed}}{T_\text{time}}\Big)

    with :math:`f_t` the fraction of the budget spent, in steps or in wall-clock time, whichever
    is further along, so the rate reaches 0 when training stops. Under a time budget it follows
    the clock and the schedule is no longer reproducible step by step. The rate is logged as ``lr``.
    """

    def __init__(self, config: TrainConfig) -> None:
        self.config = config

    def fraction(self, trainer: pl.Trainer) -> float:
        """The spent fraction :math:`f_t` of the budget, in [0, 1]."""
        spent = trainer.global_step / self.config.max_steps if self.config.max_steps else 0.0
        callbacks = trainer.callbacks  # type: ignore[attr-defined]  # set by Lightning at run time
        timer = next((c for c in callbacks if isinstance(c, Timer)), None)
        if self.config.max_minutes and timer is not None:
            spent = max(spent, (timer.time_elapsed("train") or 0.0) / (60 * self.config.max_minutes))
        return min(spent, 1.0)

    def on_train_batch_start(self, trainer: pl.Trainer, module: pl.LightningModule, *args: Any) -> None:
        lr = self.config.lr * 0.5 * (1 + math.cos(math.pi * self.fraction(trainer)))
        for optimiser in trainer.optimizers:
            for group in optimiser.param_groups:
                group["lr"] = lr
        module.log("lr", lr, on_step=True, on_epoch=False)


class PeriodicValidation(pl.Callback):
    """Every ``every`` steps, and once more when training ends between two of them, log the
    metrics ``evaluate()`` returns as ``val_<name>``, with the training wall time so far as
    ``val_seconds`` (for example a graph model's sample MMD).

    With ``keep_best=True`` it also keeps a copy of the EMA weights with the lowest score
    (``best``: score, step and weights), saved in checkpoints so a resumed run goes on comparing
    against it. ``score(metrics)`` gives a value to minimise, anything ordered (a tuple ranks
    lexicographically); the default is the sum of the metrics. ``stop(metrics)`` returning true
    ends training (on every process of a distributed run).
    """

    def __init__(
        self,
        every: int,
        evaluate: Callable[[], dict[str, float]],
        keep_best: bool = False,
        score: Callable[[dict[str, float]], Any] = lambda metrics: sum(metrics.values()),
        stop: Callable[[dict[str, float]], bool] | None = None,
    ) -> None:
        self.every, self.evaluate, self.keep_best, self.score, self.stop = every, evaluate, keep_best, score, stop
        self.best: dict[str, Any] | None = None
        self.start = time.perf_counter()

    def on_train_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self.start = time.perf_counter()

    def on_train_batch_end(self, trainer: pl.Trainer, module: pl.LightningModule, *args: Any) -> None:
        if trainer.global_step % self.every:
            return
        stop = trainer.is_global_zero and self._check(trainer, module)
        if self.stop is not None:  # every process must take part, or a distributed run hangs
            trainer.should_stop = trainer.should_stop or trainer.strategy.reduce_boolean_decision(stop, all=False)

    def on_train_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        # A time budget (or a step budget off the interval) ends between checks; the weights of
        # that last stretch, trained at the lowest learning rate, are candidates too.
        if trainer.global_step % self.every and trainer.is_global_zero:
            self._check(trainer, module)

    def _check(self, trainer: pl.Trainer, module: pl.LightningModule) -> bool:
        """Evaluate, log, keep the best weights; whether to stop."""
        seconds = time.perf_counter() - self.start
        metrics = {name: float(value) for name, value in self.evaluate().items()}
        logged = {"val_seconds": seconds, **{f"val_{k}": v for k, v in metrics.items()}}
        for logger in trainer.loggers:  # at the step whose weights were checked, as selected_step counts
            logger.log_metrics(logged, step=trainer.global_step)
        score = self.score(metrics)
        if self.keep_best and (self.best is None or score < self.best["score"]):
            assert isinstance(module, EnergyModule)
            weights = {k: v.detach().clone().cpu() for k, v in module.ema.state_dict().items()}
            self.best = {"score": score, "step": trainer.global_step, "weights": weights}
        return self.stop is not None and self.stop(metrics)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best = state_dict.get("best")
