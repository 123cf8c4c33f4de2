"""What a careless user, a killed process or a hostile file cannot do: eat the machine, overwrite a
model or a run, leave a half-written file, or get a traceback instead of an error naming the problem."""

import json
import os
import pickle
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import torch

from edgraph import GraphEBM
from edgraph.cli import main
from edgraph.io import atomic_write

TINY = ["--hidden", "8", "--layers", "1", "--num-negatives", "4", "--batch-size", "16", "--sampler-steps", "5"]
GRAPHS = [nx.cycle_graph(4), nx.path_graph(5), nx.star_graph(4), nx.complete_graph(3)] * 4


def cli(*args: str, timeout: float = 300, memory: int | None = None) -> subprocess.CompletedProcess:
    """Run ``edgraph`` in a new process (optionally under an address-space cap, in bytes)."""

    def cap() -> None:
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return subprocess.run(
        [sys.executable, "-m", "edgraph.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=cap,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A finished tiny ego_small run."""
    run_dir = tmp_path_factory.mktemp("robust") / "run"
    assert (
        main(
            [
                "train",
                "--dataset",
                "ego_small",
                "--out",
                str(run_dir),
                "--max-steps",
                "4",
                "--no-progress",
                "--checkpoint-every",
                "2",
                *TINY,
            ]
        )
        == 0
    )
    return run_dir


def test_a_tiny_samples_file_cannot_take_all_memory(tmp_path):
    bomb = tmp_path / "bomb.json"
    bomb.write_text('{"graphs":[{"num_nodes":1000000000000000000000000000000,"edges":[]}]}')
    start = time.perf_counter()
    result = cli("evaluate", "--samples", str(bomb), "--dataset", "ego_small", memory=6 << 30, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "graph 0: num_nodes 1000000000000000000000000000000 is more than the limit of 18 nodes" in result.stderr
    assert time.perf_counter() - start < 60


def test_train_never_overwrites_any_run_artefact(tmp_path):
    for artefact in ("model.pt", "config.json", "logs"):
        out = tmp_path / artefact.replace(".", "_")
        out.mkdir()
        (out / artefact).mkdir() if artefact == "logs" else (out / artefact).write_bytes(b"precious")
        before = snapshot(out)
        assert main(["train", "--dataset", "ego_small", "--out", str(out), "--max-steps", "1", *TINY]) == 2
        assert snapshot(out) == before


def test_two_trainings_on_one_run_directory(tmp_path):
    run_dir = tmp_path / "run"
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edgraph.cli",
            "train",
            "--dataset",
            "ego_small",
            "--out",
            str(run_dir),
            "--max-steps",
            "100000",
            "--checkpoint-every",
            "5",
            "--no-progress",
            *TINY,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 120
        while not (run_dir / "checkpoints" / "last.ckpt").exists() and time.time() < deadline:
            time.sleep(0.2)
        second = cli(
            "train", "--dataset", "ego_small", "--out", str(run_dir), "--resume", "--max-steps", "100001", *TINY
        )
        assert second.returncode == 2
        assert f"in use by another edgraph process (PID {first.pid})" in second.stderr
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # the killed holder's lock does not block: the run resumes
    saved = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]
    third = cli(
        "train",
        "--dataset",
        "ego_small",
        "--out",
        str(run_dir),
        "--resume",
        "--max-steps",
        str(saved + 2),
        "--no-progress",
        *TINY,
    )
    assert third.returncode == 0, third.stderr[-2000:]
    assert not list((run_dir / "checkpoints").glob("last-v*.ckpt"))


def test_killed_at_random_moments_every_artefact_stays_loadable(tmp_path):
    run_dir, rng = tmp_path / "run", random.Random(0)
    command = [
        sys.executable,
        "-m",
        "edgraph.cli",
        "train",
        "--dataset",
        "ego_small",
        "--out",
        str(run_dir),
        "--checkpoint-every",
        "1",
        "--no-progress",
        *TINY,
    ]
    for attempt in range(4):
        started = time.time()
        process = subprocess.Popen(
            command + ["--max-steps", str(40 * (attempt + 1))] + (["--resume"] if attempt else []),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # the clock starts once this attempt has written config.json, so that a slow import on a
        # loaded machine does not use up the time in which training and saving are interrupted
        config = run_dir / "config.json"
        while process.poll() is None and time.time() < started + 120:
            if config.exists() and config.stat().st_mtime > started - 0.1:
                break
            time.sleep(0.05)
        time.sleep(rng.uniform(0.5, 5.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        if not (run_dir / "checkpoints" / "last.ckpt").exists():
            continue  # killed before the first save: nothing to check, next attempt starts afresh
        assert GraphEBM.load(run_dir / "checkpoints" / "last.ckpt").steps_trained >= 1
        json.loads((run_dir / "config.json").read_text())
        if (run_dir / "model.pt").exists():
            GraphEBM.load(run_dir / "model.pt")
    assert (run_dir / "checkpoints" / "last.ckpt").exists(), "no attempt lived long enough to save"
    saved = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]
    final = cli(*command[3:], "--resume", "--max-steps", str(saved + 3))
    assert final.returncode == 0, final.stderr[-2000:]
    assert not [p for p in run_dir.rglob("*.tmp")], "an orphaned temporary file was left behind"


def test_a_refused_resume_changes_nothing(run, capsys):
    before = snapshot(run)
    assert main(["train", "--out", str(run), "--resume", "--hidden", "32", "--max-steps", "6"]) == 2
    assert "another model" in capsys.readouterr().err
    assert (
        main(["train", "--out", str(run), "--resume", "--lr", "1e6", "--lr-schedule", "constant", "--max-steps", "6"])
        == 2
    )
    err = capsys.readouterr().err
    assert "lr 1000000.0 (the run's: 0.001)" in err and "lr_schedule 'constant' (the run's: 'cosine')" in err
    assert snapshot(run) == before
    assert main(["train", "--out", str(run), "--resume", "--max-steps", "4"]) == 2
    assert "pass a larger --max-steps" in capsys.readouterr().err
    assert snapshot(run) == before


def test_outputs_never_overwrite_inputs_or_runs(run, tmp_path, capsys):
    before = snapshot(run)
    assert main(["sample", "--checkpoint", str(run), "--num", "4", "--out", str(run / "model.pt")]) == 2
    assert "part of a run directory" in capsys.readouterr().err
    assert main(["sample", "--checkpoint", str(run / "model.pt"), "--num", "4", "--out", str(run / "model.pt")]) == 2
    assert "is an input" in capsys.readouterr().err
    assert snapshot(run) == before
    samples = tmp_path / "s.json"
    assert main(["sample", "--checkpoint", str(run), "--num", "4", "--out", str(samples), "--no-progress"]) == 0
    kept = samples.read_bytes()
    assert main(["evaluate", "--samples", str(samples), "--dataset", "ego_small", "--out", str(samples)]) == 2
    assert "is an input" in capsys.readouterr().err
    assert main(["sample", "--checkpoint", str(run), "--num", "4", "--out", str(samples), "--no-progress"]) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert samples.read_bytes() == kept
    assert (
        main(
            [
                "sample",
                "--checkpoint",
                str(run),
                "--num",
                "4",
                "--seed",
                "1",
                "--out",
                str(samples),
                "--overwrite",
                "--no-progress",
            ]
        )
        == 0
    )
    assert samples.read_bytes() != kept
    assert main(["sample", "--checkpoint", str(run), "--num", "4", "--out", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_output_is_checked_before_sampling(run, capsys):
    start = time.perf_counter()
    assert (
        main(
            [
                "sample",
                "--checkpoint",
                str(run),
                "--num",
                "100000",
                "--steps",
                "1000",
                "--out",
                "/proc/edgraph/samples.json",
            ]
        )
        == 2
    )
    assert "cannot write --out /proc/edgraph/samples.json" in capsys.readouterr().err
    assert time.perf_counter() - start < 10  # refused before 100,000 chains ran


@pytest.mark.parametrize(
    "command, message",
    [
        (["train", "--dataset", "ego_small", "--max-steps", "0"], "argument --max-steps: "),
        (["train", "--dataset", "ego_small", "--max-steps", "-5"], "argument --max-steps: "),
        (["train", "--dataset", "ego_small", "--max-minutes", "0"], "argument --max-minutes: "),
        (["train", "--dataset", "ego_small", "--max-minutes", "-1"], "argument --max-minutes: "),
        (["train", "--dataset", "ego_small", "--max-minutes", "nan"], "argument --max-minutes: "),
        (["train", "--dataset", "ego_small", "--max-minutes", "inf"], "argument --max-minutes: "),
        (["train", "--dataset", "ego_small", "--val-fraction", "0.9"], "argument --val-fraction: 0.9 is not a share"),
        (["train", "--dataset", "ego_small", "--seed", str(2**70)], "argument --seed: "),
        (["sample", "--checkpoint", "x", "--out", "y.json", "--num", "0"], "argument --num: "),
        (["sample", "--checkpoint", "x", "--out", "y.json", "--num", "-5"], "argument --num: "),
        (["sample", "--checkpoint", "x", "--out", "y.json", "--seed", str(2**70)], "argument --seed: "),
    ],
)
def test_budgets_and_counts_that_cannot_work_are_refused(command, message, tmp_path, capsys):
    if command[0] == "train":
        command = [*command, "--out", str(tmp_path / "run")]
    try:
        status = main(command)
    except SystemExit as exit_:  # argparse's own refusal
        status = exit_.code
    assert status == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()  # nothing was created


@pytest.mark.parametrize(
    "text, message",
    [
        ('lr: "1e-3"', "option lr must be a number, got '1e-3'"),
        ("hidden: lots", "option hidden must be an integer, got 'lots'"),
        ("max_steps: 3.7", "option max_steps must be an integer or null, got 3.7"),
        ("features: degree", "option features must be a list of strings, got 'degree'"),
    ],
)
def test_config_files_are_type_checked(text, message, tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_text(f"dataset: ego_small\n{text}\n")
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "run")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_yaml_reads_exponent_numbers(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("dataset: ego_small\nlr: 1e-3\nmax_steps: 1\nhidden: 8\nlayers: 1\nnum_negatives: 2\n")
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["lr"] == 0.001


def test_a_broken_pipe_ends_quietly():
    result = subprocess.run(
        f"{sys.executable} -m edgraph.cli datasets | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


def test_a_single_smiles_string_is_not_three_molecules(tmp_path, capsys):
    samples = tmp_path / "m.json"
    samples.write_text('{"smiles": "CCO"}')
    assert main(["evaluate", "--samples", str(samples), "--dataset", "nci_small", "--no-fcd"]) == 2
    assert "'smiles' must be a list of SMILES strings" in capsys.readouterr().err


def test_fit_takes_any_iterable_and_refuses_what_is_not_graphs():
    model = GraphEBM(5, hidden=8, layers=1, num_negatives=2).fit(iter(GRAPHS), max_steps=1, progress=False)
    assert len(model.sample(3, steps=0, init="data", seed=0)) == 3
    for bad, message in [
        ([], "zero graphs"),
        ([np.eye(3)], "numpy.ndarray; expected a networkx.Graph"),
        ([torch.eye(3)], "torch.Tensor; expected a networkx.Graph"),
        ([[(0, 1), (1, 2)]], "builtins.list; expected a networkx.Graph"),
        ([nx.empty_graph(0)], "graph 0 has no nodes"),
    ]:
        with pytest.raises(ValueError, match=message):
            GraphEBM(5).fit(bad, max_steps=1, progress=False)
    assert model.sample(0) == [] == model.sample(0, init="data")


class Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_a_checkpoint_that_asks_to_run_code_is_named_as_such(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "edgraph.GraphEBM", "version": 2, "payload": Payload()}, path)
    with pytest.raises(ValueError, match="refused: .* asks to run code on load.*GLOBAL posix.system"):
        GraphEBM.load(path)
    with path.open("wb") as file:  # a plain pickle, as Python writes it by default
        pickle.dump({"payload": Payload()}, file, protocol=pickle.DEFAULT_PROTOCOL)
    with pytest.raises(ValueError, match="refused: .* asks to run code on load"):
        GraphEBM.load(path)


@pytest.mark.parametrize("content", [b"", b"hello", b'{"graphs": []}'])
def test_a_file_that_torch_did_not_write_is_not_a_checkpoint(content, tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"is not an edgraph checkpoint \(not a file that torch.save wrote\)"):
        GraphEBM.load(path)


def test_tampered_models_fail_at_load(run, tmp_path):
    payload = torch.load(run / "model.pt", weights_only=True)
    broken = {**payload, "energy": {k: v[..., :1] for k, v in payload["energy"].items()}}
    torch.save(broken, tmp_path / "shapes.pt")
    with pytest.raises(ValueError, match="weights do not fit"):
        GraphEBM.load(tmp_path / "shapes.pt")
    nan = {
        **payload,
        "sampling_energy": {k: torch.full_like(v, float("nan")) for k, v in payload["sampling_energy"].items()},
    }
    torch.save(nan, tmp_path / "nan.pt")
    with pytest.raises(ValueError, match="NaN or infinite"):
        GraphEBM.load(tmp_path / "nan.pt")
    edges = payload["training_data"]["edges"].clone()
    edges[0, -1] = True  # an edge on a padding pair of the first (small) graph
    torch.save({**payload, "training_data": {**payload["training_data"], "edges": edges}}, tmp_path / "data.pt")
    with pytest.raises(ValueError, match="training data or weights are damaged"):
        GraphEBM.load(tmp_path / "data.pt")


def test_files_are_written_with_the_umask_and_orphans_are_cleaned(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "a.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    orphan = tmp_path / f".a.json.{dead}.x1y2.tmp"
    orphan.write_text("half")
    atomic_write(tmp_path / "a.json", "{}")
    assert not orphan.exists()


def test_bounds_on_what_is_read(tmp_path):
    from edgraph.graphs import read_graphs_json
    from edgraph.metrics import graph_mmd

    samples = tmp_path / "s.json"
    samples.write_text(json.dumps({"graphs": [{"num_nodes": 3, "edges": [[0, 1]]}] * 100}))
    with pytest.raises(ValueError, match="more than the 100 bytes read at once"):
        read_graphs_json(samples, max_bytes=100)
    with pytest.raises(ValueError, match="stats must be a list of statistic names"):
        graph_mmd(GRAPHS, GRAPHS, stats="degree")


def test_a_run_stopped_before_its_first_checkpoint_can_resume(tmp_path):
    run_dir = tmp_path / "run"
    GraphEBM(5, hidden=8, layers=1, num_negatives=2).fit(GRAPHS, run_dir=run_dir, max_steps=2, progress=False)
    (run_dir / "checkpoints" / "last.ckpt").unlink()  # as if killed before the first save
    (run_dir / "model.pt").unlink()
    with pytest.raises(ValueError, match="already holds a run"):
        GraphEBM(5, hidden=8, layers=1, num_negatives=2).fit(GRAPHS, run_dir=run_dir, max_steps=2, progress=False)
    model = GraphEBM(5, hidden=8, layers=1, num_negatives=2)
    model.fit(GRAPHS, run_dir=run_dir, resume=True, max_steps=2, progress=False)
    assert model.steps_trained == 2
    with pytest.raises(ValueError, match="run_dir"):
        GraphEBM(5).fit(GRAPHS, resume=True, max_steps=1, progress=False)


def test_time_of_step_budgeted_sessions_counts_toward_a_later_time_budget(tmp_path):
    run_dir = tmp_path / "run"
    GraphEBM(5, hidden=8, layers=1, num_negatives=2).fit(GRAPHS, run_dir=run_dir, max_steps=20, progress=False)
    with pytest.raises(ValueError, match="max_minutes"):
        GraphEBM(5, hidden=8, layers=1, num_negatives=2).fit(
            GRAPHS, run_dir=run_dir, resume=True, max_steps=None, max_minutes=1e-5, progress=False
        )


def test_training_options_that_cannot_train_are_refused_before_anything_is_written(tmp_path):
    for options in (
        {"lr": -1.0},
        {"grad_clip": -1.0},
        {"weight_decay": float("nan")},
        {"cd_reinit": 2.0},
        {"val_graphs": 0},
    ):
        with pytest.raises(ValueError, match=next(iter(options))):
            GraphEBM(5).fit(GRAPHS, run_dir=tmp_path / "run", max_steps=1, **options)
        assert not (tmp_path / "run").exists()
    with pytest.raises(ValueError, match="must be finite"):
        GraphEBM(5, w=float("nan"))


def test_a_config_that_is_not_a_mapping_is_one_line(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("- 1\n- 2\n")
    assert main(["train", "--dataset", "ego_small", "--config", str(config), "--out", str(tmp_path / "r")]) == 2
    assert "must hold a JSON object of option: value, not a list" in capsys.readouterr().err
    config.write_text("1: 2\n")
    assert main(["train", "--dataset", "ego_small", "--config", str(config), "--out", str(tmp_path / "r")]) == 2
    assert "option names that are not strings" in capsys.readouterr().err


def test_unrelated_folders_with_logs_are_not_runs(tmp_path, run):
    project = tmp_path / "project"
    (project / "logs").mkdir(parents=True)
    (project / "checkpoints").mkdir()
    out = project / "logs" / "samples.json"
    assert main(["sample", "--checkpoint", str(run), "--num", "2", "--out", str(out), "--no-progress"]) == 0
    assert main(["sample", "--checkpoint", str(run), "--num", "2", "--out", str(run / ".lock"), "--overwrite"]) == 2
