"""The debouncer: a stream of changes in, settled batches out."""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from beetsplug.cluster import log as cluster_log
from clusterd.changes import Batch, Change
from clusterd.coalesce import Coalescer, Pending

log = cluster_log.get(__name__)


def look(path: Path) -> tuple[int, int] | None:
    """(size, mtime_ns) of a file, or None when it is not there (any more)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


class Debouncer:
    """Groups changes into batches; the consumer pulls them with `next_batch()`.

    Contract (compare watchfiles' `watch(debounce, step, stop_event)`):
    * `push(change)` is thread-safe and never blocks on I/O beyond one `stat`; it is called from
      the observer's thread.
    * `next_batch()` blocks until a batch is due and returns it, or returns None once the stop
      event is set (pending changes are then dropped: the start-up catch-up scan covers them).
    * A batch is due when `quiet` seconds have passed with no new change, or when the oldest
      pending change has waited `max_wait` seconds while changes kept coming.
    * Changes are coalesced per path (see `clusterd.coalesce`): a burst becomes one batch with
      one net entry per path.
    * A file whose content matters is *settled* when no writer holds it (a `modified` seen on
      inotify with no `closed` after it), it is not empty, and its (size, mtime) equals what it
      was at its last event: two looks at least `quiet` apart. An unsettled file stays pending
      and is looked at again `quiet` seconds later; after `settle_max` seconds it is handed
      over anyway (the core records a broken file; its next change brings it back).
      A file that vanished without a delete event stays pending the same way.
    * Because batches are pulled, changes that arrive while the consumer is busy keep
      coalescing: a file moved while the previous batch is analysed arrives as one entry.
    * `track_writers=False` (polling observers, which never report `closed`) ignores the
      writer flag and relies on the two looks alone.
    """

    def __init__(
        self,
        *,
        quiet: float = 2.0,
        max_wait: float = 30.0,
        settle_max: float = 300.0,
        stop_event: threading.Event | None = None,
        track_writers: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if quiet <= 0 or max_wait < quiet:
            raise ValueError(f"need 0 < quiet <= max_wait, got {quiet=} {max_wait=}")
        self.quiet, self.max_wait, self.settle_max = quiet, max_wait, settle_max
        self.stop_event = stop_event or threading.Event()
        self.track_writers = track_writers
        self._clock = clock
        self._cond = threading.Condition()
        self._pending = Coalescer()
        self._first = 0.0  # when the oldest change of the current round arrived
        self._last = 0.0  # when the newest change arrived
        self._next_look = 0.0  # no look before this, after a look found nothing ready

    def __len__(self) -> int:
        with self._cond:
            return len(self._pending)

    def push(self, change: Change) -> None:
        snap = look(change.path) if change.kind not in ("moved", "deleted") else None
        with self._cond:
            now = self._clock()
            if not self._pending:
                self._first = now
            self._last = now
            self._pending.apply(change, now, snap)
            self._cond.notify_all()

    def stop(self) -> None:
        """Set the stop event and wake a consumer blocked in `next_batch`."""
        self.stop_event.set()
        self.wake()

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def next_batch(self, timeout: float | None = None) -> Batch | None:
        """Block until a batch is due (see the class contract); None on stop or timeout."""
        give_up = None if timeout is None else self._clock() + timeout
        with self._cond:
            while not self.stop_event.is_set():
                now = self._clock()
                wake_at = give_up
                if self._pending:
                    due = max(
                        min(self._last + self.quiet, self._first + self.max_wait),
                        self._next_look,
                    )
                    if now >= due:
                        batch = self._pending.take(functools.partial(self._settled, now=now))
                        self._first = now  # what is left starts a new max-wait round
                        self._next_look = now + self.quiet
                        if batch:
                            return batch
                        due = self._next_look
                    wake_at = due if wake_at is None else min(due, wake_at)
                if give_up is not None and now >= give_up:
                    return None
                self._cond.wait(None if wake_at is None else max(wake_at - now, 0.001))
        return None

    def _settled(self, path: Path, entry: Pending, now: float) -> bool | None:
        """True: hand over; False: look again next round; None: drop (stayed missing)."""
        overdue = now - entry.since >= self.settle_max
        snap = look(path)
        settled = (
            snap is not None
            and snap[0] > 0
            and snap == entry.snap
            and not (self.track_writers and entry.writing)
        )
        if not settled:
            if overdue:
                waited = now - entry.since
                if snap is None:
                    log.info("{} missing for {:.0f} s; dropping it", path, waited)
                    return None
                log.warning("{} still unsettled after {:.0f} s; handing it over", path, waited)
                return True
            entry.snap = snap  # this look is the reference for the next one
        return settled
