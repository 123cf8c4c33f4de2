import json, glob
S = ("degree", "clustering", "orbit")
def total(m): return sum(m[s] for s in S)
agg = {}
for f in sorted(glob.glob("/tmp/diag/temp_*.json")):
    d = json.load(open(f)); rows = d["rows"]; fl = d["outer_floor"]
    req = max(d["required"], rows[0]["inner"]["novelty"] - 0.05)
    pick = min(rows, key=lambda r: (max(0, req - r["inner"]["novelty"]), total(r["inner"])))
    for name, r in (("T=1", rows[0]), ("chosen", pick)):
        a = agg.setdefault(d["dataset"], {}).setdefault(name, [])
        a.append([(r["outer"][s] / fl[s]["mean"] if fl[s]["mean"] > 0 else float("nan")) for s in S] + [total(r["outer"]) / sum(fl[s]["mean"] for s in S), r["outer"]["novelty"], r["T"]])
for k, v in agg.items():
    for n, rows in v.items():
        m = [sum(x[i] for x in rows) / len(rows) for i in range(5)]
        print(f"{k:21s} {n:7s} n={len(rows)} " + " / ".join(f"{x:.2f}" for x in m[:3]) + f"  sum {m[3]:.2f} novel {m[4]:.2f}  T {[x[5] for x in rows]}")
