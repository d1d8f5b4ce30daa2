"""Coalescing: any number of changes become one net change per path.

Pure bookkeeping, no clock and no filesystem: the debouncer decides *when* to take a batch
and *which* entries are ready; this module only knows what the net effect of a sequence is.
Rules (per path, in event order):
  created + modified/closed        -> one addition
  created + deleted                -> nothing (the store never knew the path)
  known path + modified + deleted  -> one removal
  a -> b -> c                      -> one move a -> c;  a -> b -> a -> nothing
  a -> b, then b written to        -> move a -> b and an addition of b (the vector is stale)
  a -> b, then b deleted           -> removal of a (and of b's own old record, if any)
  deleted folder                   -> pending entries under it are dropped; one removal
The same move reported twice (a folder move expanded here and by the observer) is a no-op.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from clusterd.changes import Batch, Change


class PendingKind(Enum):
    CREATED = "created"  # did not exist before this batch: a later delete cancels it
    CHANGED = "changed"  # existed (or may have): content needs a look
    MOVED = "moved"  # holds the content that was at `origin`
    REMOVED = "removed"  # gone, with everything under it


@dataclass
class Pending:
    kind: PendingKind
    since: float  # when this path became pending (the debouncer's settle limit counts from it)
    origin: Path | None = None  # MOVED only
    dirty: bool = False  # MOVED, then written to: the vector must be recomputed
    purge: bool = False  # CHANGED after REMOVED: forget the old record first
    writing: bool = False  # a writer is active (modified seen, close not yet)
    snap: tuple[int, int] | None = None  # (size, mtime_ns) at the last event

    @property
    def needs_content(self) -> bool:
        """Whether the file's bytes matter for this entry (and so must be settled)."""
        return self.kind in (PendingKind.CREATED, PendingKind.CHANGED) or (
            self.kind is PendingKind.MOVED and self.dirty
        )


def _under(path: Path, root: Path) -> bool:
    return path != root and path.is_relative_to(root)


class Coalescer:
    """Pending entries, keyed by the path they describe now."""

    def __init__(self) -> None:
        self.entries: dict[Path, Pending] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def apply(self, change: Change, now: float, snap: tuple[int, int] | None = None) -> None:
        if change.kind == "moved":
            assert change.dest is not None
            self._move(change.path, change.dest, now)
        elif change.kind == "deleted":
            self._delete(change.path, now)
        else:
            self._touch(change, now, snap)

    def _put(self, path: Path, entry: Pending) -> None:
        # Re-insert at the end so iteration follows the order of the latest changes.
        self.entries.pop(path, None)
        self.entries[path] = entry

    def _touch(self, change: Change, now: float, snap: tuple[int, int] | None) -> None:
        entry = self.entries.get(change.path)
        if entry is None:
            kind = PendingKind.CREATED if change.kind == "created" else PendingKind.CHANGED
            entry = Pending(kind, since=now)
            self.entries[change.path] = entry
        elif entry.kind is PendingKind.REMOVED:
            entry = Pending(PendingKind.CHANGED, since=now, purge=True)
            self._put(change.path, entry)
        elif entry.kind is PendingKind.MOVED:
            entry.dirty = True
        if change.kind == "modified":
            entry.writing = True
        elif change.kind == "closed":
            entry.writing = False
        entry.snap = snap

    def _origin_gone(self, origin: Path, now: float) -> None:
        """The content that came from `origin` no longer exists anywhere."""
        entry = self.entries.get(origin)
        if entry is None:
            self.entries[origin] = Pending(PendingKind.REMOVED, since=now)
        elif entry.kind is PendingKind.CREATED:
            # A new file sits where the old one was: the store still holds the old record.
            entry.kind, entry.purge = PendingKind.CHANGED, True

    def _delete(self, path: Path, now: float) -> None:
        for sub in [p for p in self.entries if _under(p, path)]:
            entry = self.entries.pop(sub)
            if entry.kind is PendingKind.MOVED and entry.origin and not _under(entry.origin, path):
                self._origin_gone(entry.origin, now)
        entry = self.entries.pop(path, None)
        if entry is not None and entry.kind is PendingKind.CREATED:
            return
        if entry is not None and entry.kind is PendingKind.MOVED and entry.origin is not None:
            self._origin_gone(entry.origin, now)
        self._put(path, Pending(PendingKind.REMOVED, since=now))

    def _move(self, src: Path, dest: Path, now: float) -> None:
        entry = self.entries.pop(src, None)
        new: Pending | None
        if entry is None or entry.kind is PendingKind.REMOVED:
            new = Pending(PendingKind.MOVED, since=now, origin=src)
        elif entry.kind is PendingKind.CREATED:
            new = entry
        elif entry.kind is PendingKind.CHANGED and entry.purge:
            self.entries[src] = Pending(PendingKind.REMOVED, since=now)
            new = entry
        elif entry.kind is PendingKind.CHANGED:
            new = Pending(
                PendingKind.MOVED,
                since=entry.since,
                origin=src,
                dirty=True,
                writing=entry.writing,
                snap=entry.snap,
            )
        elif entry.origin == dest:  # moved back where it came from
            new = (Pending(PendingKind.CHANGED, since=entry.since, snap=entry.snap)
                   if entry.dirty else None)
        else:
            new = entry
        old = self.entries.get(dest)
        if old is not None and old.kind is PendingKind.MOVED and old.origin is not None:
            if new is not None and new.origin == old.origin:
                new.dirty = new.dirty or old.dirty  # the same move, reported twice
            else:
                self._origin_gone(old.origin, now)  # the moved file was overwritten
        if new is None:
            self.entries.pop(dest, None)
        else:
            self._put(dest, new)

    def take(self, ready: Callable[[Path, Pending], bool | None]) -> Batch:
        """Remove and return every entry that is ready.

        `ready` is asked only about entries whose content matters (the others never wait):
        True = hand it over, False = keep it pending, None = drop it (the file is gone).
        """
        moved: list[tuple[Path, Path]] = []
        removed: list[Path] = []
        added: list[Path] = []
        for path, entry in list(self.entries.items()):
            verdict = ready(path, entry) if entry.needs_content else True
            if verdict is False:
                continue
            del self.entries[path]
            if verdict is None:
                if entry.kind is PendingKind.MOVED and entry.origin is not None:
                    removed.append(entry.origin)
                continue
            if entry.kind is PendingKind.REMOVED:
                removed.append(path)
            elif entry.kind is PendingKind.MOVED:
                assert entry.origin is not None
                moved.append((entry.origin, path))
                if entry.dirty:
                    added.append(path)
            else:
                if entry.purge:
                    removed.append(path)
                added.append(path)
        # Removals run after moves, so a move into a folder that was removed and re-created in
        # this batch would be undone by the removal: turn it into removal + fresh analysis.
        kept = []
        for origin, dest in moved:
            if any(dest == r or _under(dest, r) for r in removed):
                removed.append(origin)
                if dest not in added:
                    added.append(dest)
            else:
                kept.append((origin, dest))
        return Batch(moved=tuple(kept), removed=tuple(removed), added=tuple(added))
