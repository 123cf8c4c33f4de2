import sys, csv
from edgraph.training import metrics_files
for d in sys.argv[1:]:
    print(d)
    rows = list(csv.DictReader(open(metrics_files(d)[0])))
    seen = set()
    for r in rows:
        if r.get("val_degree") and r["val_seconds"] not in seen:
            seen.add(r["val_seconds"])
            print(" ", r["step"], round(float(r["val_degree"])+float(r["val_clustering"])+float(r["val_orbit"]),4), r["val_novelty"])
