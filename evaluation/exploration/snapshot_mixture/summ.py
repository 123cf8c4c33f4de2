import json, glob
S=("degree","clustering","orbit")
for f in sorted(glob.glob("/tmp/diag/mix/mix_*.json")):
    r=json.load(open(f)); fl=r["floor"]
    row=[]
    for k,m in r["mix"].items():
        tot=sum(m[s] for s in S)/sum(fl[s]["mean"] for s in S)
        row.append(f"k={k}: {tot:.2f} ({' / '.join(f'{x:.2f}' for x in m['multiples'])}; {m['novelty']:.0%})")
    print(r["dataset"], r["seed"], "T", r["T"], "|", " | ".join(row))
