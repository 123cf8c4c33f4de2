"""Where data live, and how raw files are fetched: checksummed, atomic, never trusted unverified."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tempfile
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from edgraph.io import atomic_write

REPO_DATA = Path(__file__).resolve().parents[2] / "datasets"


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder raw data files are read from: ``root``, else ``$EDGRAPH_DATA``, else
    ``<repo>/datasets``.

    >>> data_root("/tmp/data")
    PosixPath('/tmp/data')
    """
    if root is not None:
        return Path(root)
    return Path(os.environ.get("EDGRAPH_DATA", REPO_DATA))


def cache_dir() -> Path:
    """The writable folder for processed caches: ``$EDGRAPH_CACHE``, else ``~/.cache/edgraph``.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"EDGRAPH_CACHE": "/tmp/edgraph-cache"}):
    ...     cache_dir()
    PosixPath('/tmp/edgraph-cache')
    """
    return Path(os.environ.get("EDGRAPH_CACHE", Path.home() / ".cache" / "edgraph"))


def read_cache(path: Path) -> bytes | None:
    """The bytes of a processed cache file, or ``None`` when it is missing, damaged or edited: its
    sha256 must match the one recorded beside it (``NAME.sha256``) when it was written.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "graphs.json"
    >>> write_cache(path, b"[1, 2]"); read_cache(path)
    b'[1, 2]'
    >>> _ = path.write_bytes(b"[1, 3]"); read_cache(path) is None
    True
    """
    try:
        data = path.read_bytes()
        recorded = path.with_name(path.name + ".sha256").read_text().strip()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == recorded else None


def write_cache(path: Path, data: bytes) -> None:
    """Write a processed cache file and its sha256, atomically; a read-only cache folder is skipped
    (caching only saves time)."""
    try:
        atomic_write(path, data)
        atomic_write(path.with_name(path.name + ".sha256"), hashlib.sha256(data).hexdigest())
    except OSError:
        pass


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, path: str | os.PathLike, sha256: str, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``path`` if its sha256 matches; nothing is left on disk otherwise.

    The file is streamed to a temporary file beside ``path`` and renamed only after the
    checksum passed, so an interrupted or corrupted download never shows up as the real file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                desc=f"download {path.name}",
                disable=total is None or total < 1 << 20,
            ) as bar:
                for chunk in iter(lambda: response.read(1 << 16), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        if digest.hexdigest() != sha256:
            raise ValueError(
                f"download of {url} is corrupted: sha256 {digest.hexdigest()} != expected {sha256}; nothing was saved"
            )
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def fetch(filename: str, url: str | None, sha256: str, root: str | os.PathLike | None = None) -> Path:
    """Local path of a verified raw file, downloading it when it is not under the data root.

    Looks for ``<root>/<filename>`` and ``<root>/raw/<filename>``. A missing file is downloaded
    from ``url`` to ``<root>/raw/`` (or to the cache folder when the root is read-only).
    A present file whose checksum differs raises ``ValueError``: it is never used or replaced.
    """
    base = data_root(root)
    for candidate in (base / filename, base / "raw" / filename):
        if candidate.is_file():
            actual = sha256_file(candidate)
            if actual != sha256:
                raise ValueError(
                    f"{candidate} is corrupted or a different file: sha256 {actual} != "
                    f"expected {sha256}; delete it to download a fresh copy"
                )
            return candidate
    if url is None:
        raise FileNotFoundError(
            f"{filename} is not under {base} (nor {base / 'raw'}) and has no "
            "download source; put the file there or set EDGRAPH_DATA"
        )
    target = base / "raw" / filename
    if not os.access(_existing_parent(target), os.W_OK):
        target = cache_dir() / "raw" / filename
        if target.is_file() and sha256_file(target) == sha256:
            return target
    try:
        return download(url, target, sha256)
    except OSError as err:  # URLError and timeouts are OSErrors
        raise RuntimeError(
            f"could not download {filename} from {url} ({err}); without network, "
            f"put the file at {base / filename} or set EDGRAPH_DATA to its folder"
        ) from err


def _existing_parent(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


class _ContainerUnpickler(pickle.Unpickler):
    """Unpickler that builds only plain containers: no class other than these can be loaded."""

    ALLOWED = {
        ("collections", "defaultdict"),
        ("builtins", "list"),
        ("builtins", "dict"),
        ("builtins", "set"),
        ("builtins", "tuple"),
    }

    def find_class(self, module: str, name: str) -> type:
        if ({"__builtin__": "builtins"}.get(module, module), name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")
        return super().find_class(module, name)


def load_container_pickle(path: str | os.PathLike) -> object:
    """Unpickle a (checksum-verified) file of dicts/lists only, Python 2 pickles included."""
    data = Path(path).read_bytes()
    return _ContainerUnpickler(io.BytesIO(data), encoding="latin1").load()
