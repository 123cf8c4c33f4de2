#!/bin/bash
# run the queues named as arguments one after another
cd /work/main && . .venv/bin/activate
for q in "$@"; do python runs/explore/jobs.py "$q"; done
