import json, glob
S = ("degree", "clustering", "orbit")
def total(m): return sum(m[s] for s in S)
def mult(outer, fl): return [outer[s] / fl[s]["mean"] if fl[s]["mean"] else float("nan") for s in S] + [total(outer) / sum(fl[s]["mean"] for s in S), outer["novelty"]]
rows = {}
for f in sorted(glob.glob("/tmp/diag/base/temp_*.json")):
    d = json.load(open(f)); r = d["rows"]
    req = max(d["required"], r[0]["inner"]["novelty"] - 0.05)
    pick = min(r, key=lambda x: (max(0, req - x["inner"]["novelty"]), total(x["inner"])))
    rows.setdefault((d["dataset"], d["seed"]), {})["base"] = (mult(pick["outer"], d["outer_floor"]), pick["T"], None)
for f in sorted(glob.glob("/tmp/diag/ema/*_*.json")):
    d = json.load(open(f))
    rows.setdefault((d["dataset"], d["seed"]), {})[d["tag"]] = (mult(d["outer"], d["outer_floor"]), d["T"], d["selected_step"])
agg = {}
for (ds, seed), v in sorted(rows.items()):
    if "ema999" not in v or "base" not in v: continue
    for tag in ("base", "ema999"):
        m, T, step = v[tag]
        print(f"{ds:21s} {seed} {tag:7s} " + " / ".join(f"{x:.2f}" for x in m[:3]) + f" sum {m[3]:.2f} ({m[4]:.0%}) T {T} step {step}")
        agg.setdefault((ds, tag), []).append(m)
for (ds, tag), ms in agg.items():
    n = len(ms); mean = [sum(m[i] for m in ms) / n for i in range(5)]
    print(f"MEAN {ds:21s} {tag:7s} n={n} " + " / ".join(f"{x:.2f}" for x in mean[:3]) + f" sum {mean[3]:.2f} ({mean[4]:.0%})")
