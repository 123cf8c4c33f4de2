import shlex, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
def run(line):
    with open(__file__.rsplit("/", 1)[0] + "/log.txt", "a") as log:
        subprocess.run([sys.executable, __file__.rsplit("/", 1)[0] + "/run.py", *shlex.split(line)], stdout=log, stderr=subprocess.STDOUT)
with ThreadPoolExecutor(jobs) as pool:
    list(pool.map(run, lines))
