import json, glob, statistics
S=("degree","clustering","orbit")
agg={}
for f in sorted(glob.glob("/tmp/diag/mix/band_*.json")):
    r=json.load(open(f)); fl=r["floor"]; row=[]
    for name,m in r["mix"].items():
        tot=sum(m[s] for s in S)/sum(fl[s]["mean"] for s in S)
        agg.setdefault((r["dataset"],name),[]).append((tot,m["multiples"][2]))
        row.append(f"{name} {m['steps']}: {tot:.2f} (orbit {m['multiples'][2]:.2f}; {m['novelty']:.0%})")
    print(r["dataset"], r["seed"], "|", " | ".join(row))
for (ds,name),v in agg.items():
    print(ds, name, f"sum {statistics.fmean(x for x,_ in v):.2f} orbit {statistics.fmean(y for _,y in v):.2f} n={len(v)}")
