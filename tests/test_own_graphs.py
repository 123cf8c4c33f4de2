"""Training on, and evaluating against, the user's own graphs: JSON files, edge-list folders, PyG datasets."""

import json

import networkx as nx
import pytest

from edgraph import GraphEBM
from edgraph.cli import main
from edgraph.datasets import EgoSmall
from edgraph.graphs import graphs_to_json, read_graphs
from edgraph.metrics import graph_mmd
from edgraph.models import LatentGraphEBM

TINY = ["--hidden", "8", "--layers", "1", "--num-negatives", "4", "--batch-size", "8", "--no-progress"]


def lollipops(count: int, seed: int) -> list[nx.Graph]:
    return [nx.lollipop_graph(3 + (seed + i) % 3, 2 + i % 4) for i in range(count)]


def test_train_sample_and_evaluate_on_files(tmp_path, capsys):
    train, test = tmp_path / "train.json", tmp_path / "test.json"
    train.write_text(json.dumps(graphs_to_json(lollipops(24, 0))))
    test.write_text(json.dumps(graphs_to_json(lollipops(8, 1))))
    run = tmp_path / "run"
    assert main(["train", "--graphs", str(train), "--out", str(run), "--max-steps", "3", *TINY]) == 0
    saved = json.loads((run / "config.json").read_text())
    largest = max(g.number_of_nodes() for g in lollipops(24, 0))
    assert saved["graphs"] == str(train.resolve()) and saved["max_nodes"] == largest
    assert main(["train", "--out", str(run), "--resume", "--max-steps", "5", *TINY]) == 0  # the file is remembered
    samples = tmp_path / "samples.json"
    assert main(["sample", "--checkpoint", str(run), "--num", "16", "--out", str(samples), "--no-progress"]) == 0
    capsys.readouterr()
    assert (
        main(
            [
                "evaluate",
                "--samples",
                str(samples),
                "--reference",
                str(test),
                "--train",
                str(train),
                "--floor-seeds",
                "2",
            ]
        )
        == 0
    )
    report = json.loads(samples.with_suffix(".metrics.json").read_text())
    assert report["num_reference"] == 8 and report["floor"] is not None and 0 <= report["novelty"] <= 1
    assert (
        main(
            [
                "evaluate",
                "--samples",
                str(samples),
                "--reference",
                str(test),
                "--overwrite",
                "--out",
                str(tmp_path / "m.json"),
            ]
        )
        == 0
    )
    assert "no --train: no floor, no novelty" in capsys.readouterr().out


