"""Atomic file writes: nothing is ever left half-written, and OS errors are one-line errors.

Every file jsched writes (schedules, instances, checkpoints, datasets, plots) goes through
:func:`atomic_path` (or :func:`write_bytes_atomic` / :func:`write_text_atomic`). Rules:

* **Regular files** (or a path that does not exist yet): the content goes to a temporary file
  ``.tmp-jsched-<host>-<pid>-<random><ext>`` in the destination folder, is flushed to disk
  (``fsync``), then renamed over the destination in one step (``os.replace``), and the folder
  is fsynced so that the rename itself survives a crash.  Readers see the old file or the new
  one, never a torn one.
* **Symlinks** are written through: the file the link points to (after every link in the
  chain) is replaced, and the link itself stays a link.  A dangling link creates its target.
* **FIFOs, character devices and files reached through /dev or /proc** (``/dev/null``,
  ``/dev/stdout`` even when redirected to a file, a named pipe) are never replaced: the content
  is written to a private temporary file elsewhere, then copied into the target in one stream
  (not atomic, as with any pipe); ``/dev/stdout``, ``/dev/stderr`` and ``/dev/fd/N`` go to the
  process's own descriptor, in order with its other output.  Directories, block devices and
  sockets are refused.
* **Permissions**: a new file gets ``0666 & ~umask`` (the creating process's umask, like any
  ``open()``); an existing file keeps its permission bits (not its owner: a rename makes the
  writer the owner).
* **Crash leftovers**: temporary names carry the writer's host and pid; a temporary file of
  ours whose writer process is gone (same host), or any of ours older than a day, is removed on
  the next write into that folder.  Nothing else there is touched.
* **Errors**: an ``OSError`` about the destination (no such folder, a file where a folder should
  be, a directory as target, permission denied, disk full, read-only file system) becomes a
  one-line :class:`~jsched.errors.JSchedError` naming the path.  Missing parent folders are
  created unless ``make_parents=False``.

:func:`check_writable` runs the same checks without writing anything, for commands to call
before a long solve or training run (so that a bad ``--out`` fails in a second, not after an
hour).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import shutil
import socket
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator

from jsched.errors import JSchedError

__all__ = ["TMP_PREFIX", "atomic_path", "check_writable", "write_bytes_atomic", "write_text_atomic"]

TMP_PREFIX = ".tmp-jsched-"
_STALE_SECONDS = 24 * 3600  # a temporary file this old is a crash leftover even if its pid is reused
_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]  # pids mean nothing across hosts


class _Target:
    """Where a write to ``path`` really goes, and how."""

    __slots__ = ("path", "real", "direct", "mode")

    def __init__(self, path: str, real: str, direct: bool, mode: int | None):
        self.path = path  # as the user wrote it (for messages)
        self.real = real  # the file that is replaced (symlinks followed)
        self.direct = direct  # FIFO / character device: written in place, never replaced
        self.mode = mode  # permission bits of an existing regular target, else None


def _err(path: str, what: str) -> JSchedError:
    return JSchedError(f"cannot write {path}: {what}")


def _os_err(path: str, e: OSError) -> JSchedError:
    reason = {
        errno.ENOSPC: "no space left on device (disk full)",
        errno.EDQUOT: "disk quota exceeded",
        errno.EROFS: "read-only file system",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.ENOTDIR: "a file is in the way where a folder is needed",
        errno.EISDIR: "is a directory",
        errno.ENOENT: "no such file or folder",
        errno.ENAMETOOLONG: "file name too long",
        errno.ELOOP: "too many levels of symbolic links",
    }.get(e.errno, e.strerror or str(e))
    return _err(path, reason)


def _resolve(path: str, make_parents: bool) -> _Target:
    """Classify the destination and check its folder; raises JSchedError, writes nothing."""
    if not path:
        raise JSchedError("cannot write to an empty path")
    if path.endswith(("/", os.sep)):
        raise _err(path, "is a folder path (ends with a slash), not a file")
    try:
        st = os.stat(path)  # follows links as the kernel does (also /proc/self/fd/N magic links)
    except (FileNotFoundError, NotADirectoryError):
        st = None  # a missing file, a dangling link, or a file where a folder should be (named below)
    except OSError as e:
        raise _os_err(path, e) from None
    real = os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path)
    if st is not None:
        kind = st.st_mode
        if stat.S_ISDIR(kind):
            raise _err(path, "is a directory")
        if not (stat.S_ISREG(kind) or stat.S_ISFIFO(kind) or stat.S_ISCHR(kind)):
            what = "a block device" if stat.S_ISBLK(kind) else "a socket" if stat.S_ISSOCK(kind) else "not a regular file"
            raise _err(path, f"is {what}; refusing to replace it")
        # FIFOs, devices, and anything reached through /dev or /proc (e.g. /dev/stdout redirected
        # to a file: its link target is no path one could rename over) are written in place.
        special = not stat.S_ISREG(kind) or not os.path.exists(real) or any(
            _in_dev_or_proc(x) for x in (os.path.abspath(path), real)
        )
        if special:
            if not os.access(path, os.W_OK):
                raise _err(path, "permission denied")
            return _Target(path, path, True, None)
    folder = os.path.dirname(real)
    # The nearest existing ancestor must be a writable folder.
    probe, missing = folder, []
    while not os.path.lexists(probe):
        missing.append(probe)
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if os.path.lexists(probe) and not os.path.isdir(probe):
        raise _err(path, f"{probe} is not a folder")
    if missing and not make_parents:
        raise _err(path, f"no such folder {folder}")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise _err(path, f"folder {probe} is not writable" if not missing else f"cannot create {folder} (folder {probe} is not writable)")
    return _Target(path, real, False, None if st is None else stat.S_IMODE(st.st_mode))


def _own_fd(path: str) -> int | None:
    """The descriptor N of /dev/stdout, /dev/stderr, /dev/fd/N or /proc/self/fd/N, else None.

    Reopening such a link would start a new file offset (and truncate a redirected file);
    writing to the descriptor itself keeps the output in order with the process's own."""
    p = os.path.normpath(os.path.abspath(path))
    named = {"/dev/stdout": 1, "/dev/stderr": 2}
    if p in named:
        return named[p]
    for prefix in ("/dev/fd/", "/proc/self/fd/", f"/proc/{os.getpid()}/fd/"):
        if p.startswith(prefix) and p[len(prefix) :].isdigit():
            return int(p[len(prefix) :])
    return None


