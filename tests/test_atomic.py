"""The atomic output helper: symlinks, FIFOs, devices, permissions, fsync, crash leftovers, errors."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import threading
import time

import pytest

import jsched.atomic as atomic
from jsched.atomic import TMP_PREFIX, atomic_path, check_writable, write_bytes_atomic, write_text_atomic
from jsched.errors import JSchedError


def _one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert "\n" not in msg and msg
    return msg


def _temps(folder) -> list[str]:
    return [n for n in os.listdir(folder) if n.startswith(".tmp")]


@pytest.fixture
def umask():
    old = os.umask(0o022)
    os.umask(old)

    def set_(m):
        os.umask(m)

    yield set_
    os.umask(old)


def test_round_trip_and_no_temp_left(tmp_path):
    write_text_atomic(tmp_path / "a.json", "héllo\n")
    write_bytes_atomic(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "a.json").read_text(encoding="utf-8") == "héllo\n"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert _temps(tmp_path) == []


def test_new_file_mode_follows_umask(tmp_path, umask):
    umask(0o077)
    write_text_atomic(tmp_path / "private.json", "{}")
    assert stat.S_IMODE(os.stat(tmp_path / "private.json").st_mode) == 0o600
    umask(0o022)
    write_text_atomic(tmp_path / "public.json", "{}")
    assert stat.S_IMODE(os.stat(tmp_path / "public.json").st_mode) == 0o644
    umask(0o002)
    with atomic_path(tmp_path / "plot.png") as tmp, open(tmp, "wb") as fh:  # a third-party writer
        fh.write(b"png")
    assert stat.S_IMODE(os.stat(tmp_path / "plot.png").st_mode) == 0o664


def test_existing_file_keeps_its_mode(tmp_path, umask):
    f = tmp_path / "keep.txt"
    f.write_text("old")
    os.chmod(f, 0o640)
    umask(0o000)
    write_text_atomic(f, "new")
    assert f.read_text() == "new" and stat.S_IMODE(os.stat(f).st_mode) == 0o640


def test_writes_through_symlink_chain(tmp_path):
    real = tmp_path / "data" / "real.json"
    real.parent.mkdir()
    real.write_text("old")
    (tmp_path / "link1").symlink_to(real)
    (tmp_path / "link2").symlink_to("link1")  # relative, a chain of two
    write_text_atomic(tmp_path / "link2", "new")
    assert os.path.islink(tmp_path / "link2") and os.path.islink(tmp_path / "link1")
    assert real.read_text() == "new"
    assert _temps(tmp_path) == [] and _temps(real.parent) == []
    assert check_writable(tmp_path / "link2") == str(real)


def test_dangling_symlink_creates_its_target(tmp_path):
    (tmp_path / "out.json").symlink_to(tmp_path / "target.json")
    write_text_atomic(tmp_path / "out.json", "x")
    assert os.path.islink(tmp_path / "out.json") and (tmp_path / "target.json").read_text() == "x"


def test_fifo_is_written_in_place_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    write_bytes_atomic(fifo, b"streamed" * 100_000)
    reader.join(10)
    assert got == [b"streamed" * 100_000]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and _temps(tmp_path) == []


def test_character_devices_written_directly(tmp_path):
    write_text_atomic("/dev/null", "discarded")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    with atomic_path("/dev/null", suffix=".png") as tmp:
        assert tmp.endswith(".png") and not tmp.startswith("/dev/")
        open(tmp, "wb").write(b"x")
    assert check_writable("/dev/null") == "/dev/null"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_disk_full_device_is_one_line_error():
    with pytest.raises(JSchedError) as e:
        write_text_atomic("/dev/full", "x" * 100_000)
    assert _one_line(e) == "cannot write /dev/full: no space left on device (disk full)"


def test_disk_full_while_writing_regular_file(tmp_path):
    f = tmp_path / "out.json"
    f.write_text("old")
    with pytest.raises(JSchedError) as e:
        with atomic_path(f) as tmp, open(tmp, "wb") as fh:
            fh.write(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert _one_line(e) == f"cannot write {f}: no space left on device (disk full)"
    assert f.read_text() == "old" and _temps(tmp_path) == []


def test_other_errors_in_the_body_pass_through_untouched(tmp_path):
    with pytest.raises(FileNotFoundError):
        with atomic_path(tmp_path / "o.json"):
            open(tmp_path / "no-such-input.txt").read()
    with pytest.raises(ValueError):
        with atomic_path(tmp_path / "o.json"):
            raise ValueError("boom")
    assert not (tmp_path / "o.json").exists() and _temps(tmp_path) == []


def test_directory_target_is_refused(tmp_path):
    (tmp_path / "d").mkdir()
    for p in (tmp_path / "d", str(tmp_path / "d") + "/", str(tmp_path / "nope") + "/"):
        with pytest.raises(JSchedError, match="cannot write .*(is a directory|folder path)") as e:
            write_text_atomic(p, "x")
        _one_line(e)
        with pytest.raises(JSchedError):
            check_writable(p)
    (tmp_path / "dl").symlink_to(tmp_path / "d")
    with pytest.raises(JSchedError, match="is a directory"):
        write_text_atomic(tmp_path / "dl", "x")


def test_file_as_parent_is_refused(tmp_path):
    (tmp_path / "f.txt").write_text("i am a file")
    for p in (tmp_path / "f.txt" / "out.json", tmp_path / "f.txt" / "sub" / "out.json"):
        with pytest.raises(JSchedError) as e:
            write_text_atomic(p, "x")
        assert _one_line(e) == f"cannot write {p}: {tmp_path / 'f.txt'} is not a folder"
        with pytest.raises(JSchedError, match="is not a folder"):
            check_writable(p)
    assert (tmp_path / "f.txt").read_text() == "i am a file"


def test_missing_parent(tmp_path):
    p = tmp_path / "new" / "deep" / "out.json"
    with pytest.raises(JSchedError) as e:
        write_text_atomic(p, "x", make_parents=False)
    assert _one_line(e) == f"cannot write {p}: no such folder {p.parent}"
    with pytest.raises(JSchedError, match="no such folder"):
        check_writable(p, make_parents=False)
    assert check_writable(p) == str(p) and not p.parent.exists()  # nothing created by a check
    write_text_atomic(p, "x")  # parents are created by default
    assert p.read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    try:
        with pytest.raises(JSchedError, match="not writable") as e:
            write_text_atomic(ro / "x.json", "x")
        _one_line(e)
        with pytest.raises(JSchedError, match="not writable"):
            check_writable(ro / "sub" / "x.json")
    finally:
        os.chmod(ro, 0o755)


def test_special_files_refused(tmp_path):
    import socket

    path = str(tmp_path / "s.sock")
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(path)
        with pytest.raises(JSchedError, match="is a socket; refusing"):
            write_text_atomic(path, "x")
        with pytest.raises(JSchedError, match="socket"):
            check_writable(path)
    finally:
        s.close()


def test_check_writable_avoid_same_file(tmp_path):
    inp = tmp_path / "i.txt"
    inp.write_text("2 1\n0 1\n0 2\n")
    (tmp_path / "alias").symlink_to(inp)
    os.link(inp, tmp_path / "hard.txt")
    for out in (inp, tmp_path / "alias", tmp_path / "hard.txt", tmp_path / "." / "i.txt"):
        with pytest.raises(JSchedError, match="same file as") as e:
            check_writable(out, avoid=[inp])
        _one_line(e)
    # two outputs that do not exist yet, one spelled through '..'
    (tmp_path / "sub").mkdir()
    with pytest.raises(JSchedError, match="same file"):
        check_writable(tmp_path / "out.json", avoid=[None, tmp_path / "sub" / ".." / "out.json"])
    assert check_writable(tmp_path / "other.json", avoid=[inp, None]) == str(tmp_path / "other.json")


def test_fsync_file_and_folder(tmp_path, monkeypatch):
    synced = []
    real = os.fsync

    def spy(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    write_text_atomic(tmp_path / "s.json", "x")
    assert len(synced) == 2
    assert os.path.basename(synced[0]).startswith(TMP_PREFIX) and synced[1] == str(tmp_path)


def test_unique_temp_names_and_concurrent_writers(tmp_path):
    with atomic_path(tmp_path / "a.json") as t1, atomic_path(tmp_path / "a.json") as t2:
        assert t1 != t2 and os.path.basename(t1).startswith(TMP_PREFIX) and t1.endswith(".json")
        open(t1, "w").write("one")
        open(t2, "w").write("two")
    assert (tmp_path / "a.json").read_text() == "one" and _temps(tmp_path) == []


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_temp_files_of_ours_are_cleaned_on_next_write(tmp_path):
    host = atomic._HOST
    dead = tmp_path / f"{TMP_PREFIX}{host}-{_dead_pid()}-abc.json"
    alive = tmp_path / f"{TMP_PREFIX}{host}-{os.getppid()}-def.json"  # a live writer: kept
    old_alive = tmp_path / f"{TMP_PREFIX}{host}-{os.getppid()}-old.npz"  # a day old: a leftover
    other_host = tmp_path / f"{TMP_PREFIX}zzzzzz-{_dead_pid()}-ghi.json"  # pid means nothing here
    foreign = [tmp_path / ".tmp-abcdefgh.json", tmp_path / ".tmp-jsched-notes.txt", tmp_path / "keep.json"]
    for f in [dead, alive, old_alive, other_host, *foreign]:
        f.write_text("x")
    day = time.time() - 2 * 86400
    os.utime(old_alive, (day, day))
    write_text_atomic(tmp_path / "out.json", "{}")
    left = set(os.listdir(tmp_path))
    assert dead.name not in left and old_alive.name not in left
    assert {alive.name, other_host.name, "out.json"} | {f.name for f in foreign} == left


def test_sigkill_mid_write_leaves_a_temp_that_the_next_write_removes(tmp_path):
    code = (
        "import os, jsched.atomic as a\n"
        f"with a.atomic_path({str(tmp_path / 'ck.bin')!r}) as t:\n"
        "    open(t, 'wb').write(b'half')\n"
        "    os.kill(os.getpid(), 9)\n"
    )
    r = subprocess.run([sys.executable, "-c", code])
    assert r.returncode == -9
    assert len(_temps(tmp_path)) == 1 and not (tmp_path / "ck.bin").exists()
    write_bytes_atomic(tmp_path / "ck.bin", b"full")
    assert _temps(tmp_path) == [] and (tmp_path / "ck.bin").read_bytes() == b"full"


def test_gantt_path_checked_before_drawing(tmp_path):
    from jsched.gantt import check_gantt_path

    assert check_gantt_path(tmp_path / "g.PNG") == ".png"
    with pytest.raises(JSchedError, match="must be one of"):
        check_gantt_path(tmp_path / "g.jpg")
    (tmp_path / "d.svg").mkdir()
    with pytest.raises(JSchedError, match="is a directory"):
        check_gantt_path(tmp_path / "d.svg")
    with pytest.raises(JSchedError, match="same file"):
        check_gantt_path(tmp_path / "x.pdf", avoid=[tmp_path / "x.pdf"])


@pytest.mark.parametrize("redirect", ["file", "pipe"])
def test_dev_stdout_is_written_in_place(tmp_path, redirect):
    code = (
        "import sys, jsched.atomic as a\n"
        "print('before', flush=True)\n"
        "a.write_text_atomic('/dev/stdout', 'payload\\n')\n"
        "print('after', flush=True)\n"
    )
    if redirect == "file":
        out = tmp_path / "out.txt"
        with open(out, "w") as fh:
            r = subprocess.run([sys.executable, "-c", code], stdout=fh, stderr=subprocess.PIPE, text=True)
        got = out.read_text()
        assert _temps(tmp_path) == []
    else:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        got = r.stdout
    assert r.returncode == 0, r.stderr
    assert got == "before\npayload\nafter\n"