def test_a_folder_of_edge_lists(tmp_path):
    folder = tmp_path / "graphs"
    folder.mkdir()
    for i, graph in enumerate(lollipops(12, 0)):
        nx.write_edgelist(graph, folder / f"g{i:02d}.edges", data=False)
    graphs = read_graphs(folder)
    assert [sorted(map(sorted, g.edges)) for g in graphs] == [
        sorted(map(sorted, nx.convert_node_labels_to_integers(g).edges)) for g in lollipops(12, 0)
    ]
    assert main(["train", "--graphs", str(folder), "--out", str(tmp_path / "run"), "--max-steps", "2", *TINY]) == 0


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"graphs": []}', "holds no graphs"),
        ('{"graphs": [{"num_nodes": 2, "edges": [[0, 2]]}]}', "names a node outside 0..1"),
        ('{"graphs": [{"num_nodes": 2, "edges": [[1, 1]]}]}', "is a self-loop"),
        ("[1, 2]", "expected an object with a 'graphs' list"),
        ('{"graphs": [{"num_nodes": 2, "edges": [[0, 1]], "lable": 1}]}', "graph 0: unknown fields ['lable']"),
        ('{"graphs": [{"num_nodes": 2, "edges": [[0, 1]], "directed": true}]}', "each undirected edge once"),
        (
            '{"graphs": [{"num_nodes": 2, "edges": [[0, 1]]}, {"num_nodes": 0, "edges": []}]}',
            "json: graph 1 has no nodes",
        ),
    ],
)
def test_bad_graph_files_get_clear_errors(content, message, tmp_path, capsys):
    path = tmp_path / "graphs.json"
    path.write_text(content)
    assert main(["train", "--graphs", str(path), "--out", str(tmp_path / "run"), *TINY]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_bad_edge_lists_and_conflicting_sources(tmp_path, capsys):
    folder = tmp_path / "graphs"
    folder.mkdir()
    (folder / "a.txt").write_text("a b\nb b\n")
    with pytest.raises(ValueError, match="a.txt:2: edge b b is a self-loop"):
        read_graphs(folder)
    (folder / "a.txt").write_text("a\n")
    with pytest.raises(ValueError, match="expected an edge 'u v'"):
        read_graphs(folder)
    assert main(["train", "--graphs", str(folder), "--dataset", "ego_small", "--out", str(tmp_path / "r")]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["evaluate", "--samples", str(folder / "a.txt")]) == 2
    assert "one of the two" in capsys.readouterr().err


def test_train_says_which_step_the_model_samples_with(tmp_path, capsys):
    graphs = tmp_path / "graphs.json"
    graphs.write_text(json.dumps(graphs_to_json(lollipops(20, 0))))
    run = ["train", "--graphs", str(graphs), "--out", str(tmp_path / "run"), "--max-steps", "2", *TINY]
    assert main([*run, "--val-fraction", "0.2", "--val-every", "1"]) == 0
    assert "samples with the weights of step" in capsys.readouterr().out


def test_a_binary_file_among_edge_lists_is_named(tmp_path):
    folder = tmp_path / "graphs"
    folder.mkdir()
    (folder / "a.txt").write_text("a b\n")
    (folder / "b.gz").write_bytes(b"\x1f\x8b\x08\x00\xff")
    with pytest.raises(ValueError, match="b.gz is not a text edge-list file"):
        read_graphs(folder)


def test_the_graphs_folder_is_refused_as_the_run_folder(tmp_path, capsys):
    folder = tmp_path / "graphs"
    folder.mkdir()
    for i, graph in enumerate(lollipops(6, 0)):
        nx.write_edgelist(graph, folder / f"g{i}.edges", data=False)
    assert main(["train", "--graphs", str(folder), "--out", str(folder), "--max-steps", "1", *TINY]) == 2
    assert "is in the run folder" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == [f"g{i}.edges" for i in range(6)]
    assert main(["train", "--graphs", str(folder), "--out", str(tmp_path), "--max-steps", "1", *TINY]) == 2
    assert "is in the run folder" in capsys.readouterr().err
    assert not (tmp_path / "config.json").exists()


def test_evaluate_allows_samples_as_large_as_the_training_graphs(tmp_path, capsys):
    small, large = [nx.path_graph(4)] * 6, [nx.path_graph(7)] * 6
    reference, train, samples = tmp_path / "test.json", tmp_path / "train.json", tmp_path / "samples.json"
    reference.write_text(json.dumps(graphs_to_json(small)))
    train.write_text(json.dumps(graphs_to_json(large)))
    samples.write_text(json.dumps(graphs_to_json(large)))
    args = ["evaluate", "--samples", str(samples), "--reference", str(reference), "--floor-seeds", "0"]
    assert main([*args, "--train", str(train)]) == 0
    assert main([*args, "--overwrite"]) == 2  # without --train the limit is the reference's largest graph
    assert f"the largest graph of --reference {reference} (--max-nodes raises it)" in capsys.readouterr().err
    assert main([*args, "--overwrite", "--max-nodes", "7"]) == 0


def test_a_directed_pyg_graph_is_named_by_its_position():
    import torch
    from torch_geometric.data import Data

    graphs = [
        Data(edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=2),
        Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2),
    ]
    for model in (GraphEBM(2), LatentGraphEBM(2)):
        with pytest.raises(ValueError, match=r"graph 1: PyG graph is directed"):
            model.fit(graphs, max_steps=1, progress=False)
    with pytest.raises(ValueError, match=r"graph 1: PyG graph is directed"):
        graph_mmd(graphs[:1], graphs)


def test_fit_takes_a_pyg_dataset():
    model = GraphEBM(18, hidden=8, layers=1, num_negatives=2).fit(EgoSmall(split="train"), max_steps=1, progress=False)
    assert len(model.training_data["num_nodes"]) == 160
