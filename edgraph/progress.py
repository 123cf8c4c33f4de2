"""Progress reports on stderr: a live bar on a terminal, a plain line every so often elsewhere.

A bar redrawn with carriage returns fills a log file or a pipe with frames, so when stderr is not
a terminal the same progress is printed as about ten lines instead.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

from tqdm.auto import tqdm

#: Lines printed over a whole loop when stderr is not a terminal.
LINES_PER_LOOP = 10


def progress_range(steps: int, desc: str, enabled: bool = True) -> Iterator[int]:
    """``range(steps)`` that reports progress on stderr when ``enabled``.

    >>> list(progress_range(3, "demo", enabled=False))
    [0, 1, 2]
    """
    if not enabled or steps <= 0:
        yield from range(steps)
    elif sys.stderr.isatty():
        yield from tqdm(range(steps), desc=desc, unit="step", leave=False)
    else:
        every = max(1, steps // LINES_PER_LOOP)
        start = time.perf_counter()
        for step in range(steps):
            yield step
            if (step + 1) % every == 0 or step + 1 == steps:
                print(
                    f"{desc}: step {step + 1}/{steps} ({time.perf_counter() - start:.1f} s)",
                    file=sys.stderr,
                    flush=True,
                )
