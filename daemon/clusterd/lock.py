"""One daemon per store: two would both act on every event (one recording a file as failed
while the other writes its tag). An flock beside the store; `beet cluster` does not take it,
so it keeps running beside the daemon (the store's own transactions keep the two apart)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from beets.ui import UserError


def lock_path(store: Path) -> Path:
    return store.with_name(store.name + ".daemon.lock")


def hold(store: Path) -> int:
    """Take the store's daemon lock for as long as this process lives (the kernel drops it at
    exit, even after kill -9, so a stale lock file is harmless); returns its descriptor.
    Raises UserError with one line when another daemon holds it."""
    path = lock_path(store)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise UserError(f"clusterd: cannot create the lock {path}: {exc.strerror}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise UserError(f"clusterd: another clusterd (pid {holder}) already watches the store "
                        f"{store}; not starting a second") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)  # for the message above; the lock is flock
    return fd
