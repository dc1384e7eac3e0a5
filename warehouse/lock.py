"""One writer at a time: an advisory file lock beside the warehouse, held for a whole writing run."""
from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warehouse.db import WarehouseError, check_folder


class WarehouseBusy(RuntimeError):
    """Another run holds the warehouse; the message says which file and how long we waited."""


_held: set[str] = set()  # lock paths this process holds
_guard = threading.Lock()


def lock_path(db: Path) -> Path:
    """The lock file of a warehouse: `<db>.lock` beside the file itself. Symlinks are resolved first, so every
    name of one warehouse (a symlink, a relative path) shares one lock."""
    resolved = Path(db).resolve()
    return resolved.with_name(resolved.name + ".lock")


def lock_held(db: Path) -> bool:
    """Whether a writing run holds the warehouse's lock right now; never waits, never creates the lock file.

    The probe takes a shared lock for an instant, which a run asking for the lock at that moment retries. When
    the lock file cannot be opened, nobody can be ruled out: that counts as held.
    """
    path = lock_path(db)
    with _guard:
        if str(path) in _held:
            return True
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False  # no writing run ever took it: a run takes it before it writes anything
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


@contextmanager
def writer_lock(db: Path, timeout: float) -> Iterator[None]:
    """Hold the warehouse's writer lock; wait up to `timeout` seconds for another run, then raise WarehouseBusy.

    A command takes it once, where it starts; asking again in the same process is a programming error (the
    second holder would release the lock under the first)."""
    path = lock_path(db)
    key = str(path)
    with _guard:
        if key in _held:
            raise RuntimeError(f"{path}: this process holds the writer lock already; take it once per command")
    check_folder(db)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise WarehouseError(f"{path}: cannot open the warehouse's lock file: {exc.strerror or exc}") from None
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
                    raise WarehouseBusy(
                        f"{db}: another run holds the warehouse ({holder}); waited {timeout:.0f} s "
                        f"(STADTRADAR_LOCK_TIMEOUT sets how long to wait)"
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode(), 0)
        with _guard:
            _held.add(key)
        try:
            yield
        finally:
            with _guard:
                _held.discard(key)
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
