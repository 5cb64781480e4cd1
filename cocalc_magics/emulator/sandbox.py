"""How every process of a project is started: the one place that decides what a project process can see.

Every project process (``exec``, the ``latex`` command, Jupyter kernels, anything later) is started from the
argv that ``project_command`` returns, never from a shell string built out of request parameters.

CoCalc runs each project in its own container. The emulator runs on the user's own machine, often as root,
next to their real API key, so it does the same in spirit with **bubblewrap** (``bwrap``):

- the project's directory is the whole writable world: its ``home/user`` is bound at ``/home/user`` and its
  ``tmp`` at ``/tmp``; nothing else of the host is writable;
- the system is bound read-only, and only the parts programs need (``/usr``, ``/bin``, ``/lib*``, ``/sbin``,
  TeX's ``/var/lib/texmf``, a few ``/etc`` entries for TeX, fonts and the dynamic linker, and the Python
  installation so a kernel can run); ``/root``, ``/home``, the emulator's data dir and other projects are
  simply not there; ``/etc/passwd`` and ``/etc/group`` are synthetic one-liners;
- ``--unshare-all`` (no network, own PID/IPC/UTS namespaces), a fresh ``/proc`` that shows only the sandbox's
  own processes (so not ``/proc/<emulator pid>/environ``), a minimal ``/dev``, ``--new-session`` (no TIOCSTI
  into the emulator's terminal) and ``--die-with-parent`` (a SIGKILLed emulator leaves no project process);
- the environment is built from scratch (nothing of the emulator's own environment is passed on);
- ``prlimit`` caps the size of any file a project process writes (``RLIMIT_FSIZE``), so a runaway document
  cannot fill the disk with its ``.log``.

TeX's own walls are a second layer in every project process's environment (``openin_any=p``,
``openout_any=p``: no absolute paths, no ``..``, no dot files; ``shell_escape=f``: no ``\\write18``).

With no network inside, a Jupyter kernel started here must use ZMQ's ``ipc`` transport with its sockets in
the project's /tmp (``"transport": "ipc", "ip": "/tmp/kernel"`` in the connection file the kernel reads; the
host side connects to the same sockets under ``fs.root / "tmp"``) — checked with ``ipykernel_launcher``.

Where bubblewrap is missing or fails its self-test (macOS, no user namespaces), ``SANDBOX.available`` is
false: the emulator says so in one line at start, keeps the TeX walls and the limits, and refuses ``exec``
and custom latex commands unless ``--allow-unsandboxed-exec`` was given.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .filesystem import HOME, ProjectFilesystem

log = logging.getLogger("cocalc_magics.emulator")

MAX_FILE_BYTES = 64 * 1024 * 1024  # RLIMIT_FSIZE of project processes: far above any real .log or PDF
TEX_WALLS = {"openin_any": "p", "openout_any": "p", "shell_escape": "f"}
# What a project process sees of the host's /etc: TeX's configuration, fonts, the dynamic linker, the
# alternatives symlinks Debian's TeX binaries go through, time zone and locale data. No passwd, no shadow.
_ETC_ENTRIES = ("texmf", "fonts", "alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime",
                "papersize", "paperspecs", "LatexMk", "latexmkrc", "perl", "mime.types", "locale.alias",
                "nsswitch.conf")
_SYSTEM_TREES = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/var/lib/texmf")


@dataclass(frozen=True)
class ProjectCommand:
    """What to hand to ``asyncio.create_subprocess_exec`` / ``subprocess.Popen`` to run a project process.

    ``cwd`` is a host directory that exists (the sandbox changes into the project's own cwd itself).
    Start it with ``start_new_session=True`` so a limit can kill its whole process group.
    """

    argv: list[str]
    cwd: str
    env: dict[str, str] = field(default_factory=dict)


class Sandbox:
    """Whether project processes run under bubblewrap; decided once at start by ``Sandbox.probe``."""

    def __init__(self) -> None:
        self.bwrap: str | None = None
        self.checked = False
        self._identity: Path | None = None

    @property
    def available(self) -> bool:
        return self.bwrap is not None

    def probe(self, work_dir: Path) -> str | None:
        """Find bwrap and check that it runs a process here; the reason it cannot, or None when it can."""
        self.checked = True
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            return "bubblewrap (bwrap) is not installed"
        self._identity = _write_identity(work_dir)
        self.bwrap = bwrap
        with tempfile.TemporaryDirectory(dir=work_dir) as scratch:
            fs = ProjectFilesystem(Path(scratch), "self-test")
            command = project_command(fs, ["true"])
            try:
                done = subprocess.run(command.argv, cwd=command.cwd, env=command.env, capture_output=True,
                                      timeout=20, check=False)
            except (OSError, subprocess.TimeoutExpired) as err:
                self.bwrap = None
                return f"bubblewrap does not start: {err}"
        if done.returncode != 0:
            self.bwrap = None
            first_line = done.stderr.decode(errors="replace").strip().splitlines()[:1]
            return f"bubblewrap fails its self-test ({first_line[0] if first_line else done.returncode})"
        return None

    def wrap(self, fs: ProjectFilesystem, argv: list[str], cwd: str, env: dict[str, str]) -> list[str]:
        """bwrap's argv; ``env`` (the caller's variables) is set only inside, never on the host-side wrappers."""
        assert self.bwrap is not None
        args = [self.bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--proc", "/proc",
                "--dev", "/dev", "--tmpfs", "/run", "--dir", "/var/tmp"]
        for tree in _SYSTEM_TREES:
            args += _ro_bind(tree)
        for entry in _ETC_ENTRIES:
            args += _ro_bind(os.path.join("/etc", entry))
        assert self._identity is not None
        args += ["--ro-bind", str(self._identity / "passwd"), "/etc/passwd",
                 "--ro-bind", str(self._identity / "group"), "/etc/group"]
        args += ["--bind", str(fs.home), HOME, "--bind", str(fs.root / "tmp"), "/tmp"]
        # After the project's /tmp: a venv that lives under the host's /tmp (a fresh clone there, CI) must be
        # mounted on top of the project's /tmp, not hidden by it. Its mount point is made here, private like
        # the rest of the project (bwrap would make it world-readable).
        for tree in _python_trees():
            for inside, host in (("/tmp", fs.root / "tmp"), (HOME, fs.home)):
                if tree.startswith(inside + "/"):
                    (host / tree[len(inside) + 1:]).mkdir(mode=0o700, parents=True, exist_ok=True)
            args += _ro_bind(tree)
        args += ["--chdir", cwd]
        for name, value in env.items():
            args += ["--setenv", name, value]
        return [*args, "--", *argv]


SANDBOX = Sandbox()


def _ro_bind(path: str) -> list[str]:
    if os.path.islink(path):
        return ["--symlink", os.readlink(path), path]
    if os.path.exists(path):
        return ["--ro-bind", path, path]
    return []


def _python_trees() -> list[str]:
    """The Python installation and the venv, so ``python -m ipykernel_launcher`` runs inside (read-only)."""
    trees = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)}
    system = ("/usr", "/bin", "/lib", "/lib64", "/sbin")
    return sorted(t for t in trees if not any(t == s or t.startswith(s + "/") for s in system))


def _write_identity(work_dir: Path) -> Path:
    """Synthetic ``/etc/passwd`` and ``/etc/group``: the project's one user, HOME /home/user."""
    identity = work_dir / "sandbox-etc"
    identity.mkdir(mode=0o700, parents=True, exist_ok=True)
    uid, gid = os.getuid(), os.getgid()
    (identity / "passwd").write_text(f"user:x:{uid}:{gid}:CoCalc project user:{HOME}:/bin/bash\n"
                                     "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    (identity / "group").write_text(f"user:x:{gid}:\nnogroup:x:65534:\n")
    return identity


def path_seen_by_project(fs: ProjectFilesystem, path: str) -> str:
    """How a project process names ``path`` (as the project sees it): itself in the sandbox, else its host path."""
    return fs.virtual(path) if SANDBOX.available else str(fs.host_path(path))


def project_env(fs: ProjectFilesystem, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A project process's environment, built from nothing: the emulator's own variables never pass on."""
    sandboxed = SANDBOX.available
    venv_bin = os.path.join(sys.prefix, "bin")
    env = {
        "PATH": f"{venv_bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": HOME if sandboxed else str(fs.home),
        "TMPDIR": "/tmp" if sandboxed else str(fs.root / "tmp"),
        "USER": "user", "LOGNAME": "user", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        **TEX_WALLS,
    }
    env.update(extra or {})
    return env


def project_command(fs: ProjectFilesystem, argv: list[str], *, cwd: str = "/home/user",
                    env: dict[str, str] | None = None) -> ProjectCommand:
    """Run ``argv`` as a process of the project ``fs``, in ``cwd`` (a path as the project sees it).

    ``env`` holds the variables the caller wants on top of the project's base environment. ``cwd`` must be
    inside the project (``fs.host_path`` refuses anything else).
    """
    host_cwd = fs.host_path(cwd)
    # Names a process environment cannot hold are dropped rather than passed to execve.
    extra = {k: v for k, v in (env or {}).items() if k and "=" not in k and "\0" not in k + v}
    prlimit = shutil.which("prlimit")  # util-linux; where it is missing, files are not capped
    limited = [prlimit, f"--fsize={MAX_FILE_BYTES}", "--"] if prlimit else []
    if SANDBOX.available:
        # The caller's variables (a request's exec env) go in through --setenv: LD_PRELOAD and friends must
        # never reach prlimit and bwrap, which run on the host.
        argv = limited + SANDBOX.wrap(fs, argv, fs.virtual(cwd), extra)
        return ProjectCommand(argv=argv, cwd=str(fs.home), env=project_env(fs))
    return ProjectCommand(argv=limited + list(argv), cwd=str(host_cwd), env=project_env(fs, extra))
