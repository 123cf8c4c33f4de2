"""Train GraphEBM variants on ego_small for a step budget, then score them with analyse2.py.

Run B (flips 1.5) and C (flips 3.0): `train_variants.py BC`; run D (flips 1.5, hidden 32): `train_variants.py D`.
"""
import subprocess
import sys
import time

from edgraph import GraphEBM
from edgraph.datasets import load_graphs

VARIANTS = {"B": (dict(flips=1.5), 1500), "C": (dict(flips=3.0), 1500),
            "D": (dict(flips=1.5, hidden=32, layers=4), 3000)}
train = load_graphs("ego_small", "train")
for name in sys.argv[1]:
    options, steps = VARIANTS[name]
    model = GraphEBM(18, **options)
    wall, cpu = time.time(), time.process_time()
    model.fit(train, run_dir=f"/tmp/exp/{name}", max_steps=steps, progress=False)
    print(name, "train wall", time.time() - wall, "cpu", time.process_time() - cpu, flush=True)
    print(subprocess.run([sys.executable, "evaluation/exploration/analyse2.py", f"/tmp/exp/{name}"],
                         capture_output=True, text=True).stdout, flush=True)
