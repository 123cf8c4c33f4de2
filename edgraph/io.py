"""Crash-safe files shared by datasets, samples, checkpoints and runs: atomic writes and run locks."""

from __future__ import annotations

import errno
import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Name of the lock file inside a run directory.
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
    current = os.umask(0)
    os.umask(current)
    return current


def _remove_orphans(path: Path) -> None:
    """Delete ``.NAME.PID.*.tmp`` files beside ``path`` whose writing process no longer runs."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        pid = tmp.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_held: dict[Path, tuple[int, int]] = {}  # run directory -> (open lock file, nesting depth) of this process


@contextmanager
def run_lock(run_dir: str | os.PathLike) -> Iterator[None]:
    """Hold the exclusive lock of a run directory (created if needed) while the block runs.

    A second process asking for the same lock fails at once with a ``RuntimeError`` naming the
    holder's PID; a lock whose process died is free again (the kernel releases it), so a
    killed run never blocks the next one. The same process may nest the lock.

    >>> import tempfile
    >>> run = tempfile.mkdtemp()
    >>> with run_lock(run), run_lock(run):
    ...     print("one writer")
    one writer
    """
    run_dir = Path(run_dir).resolve()
    if run_dir in _held:
        fd, depth = _held[run_dir]
        _held[run_dir] = (fd, depth + 1)
        try:
            yield
        finally:
            _held[run_dir] = (fd, depth)
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise RuntimeError(
                f"{run_dir} is in use by another edgraph process (PID {holder}); wait for it to "
                "finish or choose another --out"
            ) from None
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    _held[run_dir] = (fd, 1)
    try:
        yield
    finally:
        del _held[run_dir]
        os.close(fd)  # closing releases the lock
