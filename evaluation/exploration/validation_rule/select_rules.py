import json, glob, statistics, sys
STATS = ("degree", "clustering", "orbit")
def ratios(m, floor): return {s: m[s] / floor[s]["mean"] for s in STATS}
RULES = {
    "sum_mmd": lambda c, f: sum(c["inner"][s] for s in STATS),
    "sum_floor_units": lambda c, f: sum(c["inner"][s] / f[s]["mean"] for s in STATS),
    "max_floor_units": lambda c, f: max(c["inner"][s] / f[s]["mean"] for s in STATS),
}
rows = {}
for path in sorted(glob.glob("/tmp/diag/selection_*.json")):
    d = json.load(open(path))
    checks = d["checks"]
    for name, rule in RULES.items():
        i = min(range(len(checks)), key=lambda i: (max(0.0, d["required"] - checks[i]["novelty"]), rule(checks[i], d["inner_floor"])))
        r = ratios(checks[i]["outer"], d["outer_floor"])
        rows.setdefault((d["dataset"], name), []).append(r)
        print(d["dataset"], d["seed"], name, "check", i, {s: round(v, 2) for s, v in r.items()}, "sum", round(sum(checks[i]["outer"][s] for s in STATS) / sum(d["outer_floor"][s]["mean"] for s in STATS), 2), "nov", checks[i]["novelty"])
print()
for (ds, name), rs in sorted(rows.items()):
    means = {s: round(statistics.fmean(r[s] for r in rs), 3) for s in STATS}
    print(ds, name, len(rs), means, "max-stat mean", round(statistics.fmean(max(r.values()) for r in rs), 3))
