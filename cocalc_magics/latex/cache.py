"""A content-addressed cache of LaTeX compiles: an unchanged cell shows its result again without compiling.

The key is a SHA-256 over everything that decides the output: the host, the project, the command, the document's
text and the content (SHA-256) of every file sent with it. The value is the :class:`~cocalc_magics.models.LatexResult`
fields and the PDF's bytes, so nothing needs the server (CoCalc's blob URL expires after a day anyway).

Two levels: in memory for the kernel (bounded in entries and bytes), and on disk in the user's cache directory
(``$XDG_CACHE_HOME/cocalc-magics/latex/``, else ``~/.cache/cocalc-magics/latex/``), bounded in total size with the
least recently used entries removed first; directories are 0700 and files 0600. Nothing holding the API key is
ever written: the key of an entry is a hash, and a result holds only what the compile returned.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import models
from ..errors import CoCalcError
from ..models import LatexResult

# Bump when the stored layout or the meaning of a key changes: old entries are then simply never found.
CACHE_FORMAT = 2  # 2: results carry their parsed warnings
DEFAULT_DISK_BYTES = 256 * 1024 * 1024
DEFAULT_MEMORY_BYTES = 64 * 1024 * 1024
DEFAULT_MEMORY_ENTRIES = 64
_KEY = re.compile(r"^[0-9a-f]{64}$")


def default_cache_directory() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "cocalc-magics" / "latex"


def cache_key(host: str, project_id: str | None, command: str | None, content: str,
              files: Iterable[tuple[str, str]] = ()) -> str:
    """The key of a compile: ``files`` are (name as the document uses it, sha256 of its content) pairs."""
    parts = {"format": CACHE_FORMAT, "host": host.rstrip("/"), "project_id": project_id, "command": command,
             "content": content, "files": sorted(set(files))}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8", "surrogateescape")).hexdigest()


def _encode(result: LatexResult) -> dict:
    """The public fields of a result as JSON; lists of dataclasses (errors, warnings) keep their type's name.

    Private fields and those left out of comparisons (the PDF fetcher: a live object of this kernel) are not
    part of what a compile made, so they are not stored."""
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(result):
        if field.name.startswith("_") or not field.compare:
            continue
        value = getattr(result, field.name)
        if isinstance(value, list) and value and dataclasses.is_dataclass(value[0]):
            value = {"type": type(value[0]).__name__, "items": [dataclasses.asdict(item) for item in value]}
        fields[field.name] = value
    return fields


def _decode(fields: dict, pdf: bytes | None) -> LatexResult:
    known = {field.name for field in dataclasses.fields(LatexResult)}
    values = {}
    for name, value in fields.items():
        if name not in known:
            continue  # a field an older version of the package had
        if isinstance(value, dict) and set(value) == {"type", "items"}:
            item_type = getattr(models, str(value["type"]), None)
            if not (isinstance(item_type, type) and dataclasses.is_dataclass(item_type)):
                raise TypeError(f"{value['type']!r} is not a result type")  # only models' dataclasses are made
            value = [item_type(**item) for item in value["items"]]
        values[name] = value
    return LatexResult(**values, _pdf=pdf)


class LatexCache:
    """The cache: ``get`` a result by key (None on a miss, or with ``force``), ``put`` one after a compile."""

    def __init__(self, directory: Path | None = None, *, disk_bytes: int = DEFAULT_DISK_BYTES,
                 memory_bytes: int = DEFAULT_MEMORY_BYTES, memory_entries: int = DEFAULT_MEMORY_ENTRIES,
                 use_disk: bool = True):
        self.directory = Path(directory) if directory else default_cache_directory()
        self.disk_bytes = disk_bytes
        self.memory_bytes = memory_bytes
        self.memory_entries = memory_entries
        self.use_disk = use_disk
        self._memory: OrderedDict[str, tuple[dict, bytes | None]] = OrderedDict()
        self._memory_size = 0
        self._lock = threading.Lock()

    def get(self, key: str, *, force: bool = False) -> LatexResult | None:
        """The stored result for ``key``; ``force`` (``--force``) always misses, so the cell compiles again."""
        if force or not _KEY.match(key):
            return None
        with self._lock:
            entry = self._memory.get(key)
            if entry is not None:
                self._memory.move_to_end(key)
        if entry is None and self.use_disk:
            entry = self._read_disk(key)
            if entry is None:
                return None
            try:
                result = _decode(*entry)
            except (TypeError, ValueError, AttributeError):
                self._drop_disk(key)  # written by another version of the package, or altered: compile again
                return None
            self._remember(key, *entry)
            return result
        return None if entry is None else _decode(*entry)

    def put(self, key: str, result: LatexResult) -> None:
        """Store ``result`` and its PDF (downloaded now if it was not yet) under ``key``.

        A PDF that cannot be downloaded is not stored (the viewer shows that error): the next run compiles."""
        if not _KEY.match(key):
            raise ValueError("a cache key is a SHA-256 hex digest (see cache_key)")
        try:
            pdf = result.pdf
        except CoCalcError as error:
            result.pdf_problem = f"{type(error).__name__}: {error}"
            return
        fields = _encode(result)
        self._remember(key, fields, pdf)
        if self.use_disk:
            self._write_disk(key, fields, pdf)

    def clear(self) -> None:
        with self._lock:
            self._memory.clear()
            self._memory_size = 0
        if self.use_disk and self.directory.is_dir():
            for entry in self.directory.glob("*.entry"):
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()

    # -- memory ------------------------------------------------------------------------------------------------

    def _remember(self, key: str, fields: dict, pdf: bytes | None) -> None:
        size = len(pdf or b"") + 1024
        if size > self.memory_bytes:
            return
        with self._lock:
            old = self._memory.pop(key, None)
            if old is not None:
                self._memory_size -= len(old[1] or b"") + 1024
            self._memory[key] = (fields, pdf)
            self._memory_size += size
            while len(self._memory) > self.memory_entries or self._memory_size > self.memory_bytes:
                _, (_, dropped) = self._memory.popitem(last=False)
                self._memory_size -= len(dropped or b"") + 1024

    # -- disk: one file per entry, a JSON header line then the PDF's bytes ------------------------------------

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.entry"

    def _read_disk(self, key: str) -> tuple[dict, bytes | None] | None:
        path = self._path(key)
        try:
            with open(path, "rb") as handle:
                header = json.loads(handle.readline(1 << 22))
                pdf = handle.read() if header["pdf_sha256"] else None
            if header["format"] != CACHE_FORMAT or header["key"] != key:
                return None
            if pdf is not None and hashlib.sha256(pdf).hexdigest() != header["pdf_sha256"]:
                raise ValueError("the PDF does not match its digest")  # a partial or altered entry
            os.utime(path)  # used now: the last to be evicted
            return header["fields"], pdf
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            self._drop_disk(key)
            return None

    def _drop_disk(self, key: str) -> None:
        with contextlib.suppress(OSError):
            self._path(key).unlink()

    def _write_disk(self, key: str, fields: dict, pdf: bytes | None) -> None:
        header = {"format": CACHE_FORMAT, "key": key, "fields": fields,
                  "pdf_sha256": hashlib.sha256(pdf).hexdigest() if pdf is not None else None}
        data = json.dumps(header).encode("utf-8", "surrogateescape") + b"\n" + (pdf or b"")
        if len(data) > self.disk_bytes:
            return
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.directory, 0o700)
            temporary = self.directory / f".{key}.{os.getpid()}.{threading.get_ident()}.tmp"
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, self._path(key))  # readers in other kernels see all of it or none
        except OSError:
            return  # a cache that cannot write (read-only home, full disk) only costs a compile
        self._evict_disk()

    def _evict_disk(self) -> None:
        entries = []
        for path in self.directory.glob("*.entry"):
            with contextlib.suppress(FileNotFoundError):
                stat = path.stat()
                entries.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.disk_bytes:
                break
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            total -= size


_default_cache: LatexCache | None = None


def get_default_cache() -> LatexCache:
    """The kernel's cache, made on first use."""
    global _default_cache
    if _default_cache is None:
        _default_cache = LatexCache()
    return _default_cache
