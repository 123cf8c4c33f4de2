import glob, json, statistics as st
S = ("degree", "clustering", "orbit")
def base(ds, seed):
    for fn in (f"/tmp/diag/mix/mix_{ds}_{seed}.json", f"/tmp/diag/mix/band_{ds}_{seed}.json", f"/tmp/diag/band4/band_{ds}_{seed}.json"):
        try: d = json.load(open(fn))
        except FileNotFoundError: continue
        k = d["mix"].get("k1") or d["mix"].get("1")
        fl = d["floor"]
        return {"mult": k["multiples"], "sum": sum(k[s] for s in S) / sum(fl[s]["mean"] for s in S), "nov": k["novelty"], "step": k["steps"][0], "T": d["T"]}
rows = {}
for fn in sorted(glob.glob("/tmp/diag/strat/strat_*.json")):
    d = json.load(open(fn)); b = base(d["dataset"], d["seed"])
    rows.setdefault(d["dataset"], []).append((d, b))
    f = lambda m: " / ".join("-" if x is None else f"{x:.2f}" for x in m)
    print(f"{d['dataset']:22s} {d['seed']:2d}  strat {f(d['multiples'])} sum {d['sum']:.2f} nov {d['novelty']:.2f} step {d['step']} T {d['T']}   base {f(b['mult'])} sum {b['sum']:.2f} nov {b['nov']:.2f} step {b['step']} T {b['T']}")
for ds, rs in rows.items():
    o1 = [d["multiples"][2] for d, b in rs]; o0 = [b["mult"][2] for d, b in rs]
    s1 = [d["sum"] for d, b in rs]; s0 = [b["sum"] for d, b in rs]
    sd = lambda v: st.stdev(v) if len(v) > 1 else float("nan")
    print(f"{ds:22s} n={len(rs)} sum {st.mean(s1):.3f} vs {st.mean(s0):.3f}  orbit {st.mean(o1):.3f} (sd {sd(o1):.2f}) vs {st.mean(o0):.3f} (sd {sd(o0):.2f})")
