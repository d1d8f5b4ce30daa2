"""The one worker thread: batches from the debouncer -> the core, one file at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from beetsplug.cluster import log as cluster_log
from beetsplug.cluster.text import plural
from clusterd.changes import Batch
from clusterd.debounce import Debouncer

log = cluster_log.get(__name__)


@runtime_checkable
class Handler(Protocol):
    """What the daemon needs from the core. All calls come from one thread, the worker's.

    Every method may raise the core's root exception or OSError for a bad file; the worker
    logs it and goes on. Any other exception is a bug: the worker stops and the daemon exits
    non-zero, so systemd restarts it.
    """

    def catch_up(self, roots: Sequence[Path]) -> Iterable[object]:
        """Bring the store up to date with what changed under `roots` while the daemon was
        down. Yield once per unit of work (e.g. per file): the worker stops between two
        yields when asked to, so the core must leave the store consistent at each yield."""
        ...

    def moved(self, pairs: Sequence[tuple[Path, Path]]) -> None:
        """Each (old, new): the file at `old` now lives at `new`; keep its vector. A
        simultaneous renaming (read every old record first). An `old` the store does not know
        means `new` needs analysis; an existing record at `new` is replaced."""
        ...

    def removed(self, paths: Sequence[Path]) -> None:
        """Each path is a file or folder that is gone: forget every track at or under it.
        Unknown paths are not an error."""
        ...

    def added(self, paths: Sequence[Path]) -> int:
        """New or changed files: analyse those the store says need it, assign each to its
        nearest cluster, write its tag and playlist line. Return how many new tracks were
        stored (counts towards `recluster_after`)."""
        ...

    def recluster(self) -> None:
        """A full recluster (called after `recluster_after` new tracks, if configured)."""
        ...

    def flush(self) -> None:
        """Write what is buffered (playlists). Called after every batch and before exit."""
        ...

    def close(self) -> None:
        """Release the store; called once, after the last flush (exit or reload)."""
        ...


@dataclass(frozen=True)
class CoreBinding:
    """What a core factory (`main`'s `factory`, called with the DaemonOptions)
    returns: the handler and the core's root exception type(s), caught per file."""

    handler: Handler
    errors: tuple[type[BaseException], ...] = ()


class Worker(threading.Thread):
    """Drains the debouncer into a Handler until the stop event is set.

    On stop it finishes the file in hand, skips the rest of the batch's additions (the next
    start-up's catch-up scan finds them), flushes and returns. `reload`, when requested with
    `request_reload()`, runs in this thread between files and may return a new Handler.
    """

    def __init__(
        self,
        debouncer: Debouncer,
        handler: Handler,
        *,
        roots: Sequence[Path] = (),
        errors: tuple[type[BaseException], ...] = (),
        recluster_after: int = 0,
        reload: Callable[[], Handler | None] | None = None,
    ) -> None:
        super().__init__(name="clusterd-worker", daemon=False)
        self.debouncer, self.handler, self.roots = debouncer, handler, list(roots)
        self.errors = (OSError, *errors)
        self.recluster_after = recluster_after
        self.reload = reload
        self.stop_event = debouncer.stop_event
        self.failure: BaseException | None = None  # an unexpected exception ended the thread
        self.new_tracks = 0  # since the last recluster
        self.batches = 0
        self._reload_requested = threading.Event()

    def request_reload(self) -> None:
        self._reload_requested.set()
        self.debouncer.wake()

    def run(self) -> None:
        try:
            self._catch_up()
            while not self.stop_event.is_set():
                self._maybe_reload()
                batch = self.debouncer.next_batch(timeout=1.0)
                if batch:
                    self._apply(batch)
                    self.batches += 1
        except BaseException as exc:
            self.failure = exc
            log.exception("worker stopped by an unexpected error")
            self.stop_event.set()
        finally:
            self._call("flush", self.handler.flush)
            self._call("close", self.handler.close)

    def _call(self, what: str, fn: Callable[[], object]) -> bool:
        try:
            fn()
        except self.errors as exc:
            log.error("{} failed: {}", what, exc)
            return False
        return True

    def _catch_up(self) -> None:
        if not self.roots:
            return
        try:
            for _ in self.handler.catch_up(self.roots):
                if self.stop_event.is_set():
                    log.info("catch-up interrupted; it resumes at the next start")
                    return
        except self.errors as exc:
            log.error("catch-up scan failed: {}", exc)
            return
        log.info("catch-up scan done; watching for changes")

    def _maybe_reload(self) -> None:
        if not self._reload_requested.is_set() or self.reload is None:
            return
        self._reload_requested.clear()
        log.info("reloading configuration")
        self._call("flush before reload", self.handler.flush)
        try:
            new = self.reload()
        except self.errors as exc:
            log.error("reload failed, keeping the old configuration: {}", exc)
            return
        if new is not None:
            self._call("close", self.handler.close)
            self.handler = new

    def _each(self, what: str, fn: Callable[[list], object], items: Sequence) -> None:
        """Call fn with all items; if that fails, once per item, so one bad file costs only
        itself."""
        if not items or self._call(what, lambda: fn(list(items))) or len(items) == 1:
            return
        for item in items:
            self._call(f"{what} {item}", lambda i=item: fn([i]))

    def _apply(self, batch: Batch) -> None:
        log.debug(
            "batch: {} moved, {} removed, {} added",
            len(batch.moved),
            len(batch.removed),
            len(batch.added),
        )
        self._each("move", self.handler.moved, batch.moved)
        self._each("remove", self.handler.removed, batch.removed)
        added = list(batch.added)
        # One file a call: a stop or a reload takes effect between two files, not after a batch.
        for done, path in enumerate(added):
            if self.stop_event.is_set():
                log.info("stopping: {} left for the next catch-up",
                         plural(len(added) - done, "file"))
                break
            self._maybe_reload()
            self._each("analyse", lambda paths: self._count(self.handler.added(paths)), [path])
        self._call("flush", self.handler.flush)
        due = self.recluster_after and self.new_tracks >= self.recluster_after
        if due and not self.stop_event.is_set() and self._call("recluster", self.handler.recluster):
            self.new_tracks = 0

    def _count(self, new: int) -> None:
        self.new_tracks += int(new)
