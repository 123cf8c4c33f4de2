"""Crash-safe files shared by datasets, samples, checkpoints and runs: atomic writes and run locks."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: Name of the file inside a run directory that records which process holds its lock.
LOCK_FILE = ".lock"


def atomic_write(path: str | os.PathLike, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    An interruption leaves either the old file or the new one, never a half-written file; the
    temporary files of writers that died before their rename are removed by the next write to
    the same path. The file gets the permissions of an ordinary new file under the umask.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> atomic_write(target, "hello"); target.read_text()
    'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphans(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process umask, read without changing it where the system tells (Linux), else set back at once."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def _remove_orphans(path: Path) -> None:
    """Delete ``.NAME.PID.*.tmp`` files beside ``path`` whose writing process no longer runs."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)\.[^.]+\.tmp$")
    for tmp in path.parent.iterdir() if path.parent.is_dir() else ():
        match = pattern.match(tmp.name)
        if match and not _alive(int(match.group(1))):
            tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


#: Largest JSON file read at once unless told otherwise (parsed JSON takes tens of times its size in memory).
MAX_JSON_BYTES = 64 << 20


def read_json(path: str | os.PathLike, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """The parsed content of a JSON file, refusing (before reading it) a file over ``max_bytes``;
    a ``ValueError`` names the file.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> _ = path.write_text('{"graphs": []}'); read_json(path)
    {'graphs': []}
    """
    size = Path(path).stat().st_size
    if size > max_bytes:
        raise ValueError(f"{path} is {size:,} bytes, more than the {max_bytes:,} bytes read at once; split it")
    try:
        return json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from None


def read_json_mapping(path: str | os.PathLike, max_bytes: int = 1 << 20) -> dict[str, Any]:
    """A JSON file that must hold an object with string keys (a config), read up to ``max_bytes``;
    a ``ValueError`` names the file and what is wrong with it.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "config.json"
    >>> _ = path.write_text("[1, 2]"); read_json_mapping(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ... must hold a JSON object of option: value, not a list
    """
    return check_mapping(read_json(path, max_bytes), str(path))


def check_mapping(values: object, source: str) -> dict[str, Any]:
    """``values`` if it is a mapping with string keys, else a ``ValueError`` naming ``source``."""
    if not isinstance(values, dict):
        raise ValueError(f"{source} must hold a JSON object of option: value, not a {type(values).__name__}")
    bad = [key for key in values if not isinstance(key, str)]
    if bad:
        raise ValueError(f"{source} has option names that are not strings: {bad[:5]}")
    return values


@contextmanager
def run_lock(run_dir: str | os.PathLike) -> Iterator[None]:
    """Hold the exclusive lock of a run directory (created if needed) while the block runs.

    The lock is taken on the directory itself, so deleting or replacing files inside it cannot
    break it; ``.lock`` records the holder's PID for the message another process gets. A second
    process, or thread, asking for the lock fails at once with a ``RuntimeError`` naming that
    PID; a lock whose process died is free again (the kernel releases it), so a killed run never
    blocks the next one.

    >>> import tempfile
    >>> run = tempfile.mkdtemp()
    >>> with run_lock(run):
    ...     print("one writer")
    one writer
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(run_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        os.close(fd)
        if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise
        try:
            holder = (run_dir / LOCK_FILE).read_text().strip() or "unknown"
        except OSError:
            holder = "unknown"
        raise RuntimeError(
            f"{run_dir} is in use by another edgraph process (PID {holder}); wait for it to finish or choose "
            "another --out"
        ) from None
    try:
        atomic_write(run_dir / LOCK_FILE, str(os.getpid()))
        yield
    finally:
        os.close(fd)  # closing releases the lock
