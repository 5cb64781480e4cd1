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

import os
import posixpath
from pathlib import Path

HOME = "/home/user"
_WRITABLE_TREES = (HOME, "/tmp")


class PathOutsideProject(Exception):
    """A path param that would leave the project's home or /tmp."""


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

    @staticmethod
    def _refusal(path: str) -> str:
        return (f"path '{path}' is outside the project: the emulator only allows paths "
                f"under {HOME} (relative paths start there) and /tmp")
