"""How every process of a project is started: the one place that decides what a project process can see.

Every project process (``exec``, the ``latex`` command, Jupyter kernels, anything later) is started from the
argv that ``project_command`` returns, never from a shell string built out of request parameters.

(Interface first; the bubblewrap implementation lands with the hardening work.)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .filesystem import ProjectFilesystem


@dataclass(frozen=True)
class ProjectCommand:
    """What to hand to ``asyncio.create_subprocess_exec`` / ``subprocess.Popen`` to run a project process."""

    argv: list[str]
    cwd: str
    env: dict[str, str] = field(default_factory=dict)


def project_command(fs: ProjectFilesystem, argv: list[str], *, cwd: str = "/home/user",
                    env: dict[str, str] | None = None) -> ProjectCommand:
    """Run ``argv`` as a process of the project ``fs``, in ``cwd`` (a path as the project sees it).

    ``env`` holds the variables the caller wants on top of the project's base environment.
    """
    base = {k: v for k, v in os.environ.items() if not k.startswith("COCALC_")}
    base["HOME"] = str(fs.home)
    return ProjectCommand(argv=list(argv), cwd=str(fs.host_path(cwd)), env={**base, **(env or {})})
