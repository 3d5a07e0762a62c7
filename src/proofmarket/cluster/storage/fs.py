"""Filesystem backends: the embedded default that needs no service running.

Writes go to a temporary file in the same directory and are renamed into place, so a
reader never sees a half-written object even when agents run as separate processes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import ClassVar

from proofmarket.cluster.storage.errors import InvalidKey, ObjectMissing


def _safe_parts(key: str, separators: str) -> list[str]:
    parts = [key]
    for sep in separators:
        parts = [p for part in parts for p in part.split(sep)]
    if not key or any(p in ("", ".", "..") for p in parts) or "\\" in key or "\0" in key:
        raise InvalidKey(f"invalid storage key: {key!r}")
    return parts


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read(path: Path, key: str) -> bytes:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise ObjectMissing(key) from None


class _FsStore:
    """A directory of files, one per key; subclasses pick the key separators."""

    separators: ClassVar[str]

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*_safe_parts(key, self.separators))

    def put(self, key: str, data: bytes) -> None:
        _atomic_write(self._path(key), data)

    def get(self, key: str) -> bytes:
        return _read(self._path(key), key)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.root)!r})"


class FsObjectStore(_FsStore):
    """Object store rooted at a directory; key ``a/b/c`` is the file ``root/a/b/c``."""

    separators = "/"

    def delete(self, key: str) -> bool:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            return False
        return True


class FsSegmentStore(_FsStore):
    """Segment store rooted at a directory; ``job:{id}:segments:3`` → ``job/{id}/segments/3``."""

    separators = ":/"

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def _job_dir(self, job_id: str) -> Path:
        return self.root.joinpath("job", *_safe_parts(job_id, ":/"))

    def delete_job(self, job_id: str) -> int:
        job_dir = self._job_dir(job_id)
        if not job_dir.is_dir():
            return 0
        count = sum(1 for p in job_dir.rglob("*") if p.is_file())
        shutil.rmtree(job_dir, ignore_errors=True)
        return count

    def purge_older_than(self, age_secs: float) -> int:
        jobs_dir = self.root / "job"
        if not jobs_dir.is_dir():
            return 0
        cutoff = time.time() - age_secs
        removed = 0
        for job_dir in jobs_dir.iterdir():
            files = [p for p in job_dir.rglob("*") if p.is_file()]
            newest = max((p.stat().st_mtime for p in files), default=job_dir.stat().st_mtime)
            if newest < cutoff:
                removed += self.delete_job(job_dir.name)
        return removed
