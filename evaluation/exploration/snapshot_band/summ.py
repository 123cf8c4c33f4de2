import json, glob, statistics
S=("degree","clustering","orbit")
agg={}
for f in sorted(glob.glob("/tmp/diag/band4/band_*.json")):
    r=json.load(open(f)); fl=r["floor"]; row=[]
    for name,m in r["mix"].items():
        tot=sum(m[s] for s in S)/sum(fl[s]["mean"] for s in S)
        agg.setdefault((r["dataset"],name),[]).append(tot)
        o=m["multiples"][2]
        row.append(f"{name} {m['steps']}: {tot:.2f} (orbit {o:.2f}; {m['novelty']:.0%})")
    print(r["dataset"], r["seed"], "|", " | ".join(row))
allv={}
for (ds,name),v in sorted(agg.items()):
    print(ds, name, f"sum {statistics.fmean(v):.3f} n={len(v)}")
    allv.setdefault(name,[]).extend(v)
for name,v in allv.items(): print("ALL", name, f"{statistics.fmean(v):.3f} n={len(v)}")
