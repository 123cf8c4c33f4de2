#!/bin/bash
# pulls "ds seed" lines from /tmp/diag/strat/jobs until none are left
cd /work/snap
while true; do
  job=$(flock /tmp/diag/strat/jobs.lock bash -c 'l=$(head -1 /tmp/diag/strat/jobs); [ -n "$l" ] && sed -i 1d /tmp/diag/strat/jobs; echo "$l"')
  [ -z "$job" ] && break
  set -- $job
  OMP_NUM_THREADS=1 /work/main/.venv/bin/python /tmp/diag/strat/strat.py $1 $2 > /tmp/diag/strat/log_$1_$2.txt 2>&1
done
