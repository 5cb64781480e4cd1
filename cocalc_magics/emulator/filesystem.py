"""Each emulated project is a directory under the data dir holding a small fake root.

Inside a CoCalc project HOME is ``/home/user``; relative paths are relative to HOME and
absolute ones (``/tmp/d.tex``) are absolute in the project's container. Here the
container is ``DATA/projects/<project_id>/``, so ``/tmp/d.tex`` lives at
``DATA/projects/<project_id>/tmp/d.tex``.

A CoCalc user can only write under HOME and ``/tmp``; the emulator allows exactly those
two trees and refuses any path param that leaves them after resolving ``..`` and
symlinks, so an API call can never make the emulator touch a file outside the project.
Processes of the project (``exec``, latex) run under bubblewrap (see ``sandbox``) and see
the same two trees, at the same paths, and nothing writable besides.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import stat
from pathlib import Path

from .errors import PathOutsideProject

HOME = "/home/user"
_WRITABLE_TREES = (HOME, "/tmp")


class ProjectFilesystem:
    def __init__(self, projects_dir: Path, project_id: str):
        self.root = Path(projects_dir) / project_id
        self.home = self.root / HOME.lstrip("/")

    def ensure(self) -> None:
        if not self.root.exists():
            self.root.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.root.mkdir(mode=0o700, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)

    def virtual(self, path: str) -> str:
        """The path as the project sees it: absolute, normalised, relative ones under HOME."""
        joined = path if path.startswith("/") else posixpath.join(HOME, path)
        return posixpath.normpath(joined) if joined else HOME

    def host_path(self, path: str) -> Path:
        """Where ``path`` (as the project sees it) lives on this machine; refuses escapes."""
        self.ensure()
        virtual = self.virtual(path)
        if not any(virtual == tree or virtual.startswith(tree + "/") for tree in _WRITABLE_TREES):
            raise PathOutsideProject(self._refusal(path))
        candidate = self.root / virtual.lstrip("/")
        resolved = os.path.realpath(candidate)
        allowed = [os.path.realpath(self.root / tree.lstrip("/")) for tree in _WRITABLE_TREES]
        if not any(resolved == tree or resolved.startswith(tree + os.sep) for tree in allowed):
            raise PathOutsideProject(self._refusal(path))
        return Path(candidate)

    def open_in_project(self, path: str, flags: int, mode: int = 0o666, make_parents: bool = False) -> int:
        """Open ``path`` (as the project sees it) as a regular file, following no symlink on the way.

        A project process may swap a directory for a symlink (or a file for a FIFO) at any moment, so checking
        a host path and then opening it could land outside the project or block the IOLoop: each component is
        opened relative to the last one with O_NOFOLLOW, and the file non-blocking.
        """
        virtual = self.virtual(path)
        tree = next((t for t in _WRITABLE_TREES if virtual == t or virtual.startswith(t + "/")), None)
        if tree is None:
            raise PathOutsideProject(self._refusal(path))
        self.ensure()
        parts = virtual.strip("/").split("/")
        made_by_emulator = len(tree.strip("/").split("/"))  # home/user and tmp: the project cannot swap those
        directory = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for index, part in enumerate(parts[:-1]):
                if make_parents and index >= made_by_emulator:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, 0o777, dir_fd=directory)
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=directory)
                os.close(directory)
                directory = inner
            fd = os.open(parts[-1], flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode, dir_fd=directory)
        finally:
            os.close(directory)
        if not (flags & os.O_DIRECTORY) and not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise OSError(f"'{virtual}' is not a regular file")
        return fd

    @staticmethod
    def _refusal(path: str) -> str:
        return (f"path '{path}' is outside the project: the emulator only allows paths "
                f"under {HOME} (relative paths start there) and /tmp")
