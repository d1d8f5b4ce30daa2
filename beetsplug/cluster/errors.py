"""The core's one root exception; front ends catch it at the edge."""

from __future__ import annotations

import functools
import inspect
import sqlite3
from pathlib import Path


class ClusterError(Exception):
    """Anything the core refuses or cannot do, with a message meant for the user."""


class AudioError(ClusterError):
    """One file cannot be analysed (corrupt, empty, silent, too short, unsupported)."""


class UnreadableError(ClusterError):
    """A file cannot be read (no permission, an I/O error): not its audio's fault, so it is
    reported by name, not recorded, and tried again on the next run."""


class StoreError(ClusterError):
    """The embedding store cannot be opened or is from a newer version."""


class MethodError(ClusterError, ValueError):
    """A clustering method cannot run as asked (unknown name, missing extra); says why."""


# What sqlite says (its messages are stable across versions; error names need Python 3.11),
# what that means for the store, and what the user can do about it.
_SQLITE_ADVICE = (
    ("malformed", "is damaged", "move it aside and run again to re-analyse"),
    ("not a database", "is damaged", "move it aside and run again to re-analyse"),
    ("no such table", "is damaged", "move it aside and run again to re-analyse"),
    ("no such column", "is damaged", "move it aside and run again to re-analyse"),
    ("full", "cannot grow", "free some disk space and run again"),
    ("readonly", "cannot be written", "check that it and its folder are writable"),
    ("locked", "is busy", "another process holds it; try again"),
)


def store_error(path: Path | str, exc: sqlite3.Error) -> StoreError:
    """One line naming the store and what to do, from a sqlite3 error."""
    text = str(exc)
    for word, state, advice in _SQLITE_ADVICE:
        if word in text:
            return StoreError(f"the embedding store {path} {state} ({text}): {advice}")
    return StoreError(f"the embedding store {path} failed ({text})")


def sqlite_errors(cls: type) -> type:
    """Class decorator: every public method turns sqlite3 errors into a StoreError naming
    `self.path`, so no caller sees a sqlite traceback and new methods are covered too; the
    inherited ones (the vector reads) as well as the class's own."""

    def guarded(fn):
        @functools.wraps(fn)
        def call(self, *args, **kwargs):
            try:
                return fn(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise store_error(self.path, exc) from exc

        return call

    for name, fn in inspect.getmembers(cls, inspect.isfunction):
        if not name.startswith("_"):
            setattr(cls, name, guarded(fn))
    return cls


class DaskError(ClusterError):
    """Analysis on a Dask cluster cannot run: the extra is missing, or the scheduler does not
    answer or has no workers."""
