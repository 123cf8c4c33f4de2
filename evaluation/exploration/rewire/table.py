"""Markdown rows of results.jsonl: validation MMD (degree / clustering / orbit) per run, GWG 200 ; GWG 400."""
import json
from pathlib import Path

rows = [json.loads(line) for line in (Path(__file__).parent / "results.jsonl").read_text().splitlines()]
print("| dataset | variant | seed | train (s) | GWG 200 | GWG 400 | edges (data) |")
print("|---|---|---|---|---|---|---|")
for r in sorted(rows, key=lambda r: (r["data"], r["tag"], r["seed"])):
    cells = [" / ".join(f"{r[f'val_{s}'][k]:.4f}" for k in ("degree", "clustering", "orbit")) for s in (200, 400)]
    print(f"| {r['data']} | {r['tag']} | {r['seed']} | {r['train_s']:.0f} | {cells[0]} | {cells[1]} "
          f"| {r['edges_400']:.1f} ({r['data_edges']:.1f}) |")
