"""The ``edgraph`` command: ``train``, ``sample``, ``evaluate`` and ``datasets``::

    edgraph train --dataset ego_small --out RUN_DIR [--max-minutes M] [--device cpu|cuda] [--resume]
    edgraph sample --checkpoint RUN_DIR --num 1024 --out samples.json [--seed S] [--sampler NAME --steps K]
                   [--init data]
    edgraph evaluate --samples samples.json --dataset ego_small --split test [--protocol gdss]

``edgraph train --model latent`` trains a :class:`~edgraph.models.latent.LatentGraphEBM` (an
autoencoder with an energy-based latent prior) instead of a :class:`~edgraph.GraphEBM`.
Molecule datasets (``qm9``, ``nci_small``) train a :class:`~edgraph.models.molecule.MoleculeEBM`
(with ``--model latent``, a :class:`~edgraph.models.latent_molecule.LatentMoleculeEBM`); their
samples are ``{"smiles": [...], "smiles_corrected": [...]}`` and ``evaluate`` reports the
molecule metrics (validity without/with correction, uniqueness, novelty, NSPDK, FCD).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import networkx as nx
import torch
import yaml

from edgraph.datasets import DATASETS, MOLECULE_DATASETS, dataset_info, describe, load_graphs
from edgraph.energies.terms import TERMS, EnergyTerm, term_from_spec
from edgraph.graphs import graph_labels, read_graphs, read_graphs_json, write_graphs_json
from edgraph.io import LOCK_FILE, atomic_write, check_mapping, read_json, read_json_mapping
from edgraph.models import INITS, EnergyModel, GraphEBM, LatentGraphEBM, checkpoint_format
from edgraph.models.base import RUN_ARTEFACTS, is_main_process
from edgraph.models.graph import GraphConfig, saved_graph_config
from edgraph.models.latent import TRAININGS, LatentConfig
from edgraph.samplers import CONTINUOUS_SAMPLERS, DISCRETE_SAMPLERS

#: Arguments of ``edgraph train`` that are not model or training options.
RUN_ARGUMENTS = {"command", "run", "out", "config", "resume", "dataset", "graphs", "root", "model"}
#: Checkpoint formats of the molecule models (their classes import RDKit, so they load lazily).
MOLECULE_FORMATS = ("edgraph.MoleculeEBM", "edgraph.LatentMoleculeEBM")
#: The graph models ``edgraph train --model`` builds.
GRAPH_MODELS: dict[str, type[GraphEBM] | type[LatentGraphEBM]] = {"graph": GraphEBM, "latent": LatentGraphEBM}
#: What `--flips none` and `--rewire none` parse to: the option switched off.
NONE = "none"


def option_keys(molecules: bool, model: str = "graph") -> tuple[set[str], set[str]]:
    """The model options (without the size, which the dataset fixes) and the training options."""
    from edgraph.training import TrainConfig

    if molecules:
        from edgraph.models.latent_molecule import LatentMoleculeConfig
        from edgraph.models.molecule import MoleculeConfig

        molecule_config = LatentMoleculeConfig if model == "latent" else MoleculeConfig
        model_keys = {f.name for f in fields(molecule_config)} - {"max_atoms"}
    else:
        config = LatentConfig if model == "latent" else GraphConfig
        model_keys = {f.name for f in fields(config)} - {"max_nodes"}
    return model_keys, {f.name for f in fields(TrainConfig)}


class _ConfigLoader(yaml.SafeLoader):
    """YAML that reads ``1e-3`` as a number, as YAML 1.2 and JSON do (YAML 1.1 reads it as a string)."""


_ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def read_config(path: str | None) -> dict[str, Any]:
    """Options from a YAML or JSON file of flat ``option: value`` pairs."""
    if path is None:
        return {}
    try:
        values = yaml.load(Path(path).read_text(), Loader=_ConfigLoader) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"cannot read config file {path}: {err}") from None
    return check_mapping(values, f"config file {path}")


def resolve_train_config(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any], str, str]:
    """Model options, training options, the data (a dataset name, or ``file:PATH`` for
    ``--graphs``) and the model kind (``--model``): defaults < the saved run config (on
    ``--resume``) < the config file < flags. Unknown options are refused."""
    saved_file = Path(args.out) / "config.json"
    saved = read_json_mapping(saved_file) if args.resume and saved_file.is_file() else {}
    if saved.get("model", "graph") == "graph":
        saved = saved_graph_config(saved) if saved else {}
    for size in ("max_nodes", "max_atoms"):  # fixed by the dataset, recorded for the reader
        saved.pop(size, None)
    given = {
        **read_config(args.config),
        **{k: v for k, v in vars(args).items() if v is not None and k not in RUN_ARGUMENTS},
    }
    values = {**saved, **given}
    if args.dataset and args.graphs:
        raise ValueError("train on --dataset NAME or on --graphs PATH, not both")
    graphs = args.graphs or (None if args.dataset else values.get("graphs"))
    dataset = f"file:{graphs}" if graphs else (args.dataset or values.get("dataset"))
    kind = args.model or values.get("model") or "graph"
    for key in ("dataset", "graphs", "model"):
        values.pop(key, None)
    if kind not in GRAPH_MODELS:
        raise ValueError(f"unknown model {kind!r}; choose from {sorted(GRAPH_MODELS)}")
    if dataset is None:
        raise ValueError("say what to train on: --dataset NAME, --graphs FILE.json|DIR, or 'dataset:' in --config")
    molecules = dataset in MOLECULE_DATASETS
    if not molecules and not graphs:
        dataset_info(dataset)
    model_keys, train_keys = option_keys(molecules, kind)
    unknown = set(values) - model_keys - train_keys
    if unknown:
        what = "a molecule" if molecules else f"a {kind}"
        raise ValueError(
            f"unknown options {sorted(unknown)}: not options of {what} model or of training; "
            f"valid: {sorted(model_keys | train_keys)}"
        )
    if values.get("max_minutes") is not None and "max_steps" not in {**saved, **given}:
        values["max_steps"] = None  # a time budget alone: train until the time is up
    for key in ("flips", "rewire"):
        if values.get(key) == NONE:
            values[key] = None
    model = {k: v for k, v in values.items() if k in model_keys}
    train = {k: v for k, v in values.items() if k in train_keys}
    return model, train, dataset, kind


def _train(args: argparse.Namespace) -> None:
    model_options, train_options, dataset, kind = resolve_train_config(args)
    run_dir = Path(args.out)
    model: EnergyModel
    labels: list[int] | None = None
    if dataset in MOLECULE_DATASETS and kind == "latent":
        from edgraph.datasets import load_molecules
        from edgraph.models import LatentMoleculeEBM

        model = LatentMoleculeEBM(**model_options)
        data: Any = load_molecules(dataset, _molecule_split(dataset, "train"), args.root)
        run_info: dict[str, Any] = {"dataset": dataset, "model": kind}
    elif dataset in MOLECULE_DATASETS:
        from edgraph.datasets import load_molecule_tensors
        from edgraph.models.molecule import MoleculeEBM

        model = MoleculeEBM(**model_options)
        split = _molecule_split(dataset, "train")
        data = load_molecule_tensors(dataset, split, args.root, atom_types=model.config.atom_types)
        run_info = {"dataset": dataset}
    elif dataset.startswith("file:"):
        path = Path(dataset.removeprefix("file:")).resolve()
        if path.is_dir() and run_dir.exists() and (run_dir.samefile(path) or run_dir.resolve() in path.parents):
            raise ValueError(f"--graphs {path} is in the run folder --out {run_dir}: its files would be read as graphs")
        data = read_graphs(path)
        labels = graph_labels(data)
        if labels is not None and kind == "latent":
            raise ValueError(
                f"{path} holds labelled graphs; --model latent is not class-conditional (use --model graph)"
            )
        if labels is not None:  # labelled graphs train a class-conditional model
            model_options.setdefault("num_classes", max(labels) + 1)
        model = GRAPH_MODELS[kind](max(2, *(g.number_of_nodes() for g in data)), **model_options)
        run_info = {"graphs": str(path), "model": kind}
    else:
        model = GRAPH_MODELS[kind](dataset_info(dataset).max_nodes, **model_options)
        data = load_graphs(dataset, "train", args.root)
        run_info = {"dataset": dataset, "model": kind}
    start = time.perf_counter()
    labelled = {} if labels is None else {"labels": labels}
    try:
        model.fit(data, run_dir=run_dir, resume=args.resume, run_info=run_info, **labelled, **train_options)
    except ValueError as err:
        if "graphs" in run_info and str(err).startswith("graph "):  # a graph of the user's file: name the file
            raise ValueError(f"{run_info['graphs']}: {err}") from None
        raise
    if not is_main_process():
        return
    if "graphs" in run_info:
        shown = data
    else:
        shown = [] if dataset in MOLECULE_DATASETS else load_graphs(dataset, "test", args.root)
    _write_figures(model, run_dir, shown)
    seconds = time.perf_counter() - start
    chosen = f"; decoder temperature {model.decoder_temperature}" if isinstance(model, LatentGraphEBM) else ""
    if model.selected_step is not None:
        chosen += f"; samples with the weights of step {model.selected_step}, the best validation check"
    print(f"trained {model.steps_trained} steps in {seconds:.0f} s{chosen}; model: {run_dir / 'model.pt'}")


def _molecule_split(dataset: str, split: str) -> str:
    return "all" if dataset == "nci_small" else split  # nci_small has no train/test split


def _write_figures(model: EnergyModel, run_dir: Path, shown: Any) -> None:
    """The loss curve, and samples above ``shown`` graphs (test graphs, or the user's own)."""
    from edgraph.plotting import plot_graph_grid, plot_loss
    from edgraph.training import metrics_files

    logs = metrics_files(run_dir)
    if logs:
        plot_loss(logs, run_dir / "loss.png")
    if isinstance(model, (GraphEBM, LatentGraphEBM)):
        plot_graph_grid({"sampled": model.sample(8, seed=0), "data": list(shown)[:8]}, run_dir / "samples.png")
    else:
        from edgraph.chem import draw_molecules

        draw_molecules(model.sample(16, seed=0), run_dir / "samples.png")


def output_path(out: str | None, default: Path, inputs: Sequence[str | Path], overwrite: bool) -> Path:
    """The file a command writes, checked before any work: never one of its ``inputs`` nor a run
    directory's artefact, not a directory, in a writable folder, and, for an explicit ``--out``
    that exists, replaced only with ``--overwrite``."""
    path = Path(out) if out else default
    resolved = path.resolve()
    if any(resolved == Path(given).resolve() for given in inputs):
        raise ValueError(f"--out {path} is an input of this command; choose another output file")
    if _run_artefact(resolved):
        raise ValueError(
            f"--out {path} is part of a run directory (its model, config, checkpoints or logs); "
            "choose another output file"
        )
    if path.is_dir():
        raise ValueError(f"--out {path} is a directory; give a file name")
    if out and path.exists() and not overwrite:
        raise ValueError(f"--out {path} exists; pass --overwrite to replace it")
    folder = next(p for p in (resolved.parent, *resolved.parent.parents) if p.exists())
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise ValueError(f"cannot write --out {path}: {folder} is not writable ({err.strerror})") from None
    return path


def _run_artefact(path: Path) -> bool:
    """Whether ``path`` is (or lies inside) an artefact of a run directory: a folder that holds
    ``.lock``, or ``config.json`` beside ``checkpoints/`` or ``logs/``."""
    if path.name == LOCK_FILE:
        return True
    for parent, child in zip(path.parents, (path, *path.parents)):
        is_run = (parent / LOCK_FILE).exists() or (
            (parent / "config.json").is_file() and ((parent / "checkpoints").is_dir() or (parent / "logs").is_dir())
        )
        if is_run and child.name in (*RUN_ARTEFACTS, "loss.png", "samples.png"):
            return True
    return False


def _sample(args: argparse.Namespace) -> None:
    out = output_path(args.out, Path(args.out), [args.checkpoint], args.overwrite)
    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but no CUDA GPU is available")
    found = checkpoint_format(args.checkpoint)
    molecules = found in MOLECULE_FORMATS
    if molecules:
        from edgraph.models import LatentMoleculeEBM, MoleculeEBM

        model: EnergyModel = (MoleculeEBM if found == MoleculeEBM.format else LatentMoleculeEBM).load(args.checkpoint)
    else:
        model = (
            LatentGraphEBM.load(args.checkpoint) if found == LatentGraphEBM.format else GraphEBM.load(args.checkpoint)
        )
    if molecules and isinstance(model, MoleculeEBM):
        from edgraph.models.property import property_term_from_spec

        terms: list[EnergyTerm] = [property_term_from_spec(model, spec, args.progress) for spec in args.term]
    elif molecules and args.term:
        raise ValueError(f"--term steers a MoleculeEBM's chains; a {type(model).__name__} samples latent vectors")
    else:
        terms = [term_from_spec(spec) for spec in args.term]
    if args.decoder_temperature is not None:
        if not isinstance(model, LatentGraphEBM):
            raise ValueError(f"--decoder-temperature is for latent graph models, not a {type(model).__name__}")
        model.decoder_temperature = args.decoder_temperature
    start = time.perf_counter()
    tensors = model.sample_tensors(
        args.num,
        seed=args.seed,
        sampler=args.sampler,
        steps=args.steps,
        step_size=args.step_size,
        init=args.init,
        device=device,
        progress=args.progress,
        terms=terms,
        label=args.label,
        guidance=args.guidance,
    )
    provenance = {
        "sampler": args.sampler or model.config.sampler,
        "steps": args.steps if args.steps is not None else model.config.sampler_steps,
        "seed": args.seed,
        "init": args.init,
        **({"terms": args.term} if terms else {}),
        **({"label": args.label} if args.label is not None else {}),
        **({"guidance": args.guidance} if args.guidance else {}),
        **({"decoder_temperature": model.decoder_temperature} if isinstance(model, LatentGraphEBM) else {}),
        "seconds": round(time.perf_counter() - start, 3),
    }
    if not molecules:
        graphs = model.decode(tensors)
        write_graphs_json(graphs, out, **provenance)
        print(f"sampled {len(graphs)} graphs in {provenance['seconds']:.1f} s -> {out}")
        return
    assert isinstance(model, (MoleculeEBM, LatentMoleculeEBM))
    smiles = model.decode(tensors)
    corrected = model.decode(tensors, correct=True)
    atomic_write(out, json.dumps({"smiles": smiles, "smiles_corrected": corrected, **provenance}, indent=1))
    valid = sum(s is not None for s in smiles)
    print(
        f"sampled {len(smiles)} molecules in {provenance['seconds']:.1f} s ({valid} valid without correction) -> {out}"
    )


def _evaluate_molecules(args: argparse.Namespace) -> None:
    from edgraph.datasets import load_molecules
    from edgraph.metrics import molecule_metrics

    out = output_path(args.out, Path(args.samples).with_suffix(".metrics.json"), [args.samples], args.overwrite)
    samples = read_json(args.samples)
    try:
        generated, corrected = samples["smiles"], samples.get("smiles_corrected")
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{args.samples} is not a molecule samples file with a 'smiles' list: {err}") from None
    for name, value in (("smiles", generated), ("smiles_corrected", corrected)):
        if value is not None and (
            not isinstance(value, list) or not all(s is None or isinstance(s, str) for s in value)
        ):
            raise ValueError(
                f"{args.samples}: '{name}' must be a list of SMILES strings (or null), got {type(value).__name__}"
            )
    try:
        import fcd  # noqa: F401  (optional: FCD is reported when it is installed)

        with_fcd = args.fcd
    except ImportError:
        with_fcd = False
    train = load_molecules(args.dataset, _molecule_split(args.dataset, "train"), args.root)
    reference = load_molecules(args.dataset, _molecule_split(args.dataset, args.split), args.root)
    # load_molecules returns canonical SMILES: a set of them needs no second canonicalisation
    scores = molecule_metrics(generated, frozenset(train), reference, corrected=corrected, fcd=with_fcd)
    print(
        f"molecule metrics: {len(generated)} generated vs {len(reference)} {args.dataset} "
        f"{_molecule_split(args.dataset, args.split)} molecules" + ("" if with_fcd else " (no FCD)")
    )
    for name, value in scores.items():
        print(f"{name:<20}{value:>12.5f}" if isinstance(value, float) else f"{name:<20}{value:>12}")
    report = {
        "samples": str(args.samples),
        "dataset": args.dataset,
        "split": _molecule_split(args.dataset, args.split),
        "metrics": scores,
    }
    atomic_write(out, json.dumps(report, indent=2))
    print(f"-> {out}")


def _print_pgd(generated: list[nx.Graph], reference: list[nx.Graph], name: str) -> dict[str, float | str]:
    """PolyGraph Discrepancy of the first ``len(reference)`` generated graphs, printed; skipped, with
    a note, when there are fewer generated graphs than that."""
    from edgraph.metrics.polygraph_metrics import polygraph_discrepancy

    if len(generated) < len(reference):
        print(f"PGD skipped: it needs as many generated graphs as reference graphs ({len(reference)} {name})")
        return {}
    pgd: dict[str, float | str] = {
        "pgd_num": len(reference),
        **polygraph_discrepancy(generated[: len(reference)], reference),
    }
    subscores = ", ".join(f"{k[4:]} {v:.3f}" for k, v in pgd.items() if isinstance(v, float) and k != "pgd")
    print(
        f"PGD {pgd['pgd']:.3f} (descriptor {pgd['pgd_descriptor']}; {len(reference)} generated vs "
        f"{len(reference)} {name} graphs, logistic-regression classifier); each descriptor: {subscores}"
    )
    return pgd


def _evaluate(args: argparse.Namespace) -> None:
    from edgraph.metrics import graph_mmd, graph_novelty, graph_uniqueness, reference_floor
    from edgraph.metrics.vun import VALIDITY, graph_vun

    if (args.dataset is None) == (args.reference is None):
        raise ValueError("evaluate against --dataset NAME or against --reference FILE, one of the two")
    if args.dataset in MOLECULE_DATASETS:
        return _evaluate_molecules(args)
    inputs = [p for p in (args.samples, args.reference, args.train) if p]
    out = output_path(args.out, Path(args.samples).with_suffix(".metrics.json"), inputs, args.overwrite)
    if args.reference:
        reference, name = read_graphs(args.reference), f"{args.reference}"
        training = read_graphs(args.train) if args.train else None
        largest = max(g.number_of_nodes() for g in [*reference, *(training or [])])
        limit = f"--reference {args.reference}" + (f" and --train {args.train}" if args.train else "")
    else:
        if args.train:
            raise ValueError("--train goes with --reference; a --dataset brings its own training split")
        reference, name = load_graphs(args.dataset, args.split, args.root), f"{args.dataset} {args.split}"
        training = load_graphs(args.dataset, "train", args.root)
        largest, limit = dataset_info(args.dataset).max_nodes, f"the {args.dataset} dataset"
    try:
        generated = read_graphs_json(args.samples, max_nodes=largest if args.max_nodes is None else args.max_nodes)
    except ValueError as err:
        if args.max_nodes is not None or "more than the limit" not in str(err):
            raise
        raise ValueError(f"{err}, the largest graph of {limit} (--max-nodes raises it)") from None
    stats = tuple(s for s in args.stats.split(",") if s)
    result = graph_mmd(generated, reference, stats=stats, protocol=args.protocol)
    diversity: dict[str, float] = {"uniqueness": graph_uniqueness(generated)}
    if training is not None:
        diversity["novelty"] = graph_novelty(generated, training)
    floor = (
        reference_floor(
            training, reference, len(generated), seeds=range(args.floor_seeds), protocol=args.protocol, stats=stats
        )
        if args.floor_seeds > 0 and training is not None
        else None
    )
    print(f"MMD^2 ({args.protocol} protocol): {len(generated)} generated vs {len(reference)} {name} graphs")
    print(f"{'statistic':<12}{'generated':>12}" + (f"{'real floor':>22}" if floor else ""))
    for stat, value in result.items():
        line = f"{stat:<12}{value:>12.5f}"
        if floor:
            line += f"{floor[stat]['mean']:>14.5f} ± {floor[stat]['std']:.5f}"
        print(line)
    pgd: dict[str, float | str] = {}
    family = dataset_info(args.dataset).family if args.dataset else None
    if family in VALIDITY:
        assert training is not None and family is not None
        vun = graph_vun(generated, training, family)
        diversity.update(vun)
        print(
            f"valid {vun['valid']:.3f}, unique {vun['unique']:.3f}, novel {vun['novel']:.3f}, "
            f"V.U.N. {vun['vun']:.3f} of {len(generated)} generated graphs "
            f"({family} validity test; graphs as generated, not cleaned)"
        )
        if args.pgd:
            pgd = _print_pgd(generated, reference, name)
    novel = f", novel (isomorphic to no training graph) {diversity['novelty']:.3f}" if "novelty" in diversity else ""
    print(
        f"unique {diversity['uniqueness']:.3f}{novel}"
        + ("" if training is not None else " (no --train: no floor, no novelty)")
    )
    report = {
        "samples": str(args.samples),
        "dataset": args.dataset,
        "reference": args.reference,
        "train": args.train,
        "split": args.split if args.dataset else None,
        "protocol": args.protocol,
        "num_generated": len(generated),
        "num_reference": len(reference),
        "mmd": result,
        "floor": floor,
        **diversity,
        **pgd,
    }
    atomic_write(out, json.dumps(report, indent=2))
    print(f"-> {out}")


def _datasets(args: argparse.Namespace) -> None:
    if args.dataset:
        summary = describe(load_graphs(args.dataset, args.split, args.root))
        print(json.dumps({"dataset": args.dataset, "split": args.split, **summary}))
        return
    # listing only: building every dataset would also build the 16,384-graph "-L" sets
    for name, info in sorted(DATASETS.items()):
        print(f"{name:<22}{info.description} (test split: the first {info.num_test}; up to {info.max_nodes} nodes)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``edgraph`` command."""
    parser = argparse.ArgumentParser(
        prog="edgraph", description="Energy-based graph generation trained by Energy Discrepancy."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    root_help = "data folder (default: $EDGRAPH_DATA, else <repo>/datasets)"

    train = commands.add_parser("train", help="train a graph EBM with Energy Discrepancy")
    train.add_argument("--dataset", choices=sorted(DATASETS) + sorted(MOLECULE_DATASETS))
    train.add_argument(
        "--graphs",
        help="your own graphs: a JSON interchange file (graphs with a 'label' train a class-conditional "
        "model), or a folder of edge-list files",
    )
    train.add_argument(
        "--model",
        choices=sorted(GRAPH_MODELS),
        help="graph: a GraphEBM (default); latent: an autoencoder with an energy-based latent prior",
    )
    train.add_argument("--latent-dim", dest="latent_dim", type=int, help="--model latent: latent dimension")
    train.add_argument("--kl-weight", dest="kl_weight", type=float, help="--model latent: weight of the KL term")
    train.add_argument(
        "--prior",
        choices=["ed", "mcmc", "gaussian"],
        help="--model latent: prior trained by ED (default), short-run MCMC, or none (the Gaussian VAE)",
    )
    train.add_argument(
        "--prior-noise", dest="prior_noise", type=float, help="--model latent: variance of ED's Gaussian noise"
    )
    train.add_argument(
        "--latent-training",
        dest="training",
        choices=TRAININGS,
        help="--model latent: vae (an encoder; default) or joint (posterior Langevin, no encoder)",
    )
    train.add_argument("--out", required=True, help="run directory")
    train.add_argument("--config", help="YAML/JSON file of options (flags override it)")
    train.add_argument("--resume", action="store_true", help="continue from RUN_DIR/checkpoints/last.ckpt")
    train.add_argument(
        "--max-minutes",
        dest="max_minutes",
        type=_positive_float,
        help="wall-clock budget of the whole run, resumes included (fractions allowed); alone, "
        "training runs until the time is up",
    )
    train.add_argument(
        "--max-steps",
        dest="max_steps",
        type=_positive_int,
        help="step budget of the whole run (default: the model's; 1400 for --model graph, 20000 for --model latent)",
    )
    train.add_argument("--device", choices=["auto", "cpu", "cuda"])
    train.add_argument("--devices", type=int, help="processes/GPUs per machine for DDP (default 1)")
    train.add_argument("--num-nodes", dest="num_nodes", type=int, help="machines for DDP (default 1)")
    train.add_argument("--strategy", help="Lightning strategy, e.g. ddp (default auto)")
    train.add_argument("--precision", help="training precision: 32-true (default), bf16-mixed, or 16-mixed on a GPU")
    train.add_argument("--seed", type=_bounded_int(0, 2**32, "a seed in [0, 2**32)"))
    train.add_argument("--batch-size", dest="batch_size", type=int)
    train.add_argument("--lr", type=float)
    train.add_argument(
        "--lr-schedule",
        dest="lr_schedule",
        choices=["cosine", "constant"],
        help="cosine decay to 0 over the budget (default) or a constant rate",
    )
    train.add_argument("--ema-decay", dest="ema_decay", type=float)
    train.add_argument("--eps", type=float, help="edge-flip probability of the ED perturbation")
    train.add_argument(
        "--flips",
        type=_positive_or_none,
        help="the most flipped pairs per graph in the ED perturbation (caps --eps; default 6, 'none': no cap)",
    )
    train.add_argument(
        "--rewire",
        type=_positive_or_none,
        help="add an ED term whose negatives attempt REWIRE degree-keeping swaps per edge (default none)",
    )
    train.add_argument(
        "--label-dropout",
        dest="label_dropout",
        type=float,
        help="labelled graphs: share of labels dropped in training, for guidance (default 0.1)",
    )
    train.add_argument("--num-negatives", dest="num_negatives", type=int)
    train.add_argument(
        "--eps-atoms", dest="eps_atoms", type=float, help="atom-type resampling probability (molecule datasets)"
    )
    train.add_argument(
        "--eps-bonds", dest="eps_bonds", type=float, help="bond-type resampling probability (molecule datasets)"
    )
    train.add_argument("--w", type=float, help="ED stabiliser")
    train.add_argument("--objective", choices=["ed", "pcd"], help="ED (default) or the PCD baseline")
    train.add_argument("--cd-sampler", dest="cd_sampler", choices=DISCRETE_SAMPLERS)
    train.add_argument("--cd-steps", dest="cd_steps", type=int, help="sampler steps per PCD update")
    train.add_argument("--hidden", type=int)
    train.add_argument("--layers", type=int)
    train.add_argument(
        "--sampler",
        choices=DISCRETE_SAMPLERS + CONTINUOUS_SAMPLERS,
        help="default sampler of the model (langevin and mala: --model latent)",
    )
    train.add_argument("--sampler-steps", dest="sampler_steps", type=int, help="default sampler steps")
    train.add_argument("--checkpoint-every", dest="checkpoint_every", type=int)
    train.add_argument(
        "--val-every",
        dest="val_every",
        type=int,
        help="steps between validation checks (one more runs at the last step)",
    )
    train.add_argument(
        "--val-fraction",
        dest="val_fraction",
        type=_share_at_most_half,
        help="hold out this share of the training graphs; sample with the weights that score "
        "best on them (default: 0 for --model graph, train on all and sample with the last weights; "
        "0.2 for --model latent)",
    )
    train.add_argument(
        "--val-patience",
        dest="val_patience",
        type=int,
        help="with --val-fraction: stop after this many validation checks in a row whose samples "
        "are less novel than the held-out graphs allow (0: never)",
    )
    train.add_argument("--no-progress", dest="progress", action="store_const", const=False)
    train.add_argument(
        "--progress-every",
        dest="progress_every",
        type=int,
        help="steps between progress lines when stderr is not a terminal (default 100)",
    )
    train.add_argument("--root", help=root_help)
    train.set_defaults(run=_train)

    sample = commands.add_parser("sample", help="generate graphs from a trained model")
    sample.add_argument("--checkpoint", required=True, help="run directory, model.pt or .ckpt")
    sample.add_argument("--num", type=_positive_int, default=1024, help="number of samples (default 1024)")
    sample.add_argument("--out", required=True, help="output JSON (interchange format)")
    sample.add_argument("--seed", type=_seed, default=0)
    sample.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    sample.add_argument(
        "--sampler", choices=DISCRETE_SAMPLERS + CONTINUOUS_SAMPLERS, help="langevin and mala: latent models"
    )
    sample.add_argument("--steps", type=_non_negative_int)
    sample.add_argument("--step-size", dest="step_size", type=float)
    sample.add_argument(
        "--init",
        choices=INITS,
        default="noise",
        help="chain starts: noise from the training statistics, or training examples",
    )
    sample.add_argument(
        "--term",
        action="append",
        default=[],
        metavar="NAME=WEIGHT[:TARGET]",
        help=f"add an energy term to the model's energy (repeatable); NAME is one of {', '.join(TERMS)} for "
        "graph models, qed or logp for molecule models (a regressor is fit on the model's training molecules), "
        "e.g. --term connected=5, --term edges=2:30 or --term qed=20:0.6",
    )
    sample.add_argument(
        "--label",
        type=_non_negative_int,
        help="class to sample, for a model trained on labelled graphs (default: the unlabelled energy)",
    )
    sample.add_argument(
        "--guidance",
        type=float,
        default=0.0,
        help="classifier-free guidance weight w with --label: samples (1+w)E(x, label) - wE(x, no label) (default 0)",
    )
    sample.add_argument(
        "--decoder-temperature",
        dest="decoder_temperature",
        type=_positive_float,
        help="latent graph models: draw each pair an edge with probability sigmoid(logit / T) "
        "(default: the T that training chose on the held-out graphs; 1: the decoder as trained)",
    )
    sample.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    sample.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    sample.set_defaults(run=_sample)

    evaluate = commands.add_parser("evaluate", help="MMD of generated graphs against a dataset split")
    evaluate.add_argument("--samples", required=True, help="graphs in the JSON interchange format")
    evaluate.add_argument("--dataset", choices=sorted(DATASETS) + sorted(MOLECULE_DATASETS))
    evaluate.add_argument("--reference", help="instead of --dataset: reference graphs (JSON file or edge-list folder)")
    evaluate.add_argument("--train", help="with --reference: training graphs, for the floor and novelty")
    evaluate.add_argument("--split", default="test", choices=["train", "test", "all"])
    evaluate.add_argument("--protocol", default="gdss", choices=["gdss", "gran"])
    evaluate.add_argument("--stats", default="degree,clustering,orbit,spectral")
    evaluate.add_argument(
        "--floor-seeds",
        dest="floor_seeds",
        type=int,
        default=5,
        help="real-vs-real floor draws at the same sample size (0: skip)",
    )
    evaluate.add_argument(
        "--no-pgd",
        dest="pgd",
        action="store_false",
        help="planar, sbm, lobster: skip the PolyGraph Discrepancy (PGD and the sbm validity test need the "
        "benchmarks extra)",
    )
    evaluate.add_argument(
        "--no-fcd",
        dest="fcd",
        action="store_false",
        help="molecules: skip FCD (computed by default when the fcd package is installed)",
    )
    evaluate.add_argument("--out", help="metrics JSON (default: next to the samples)")
    evaluate.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    evaluate.add_argument(
        "--max-nodes",
        dest="max_nodes",
        type=_positive_int,
        help="largest generated graph read (default: the dataset's largest, padded size; with --reference, "
        "the largest graph of --reference and --train)",
    )
    evaluate.add_argument("--root", help=root_help)
    evaluate.set_defaults(run=_evaluate)

    data = commands.add_parser("datasets", help="summarise the graph datasets")
    data.add_argument("--dataset", choices=sorted(DATASETS), help="describe one split (default: list the datasets)")
    data.add_argument("--split", default="all", choices=["train", "test", "all"])
    data.add_argument("--root", help=root_help)
    data.set_defaults(run=_datasets)
    return parser


def _bounded_int(lower: int, upper: int | None, what: str) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < lower or (upper is not None and value >= upper):
            raise argparse.ArgumentTypeError(f"{value} is not {what}")
        return value

    return parse


def _bounded_float(accept: Callable[[float], bool], what: str) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"{value} is not {what}")
        return value

    return parse


def _positive_or_none(text: str) -> float | str:
    """``--flips``, ``--rewire``: a positive number, or ``none`` to switch the option off (kept as
    the string until the options are merged, since a flag's ``None`` means "not given")."""
    if text.lower() == "none":
        return NONE
    try:
        return _positive_float(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a positive number nor 'none'") from None


_positive_float = _bounded_float(lambda value: 0 < value < float("inf"), "a positive number")
_share_at_most_half = _bounded_float(lambda value: 0 <= value <= 0.5, "a share in [0, 0.5]")
_positive_int = _bounded_int(1, None, "a positive integer")
_non_negative_int = _bounded_int(0, None, "a non-negative integer")
_seed = _bounded_int(0, 2**63, "a seed in [0, 2**63)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``edgraph`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except BrokenPipeError:  # e.g. `edgraph datasets | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as err:  # a full disk, a read-only folder, a missing file: one line naming the path
        where = f"{err.filename}: " if err.filename else ""
        print(f"edgraph: error: {where}{err.strerror or err}", file=sys.stderr)
        return 2
    except (ValueError, RuntimeError, FloatingPointError, ImportError) as err:
        print(f"edgraph: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
