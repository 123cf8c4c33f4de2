"""Is GWG at fault on small graphs? For node counts up to MAX_EXACT every labelled graph can be
enumerated (2^15 = 32,768 for 6 nodes), so the model's exact distribution p(x | n) = softmax(-E)
is known. For each model: the total-variation distances over isomorphism classes between the exact
distribution and the training / test graphs of that size, and between GWG-200 samples from noise and the
exact distribution over isomorphism classes (by size), and the gdss MMD of 1,024 samples from
noise with the graphs of at most MAX_EXACT nodes replaced by exact draws of the same sizes.

Usage: python ego_exact_small.py MAX_EXACT MODEL [MODEL ...]"""
import collections
import sys

import networkx as nx
import torch

from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.graphs import edges_to_graphs, num_pairs, sub_pairs
from edgraph.metrics import graph_mmd

torch.set_num_threads(1)
train, test = load_graphs("ego_small", "train"), load_graphs("ego_small", "test")


def class_shares(graphs: list[nx.Graph]) -> collections.Counter:
    counts = collections.Counter(nx.weisfeiler_lehman_graph_hash(g) for g in graphs)
    return collections.Counter({k: v / max(len(graphs), 1) for k, v in counts.items()})


def total_variation(p: dict, q: dict) -> float:
    return 0.5 * sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in set(p) | set(q))
max_exact = int(sys.argv[1])


def exact_draws(model: GraphEBM, n: int, count: int, generator: torch.Generator) -> tuple[list[nx.Graph], dict]:
    pairs = num_pairs(n)
    states = ((torch.arange(2**pairs)[:, None] >> torch.arange(pairs)) & 1).float()
    big = model.config.max_nodes
    x = torch.zeros(len(states), num_pairs(big))
    mask = torch.zeros_like(x)
    x[:, sub_pairs(big, n)], mask[:, sub_pairs(big, n)] = states, 1.0
    with torch.no_grad():
        energy = torch.cat([model.sampling_energy(x[i:i + 4096], mask[i:i + 4096]) for i in range(0, len(x), 4096)])
    probs = torch.softmax(-energy.double(), 0)
    classes = collections.Counter()
    # WL hashes merge only regular graphs of equal degree (C6 and two triangles; K3,3 and the prism)
    for g, p in zip(edges_to_graphs(x, mask, big), probs.tolist()):
        classes[nx.weisfeiler_lehman_graph_hash(g)] += p
    rows = torch.multinomial(probs.float(), count, replacement=True, generator=generator)
    return edges_to_graphs(x[rows], mask[rows], big), classes


for path in sys.argv[2:]:
    model = GraphEBM.load(path)
    noise = model.sample(1024, seed=0)
    generator = torch.Generator().manual_seed(0)
    replaced = [g for g in noise if g.number_of_nodes() > max_exact]
    for n in range(2, max_exact + 1):
        sampled = [g for g in noise if g.number_of_nodes() == n]
        if not sampled:
            continue
        draws, classes = exact_draws(model, n, len(sampled), generator)
        replaced += draws
        of_size = [[g for g in split if g.number_of_nodes() == n] for split in (train, test)]
        print(f"{path} n {n}: TV exact-GWG {total_variation(class_shares(sampled), classes):.3f} ({len(sampled)} samples), "
              f"exact-train {total_variation(class_shares(of_size[0]), classes):.3f} ({len(of_size[0])}), "
              f"exact-test {total_variation(class_shares(of_size[1]), classes):.3f} ({len(of_size[1])}), "
              f"train-test {total_variation(*map(class_shares, of_size)):.3f}", flush=True)
    for name, graphs in (("GWG 200 from noise", noise), (f"exact for n <= {max_exact}", replaced)):
        mmd = graph_mmd(graphs, test, ("degree", "clustering", "orbit"))
        print(path, name, {k: round(v, 4) for k, v in mmd.items()}, flush=True)
