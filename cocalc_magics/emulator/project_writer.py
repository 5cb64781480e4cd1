"""The project's side of writing a file: where CoCalc's project puts the bytes that the hub hands it.

Facts followed (``project/servers/hub/write-text-file-to-project.ts``, ``project/conat/files/write.ts``,
``backend/misc/ensure-containing-directory-exists.ts``):

- A relative path is relative to HOME; missing parent directories are made (mode 0700) first.
- A text file is written in place (``fs.writeFile``: truncate, then write).
- An upload is streamed into ``<path>.partialupload-<random id>`` next to the target and renamed onto the target
  when the last byte has arrived; on failure the partial file is removed.

The emulator adds what a real project gets from its container: nothing may land outside the project's home or
/tmp. The path is checked with ``ProjectFilesystem.host_path`` (which resolves ``..`` and symlinks), and then every
directory on the way is opened relative to its parent with ``O_NOFOLLOW``, so a symlink swapped in after the check
makes the write fail instead of following it out of the project.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
from pathlib import Path

from .errors import PathOutsideProject, PathRefused, ProjectWriteError
from .filesystem import ProjectFilesystem

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE_MODE = 0o666  # Node's default for fs.writeFile / createWriteStream (the umask applies)
# JSON can carry a lone surrogate ("\ud800"); Node's UTF-8 encoder writes U+FFFD for it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _parent_and_name(fs: ProjectFilesystem, path: object) -> tuple[int, str, str]:
    """Make the target's missing parent directories; return an fd on the parent, the file name, the project path.

    The caller closes the fd.
    """
    if not isinstance(path, str):
        # Node's fs functions throw on a non-string path; the project answers with that error.
        raise ProjectWriteError(f'The "path" argument must be of type string. Received {type(path).__name__}')
    if "\0" in path:
        raise ProjectWriteError("The argument 'path' must be a string without null bytes")
    virtual = fs.virtual(path)
    try:
        host = fs.host_path(path)
    except PathOutsideProject as refusal:
        raise PathRefused(str(refusal)) from None
    real = Path(os.path.realpath(host))  # again: a symlink may have been swapped in since host_path looked
    for tree in (fs.home, fs.root / "tmp"):
        tree_real = Path(os.path.realpath(tree))
        if real == tree_real:
            raise ProjectWriteError(f"EISDIR: illegal operation on a directory, open '{virtual}'")
        if real.is_relative_to(tree_real):
            parts = real.relative_to(tree_real).parts
            break
    else:
        raise PathRefused(f"path '{path}' is outside the project")
    directory = os.open(tree_real, _DIRECTORY_FLAGS)
    try:
        for part in parts[:-1]:
            try:
                os.mkdir(part, 0o700, dir_fd=directory)
            except FileExistsError:
                pass
            inner = os.open(part, _DIRECTORY_FLAGS, dir_fd=directory)
            os.close(directory)
            directory = inner
    except OSError as err:
        os.close(directory)
        raise ProjectWriteError(f"{_code(err)}: {err.strerror}, mkdir '{virtual}'") from None
    return directory, parts[-1], virtual


def _code(err: OSError) -> str:
    """Node's error code (``ENOENT``, ``EISDIR`` ...), which starts the project's error messages."""
    return errno.errorcode.get(err.errno or 0, "EIO")


def write_text_file(fs: ProjectFilesystem, path: object, content: object) -> None:
    """``write_text_file_to_project``: mkdir -p the parent, then write ``content`` (a string) as UTF-8."""
    if not isinstance(content, str):
        raise ProjectWriteError('The "data" argument must be of type string or an instance of Buffer, TypedArray, '
                                f"or DataView. Received {type(content).__name__}")
    directory, name, virtual = _parent_and_name(fs, path)
    try:
        handle = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC,
                         _NEW_FILE_MODE, dir_fd=directory)
        with os.fdopen(handle, "wb") as out:
            out.write(_LONE_SURROGATE.sub("\ufffd", content).encode("utf-8"))
    except OSError as err:
        raise ProjectWriteError(f"{_code(err)}: {err.strerror}, open '{virtual}'") from None
    finally:
        os.close(directory)


class PartialFile:
    """A file being uploaded: bytes go to ``<target>.partialupload-<id>``, renamed onto the target at the end."""

    def __init__(self, fs: ProjectFilesystem, path: object):
        self.directory, self.name, self.virtual = _parent_and_name(fs, path)
        self.partial_name = f"{self.name}.partialupload-{secrets.token_hex(6)}"
        self.size = 0
        try:
            handle = os.open(self.partial_name,
                             os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                             _NEW_FILE_MODE, dir_fd=self.directory)
        except OSError as err:
            os.close(self.directory)
            raise ProjectWriteError(f"{_code(err)}: {err.strerror}, open '{self.virtual}'") from None
        self._out = os.fdopen(handle, "wb")

    def append(self, data: bytes) -> None:
        try:
            self._out.write(data)
        except OSError as err:
            self.discard()
            raise ProjectWriteError(f"{_code(err)}: {err.strerror}, write '{self.virtual}'") from None
        self.size += len(data)

    def finish(self) -> None:
        """Close the partial file and rename it onto the target (``stream.emit("rename")``)."""
        try:
            self._out.close()
            os.replace(self.partial_name, self.name, src_dir_fd=self.directory, dst_dir_fd=self.directory)
        except OSError as err:
            self.discard()
            raise ProjectWriteError(f"{_code(err)}: {err.strerror}, rename '{self.virtual}'") from None
        os.close(self.directory)
        self.directory = -1

    def discard(self) -> None:
        """Remove the partial file (``stream.emit("remove")``); safe to call more than once."""
        if self.directory < 0:
            return
        self._out.close()
        try:
            os.unlink(self.partial_name, dir_fd=self.directory)
        except FileNotFoundError:
            pass
        finally:
            os.close(self.directory)
            self.directory = -1
