import json, sys, time, numpy as np, torch
torch.set_num_threads(1)
from edgraph.models.latent import LatentGraphEBM
from edgraph.datasets import load_graphs, dataset_info
from edgraph.models.base import hold_out
from edgraph.metrics import graph_mmd, reference_floor, graph_novelty, graph_uniqueness
from edgraph.graphs import dense_to_graphs, edges_to_adj, pair_mask
STATS = ("degree", "clustering", "orbit")
data, seed = sys.argv[1], int(sys.argv[2])
train, held = hold_out(load_graphs(data, "train"), 0.2, seed)
m = LatentGraphEBM(dataset_info(data).max_nodes).fit(train, seed=seed, progress=False)
floor = reference_floor(train, held, 512, range(5), stats=STATS)
net = m.sampling_energy
g = torch.Generator().manual_seed(seed)
z = m.noise_states(512, g, torch.device("cpu"))[0]
from edgraph.samplers import MALA
z = MALA(0.05).sample(net, z, 1000, generator=g)
def score(graphs, name):
    mmd = graph_mmd(graphs, held, STATS)
    r = sum(mmd.values()) / sum(floor[s]["mean"] for s in STATS)
    print(json.dumps({"data": data, "seed": seed, "decode": name, "ratio": round(r, 2), "mmd": {k: round(v, 4) for k, v in mmd.items()}, "novel": round(graph_novelty(graphs, train), 2), "unique": round(graph_uniqueness(graphs), 2), "edges": np.mean([x.number_of_edges() for x in graphs])}), flush=True)
with torch.no_grad():
    score(m.decode(net.generate(z)), "mode")
    cl, el = net.logits(z)
    n = cl.argmax(-1) + 1
    nm = torch.arange(net.max_nodes) < n[:, None]
    e = torch.bernoulli(torch.sigmoid(el), generator=g) * pair_mask(nm)
    score(dense_to_graphs(edges_to_adj(e, net.max_nodes), nm), "bernoulli_edges")
    n2 = torch.multinomial(cl.softmax(-1), 1, generator=g).squeeze(1) + 1
    nm2 = torch.arange(net.max_nodes) < n2[:, None]
    e2 = torch.bernoulli(torch.sigmoid(el), generator=g) * pair_mask(nm2)
    score(dense_to_graphs(edges_to_adj(e2, net.max_nodes), nm2), "bernoulli_all")
