import sys, torch, networkx as nx
torch.set_num_threads(1)
from edgraph.models import LatentGraphEBM
TINY = {"latent_dim": 4, "hidden": 16, "layers": 2, "decoder_hidden": 32, "prior_hidden": 16, "prior_layers": 2}
GRAPHS = [nx.cycle_graph(4), nx.path_graph(5), nx.star_graph(4), nx.complete_graph(4), nx.path_graph(3)]
for h, k in [(0.1, 20), (0.1, 60)]:
    m = LatentGraphEBM(5, training="joint", posterior_step_size=h, posterior_steps=k, **TINY)
    m.fit(GRAPHS * 4, max_steps=1500, seed=0, progress=False)
    x, mask = m._training_tensors()
    g = torch.Generator().manual_seed(0)
    z = m.posterior_samples(m.sampling_energy, x, mask, generator=g)
    with torch.no_grad():
        nll = m.reconstruction_nll(m.sampling_energy.decoder(z), x, mask).mean().item()
    s = m.sample(64, seed=0)
    print(h, k, round(nll, 3), sum(any(nx.is_isomorphic(a, t) for t in GRAPHS) for a in s), flush=True)
