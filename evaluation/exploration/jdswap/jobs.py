import shlex, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
def run(line):
    with open("/work/main/runs/explore/log.txt", "a") as log:
        subprocess.run([sys.executable, "/work/main/runs/explore/run.py", *shlex.split(line)], stdout=log, stderr=subprocess.STDOUT)
with ThreadPoolExecutor(jobs) as pool:
    list(pool.map(run, lines))
