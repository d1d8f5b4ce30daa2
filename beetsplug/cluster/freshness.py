"""THE freshness rule: does a file need analysis? One answer for a whole run and for one file
the daemon sees change; the store's rows and the file's stat are all it reads."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class Row:
    """What the store holds about one file for one backend."""

    size: int
    mtime: float
    version: str
    error: str | None
    fingerprint: str | None
    has_windows: bool
    # The stored blobs have the length their counts promise: a damaged row (a bad copy, a
    # hand edit) is analysed again rather than read as a vector.
    intact: bool = True


class Freshness(Enum):
    FRESH = "fresh"  # analysed as it is now: nothing to do
    FAILED = "failed"  # failed as it is now: not retried until the file changes
    UNKNOWN = "unknown"  # never seen under this path: new, or moved here unseen
    CHANGED = "changed"  # seen, but the file, the backend version or what we keep changed


def state(row: Row | None, st: os.stat_result, version: str, keep_windows: bool) -> Freshness:
    if row is None:
        return Freshness.UNKNOWN
    same_file = (row.size, row.mtime) == (st.st_size, st.st_mtime) and row.version == version
    if same_file and row.error is not None:
        return Freshness.FAILED
    if same_file and row.intact and (row.has_windows or not keep_windows):
        return Freshness.FRESH
    return Freshness.CHANGED


def retagged(row: Row | None, version: str, keep_windows: bool, print_now: str | None) -> bool:
    """A changed file whose audio is what we analysed (only its tags changed): keep its vector."""
    return (row is not None and row.error is None and row.intact and row.version == version
            and row.fingerprint is not None and row.fingerprint == print_now
            and (row.has_windows or not keep_windows))
