"""The two value types the watcher passes around: one raw change, one coalesced batch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

# created/modified/closed/appeared all mean "this path may hold new content"; they differ in what
# the debouncer can infer: `created` = the path did not exist before, `modified` = a writer is
# at work, `closed` = a writer closed the file (inotify only), `appeared` = a whole file was
# renamed into place from a name we ignore (a finished download), maybe over a known one.
ChangeKind = Literal["created", "modified", "closed", "appeared", "moved", "deleted"]


@dataclass(frozen=True)
class Change:
    """One filesystem change to an audio path (or, for `deleted`, possibly a folder)."""

    kind: ChangeKind
    path: Path
    dest: Path | None = None  # only for `moved`


@dataclass(frozen=True)
class Batch:
    """The net effect of a burst of changes, one entry per path.

    Apply in this order: `moved` (a simultaneous renaming: read every old record before writing
    any new one, so a swap a<->b is safe), then `removed` (each path is a file or a folder that
    is gone: forget everything at or under it), then `added` (new or changed content: analyse
    if the store says so). A path in `added` may also be the destination of a pair in `moved`
    when the file was written to after the move.
    """

    moved: tuple[tuple[Path, Path], ...] = ()
    removed: tuple[Path, ...] = ()
    added: tuple[Path, ...] = ()

    def __len__(self) -> int:
        return len(self.moved) + len(self.removed) + len(self.added)

    def __bool__(self) -> bool:
        return len(self) > 0