def _in_dev_or_proc(p: str) -> bool:
    """True under /dev or /proc (fd links such as /dev/stdout), except the /dev/shm file system."""
    return p.startswith(("/dev/", "/proc/")) and not p.startswith("/dev/shm/")


def check_writable(
    path: str | os.PathLike,
    *,
    avoid: Iterable[str | os.PathLike] = (),
    make_parents: bool = True,
) -> str:
    """Check, without writing anything, that an output can later be written to ``path``.

    Raises a one-line JSchedError when ``path`` is a directory, a block device or a socket, when a
    file stands where a folder is needed, when the folder (or the nearest existing ancestor, if
    ``make_parents``) is not writable, or when ``path`` is the same file as one of ``avoid``
    (e.g. the input instance, or another output of the same command). Returns the file that will
    be written (symlinks followed).
    """
    p = os.fspath(path)
    target = _resolve(p, make_parents)
    for other in avoid:
        if other is None:
            continue
        o = os.fspath(other)
        if _same_file(p, o):
            raise JSchedError(f"{p}: output path is the same file as {o}; refusing to overwrite it")
    return target.real


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _cleanup_stale(folder: str) -> None:
    """Remove our crash leftovers in ``folder`` (writer pid gone, or older than a day)."""
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for ent in entries:
        if not ent.name.startswith(TMP_PREFIX):
            continue
        host, _, rest = ent.name[len(TMP_PREFIX) :].partition("-")
        try:
            pid = int(rest.split("-", 1)[0])
        except ValueError:
            continue
        try:
            if not ent.is_file(follow_symlinks=False):
                continue
            old = now - ent.stat(follow_symlinks=False).st_mtime > _STALE_SECONDS
            dead = host == _HOST and pid != os.getpid() and not _pid_alive(pid)
            if old or dead:
                os.unlink(ent.path)
        except OSError:
            continue  # another writer removed it, or we may not: leave it


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _fsync_path(path: str, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    except OSError as e:
        if not directory or e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _new_temp(folder: str, suffix: str) -> str:
    """Create an empty temporary file with mode 0666 & ~umask (O_EXCL: never an existing file)."""
    for _ in range(100):
        tmp = os.path.join(folder, f"{TMP_PREFIX}{_HOST}-{os.getpid()}-{secrets.token_hex(6)}{suffix}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666))
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", folder)  # pragma: no cover


def _ours(e: OSError, tmp: str) -> bool:
    """True when an OSError raised while writing is about our temporary file (or has no file)."""
    return e.filename is None or os.fspath(e.filename) == tmp


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None, *, make_parents: bool = True) -> Iterator[str]:
    """Yield a temporary path to write; on success its content lands at ``path`` (see module doc).

    ``suffix`` defaults to the destination's extension (some writers, e.g. ``np.savez`` or
    matplotlib, choose the format by it). On an exception the temporary file is removed and the
    destination is untouched. OS errors about the destination become one-line JSchedErrors.
    """
    p = os.fspath(path)
    target = _resolve(p, make_parents)
    if suffix is None:
        suffix = os.path.splitext(target.real if not target.direct else p)[1]
    if target.direct:
        with _direct(target, suffix) as tmp:
            yield tmp
        return
    folder = os.path.dirname(target.real)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise _os_err(p, e) from None
    _cleanup_stale(folder)
    try:
        tmp = _new_temp(folder, suffix)
    except OSError as e:
        raise _os_err(p, e) from None
    try:
        try:
            yield tmp
        except OSError as e:
            if _ours(e, tmp):
                raise _os_err(p, e) from None
            raise
        try:
            if target.mode is not None:
                os.chmod(tmp, target.mode)
            _fsync_path(tmp)
            os.replace(tmp, target.real)
        except OSError as e:
            raise _os_err(p, e) from None
        try:
            _fsync_path(folder, directory=True)
        except OSError:
            pass  # the file is complete and in place; only the rename's durability is unknown
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


@contextlib.contextmanager
def _direct(target: _Target, suffix: str) -> Iterator[str]:
    """FIFO / device: write to a private temporary file, then stream it into the target."""
    d = tempfile.mkdtemp(prefix="jsched-out-")
    tmp = os.path.join(d, "out" + suffix)
    try:
        open(tmp, "wb").close()
        try:
            yield tmp
        except OSError as e:
            if _ours(e, tmp):
                raise _err(target.path, f"preparing the output failed: {e.strerror or e}") from None
            raise
        try:
            fd = _own_fd(target.path)
            if fd is None:
                with open(tmp, "rb") as src, open(target.path, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            else:  # /dev/stdout and friends: write at the descriptor's own offset, after what is buffered
                for stream in (sys.stdout, sys.stderr):
                    with contextlib.suppress(Exception):
                        stream.flush()
                with open(tmp, "rb") as src, os.fdopen(os.dup(fd), "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        except OSError as e:
            raise _os_err(target.path, e) from None
    finally:
        shutil.rmtree(d, ignore_errors=True)


def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, make_parents: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (see the module docstring)."""
    with atomic_path(path, make_parents=make_parents) as tmp, open(tmp, "wb") as fh:
        fh.write(data)


def write_text_atomic(path: str | os.PathLike, text: str, *, make_parents: bool = True) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see the module docstring)."""
    with atomic_path(path, make_parents=make_parents) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
