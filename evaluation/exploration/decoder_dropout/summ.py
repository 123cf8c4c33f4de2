import json,glob,statistics
S=("degree","clustering","orbit")
base={}
for f in glob.glob("/tmp/diag/mix/mix_*.json"):
    r=json.load(open(f)); m=r["mix"]["1"]; base[(r["dataset"],r["seed"])]=(m, r["floor"])
agg={}
for f in sorted(glob.glob("/tmp/diag/dropout/drop_*.json")):
    r=json.load(open(f)); m,fl=base[(r["dataset"],r["seed"])]
    tot=lambda x: sum(x[s] for s in S)/sum(fl[s]["mean"] for s in S)
    print(r["dataset"], r["seed"], "p", r["p"], "step", r["selected_step"], "T", r["T"], "sum %.3f"%tot(r), "orbit %.2f"%r["multiples"][2], "nov %.2f"%r["novelty"], "| base sum %.3f orbit %.2f nov %.2f" % (tot(m), m["multiples"][2], m["novelty"]))
    if r["p"]:
        agg.setdefault((r["dataset"], r["p"]), []).append((tot(r), tot(m), r["multiples"][2], m["multiples"][2]))
for k,v in sorted(agg.items()):
    print(k, "n=%d"%len(v), "sum %.3f vs %.3f" % (statistics.fmean(x[0] for x in v), statistics.fmean(x[1] for x in v)), "orbit %.2f vs %.2f" % (statistics.fmean(x[2] for x in v), statistics.fmean(x[3] for x in v)))
