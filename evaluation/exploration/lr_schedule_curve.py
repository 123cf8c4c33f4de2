"""Training curve of ED (eps 0.2) on ego_small: gdss MMD of 1,024 GWG-200 samples (sampling seed 0) at six points
of training, by learning-rate schedule. Usage: python lr_schedule_curve.py NAME const|cos|lin STEPS SEED [JSON options]"""
import sys, time, math, json, torch, statistics
from edgraph import GraphEBM
from edgraph.datasets import load_graphs
from edgraph.metrics import graph_mmd
from edgraph.training import TrainConfig, _frozen_copy
torch.set_num_threads(1)
name, schedule, total, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
opts = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
ema_decay = opts.pop("ema", 0.99); lr0 = opts.pop("lr", 1e-3); bs = opts.pop("bs", 32)
torch.manual_seed(seed)
tr, te = load_graphs("ego_small", "train"), load_graphs("ego_small", "test")
model = GraphEBM(18, **{"flips": None, "eps": 0.2, **opts})
x, mask = model.prepare(tr)
loss_fn = model.training_loss(TrainConfig())
e = model.energy; ema = _frozen_copy(e)
opt = torch.optim.AdamW(e.parameters(), lr=lr0, weight_decay=1e-4)
g = torch.Generator().manual_seed(seed)
evals = set(range(total // 6, total + 1, total // 6))
t0 = time.process_time(); perm = torch.randperm(len(x), generator=g); pos = 0
for step in range(1, total + 1):
    if schedule == "cos":
        lr = lr0 * 0.5 * (1 + math.cos(math.pi * step / total))
    elif schedule == "lin":
        lr = lr0 * min(1.0, 2 * (1 - step / total) + 1e-3)   # constant, then linear decay over the last half
    else:
        lr = lr0
    for pg in opt.param_groups: pg["lr"] = lr
    if pos + bs > len(x):
        perm = torch.randperm(len(x), generator=g); pos = 0
    b = perm[pos:pos + bs]; pos += bs
    l = loss_fn(e, x[b], mask[b]); opt.zero_grad(); l.backward()
    torch.nn.utils.clip_grad_norm_(e.parameters(), 5.0); opt.step()
    d = min(ema_decay, (1 + step) / (10 + step))
    with torch.no_grad():
        for a, c in zip(ema.parameters(), e.parameters()): a.lerp_(c, 1 - d)
    if step in evals:
        cpu = time.process_time() - t0
        gr = model._sample_with(ema, 1024, steps=200, seed=0)
        r = graph_mmd(gr, te, ("degree", "clustering", "orbit"))
        print(name, seed, step, "train_cpu %.0f" % cpu, "edges %.2f" % statistics.fmean(h.number_of_edges() for h in gr),
              " ".join("%s %.4f" % (k, v) for k, v in r.items()), flush=True)
        t0 = time.process_time() - cpu
