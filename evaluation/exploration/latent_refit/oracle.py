"""How much could a better rule for the kept check gain? For each fit of commit c489ee3's
validation_rule study (every periodic check's inner-fifth metrics and the same samples' MMD against
the outer fifth), compare the check the library keeps (novelty shortfall, then the sum of inner
MMDs) with the check an oracle would keep (novelty shortfall, then the sum of *outer* MMDs).
Run from a folder holding that commit's selection_*.json files."""
import glob, json, statistics

STATS = ("degree", "clustering", "orbit")
means = {}
for path in sorted(glob.glob("selection_*.json")):
    run = json.load(open(path))
    checks, required, floor = run["checks"], run["required"], run["outer_floor"]

    def keep(metrics):
        return min(range(len(checks)), key=lambda i: (max(0.0, required - checks[i]["novelty"]), sum(checks[i][metrics][s] for s in STATS)))

    for rule in ("inner", "outer"):
        i = keep(rule)
        multiples = [checks[i]["outer"][s] / floor[s]["mean"] for s in STATS]
        means.setdefault((run["dataset"], rule), []).append(multiples)
        print(run["dataset"], run["seed"], rule, "check", i, " / ".join(f"{m:.2f}" for m in multiples))
for (dataset, rule), rows in sorted(means.items()):
    print("mean", dataset, rule, len(rows), " / ".join(f"{statistics.fmean(r[j] for r in rows):.2f}" for j in range(3)))
