import sys, json
for l in open("evaluation/exploration/results.jsonl"):
    try: r=json.loads(l)
    except Exception: continue
    if r['tag'] == 'smoke': continue
    ks=[k for k in r if k.startswith('val_')]
    fl=[round(v,4) for v in r['floor'].values()]
    print(r['data'][:9], r['tag'], r['seed'], r['steps'], round(r['train_s']), 'floor', fl, *[(k[4:], [round(v,4) for v in r[k].values()], round(r['edges_'+k[4:]],1), round(r['novel_'+k[4:]],2)) for k in ks], 'E', round(r['data_edges'],1))
