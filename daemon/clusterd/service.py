"""The running daemon: observer -> debouncer -> worker, plus signals and a clean stop."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from beetsplug.cluster import log as cluster_log
from beetsplug.cluster.config import DEFAULTS
from clusterd.debounce import Debouncer
from clusterd.events import EVENT_FILTER, AudioEventHandler
from clusterd.worker import Handler, Worker

log = cluster_log.get(__name__)


@dataclass(frozen=True)
class DaemonOptions:
    """Everything the daemon's own machinery needs; the core's settings travel separately."""

    roots: tuple[Path, ...]
    poll: bool = DEFAULTS["poll"]  # network shares: inotify sees nothing there
    poll_interval: float = DEFAULTS["poll_interval"]
    quiet_seconds: float = DEFAULTS["quiet_seconds"]
    max_wait_seconds: float = DEFAULTS["max_wait_seconds"]
    settle_max: float = 300.0
    recluster_after: int = DEFAULTS["recluster_after"]
    radio: bool = DEFAULTS["radio"]  # keep MPD's queue going (clusterd/radio.py)


def make_observer(poll: bool, interval: float) -> BaseObserver:
    return PollingObserver(timeout=interval) if poll else Observer()


def reports_close(observer: BaseObserver) -> bool:
    """Only inotify tells us when a writer closes a file."""
    try:
        from watchdog.observers.inotify import InotifyObserver
    except ImportError:  # not Linux
        return False
    return isinstance(observer, InotifyObserver)


class Service:
    """start() -> (run until stop() or a signal) -> stop(); every thread is joined on stop."""

    def __init__(
        self,
        options: DaemonOptions,
        handler: Handler,
        *,
        errors: tuple[type[BaseException], ...] = (),
        reload: Callable[[], Handler | None] | None = None,
    ) -> None:
        self.options = options
        self.stop_event = threading.Event()
        self.observer = make_observer(options.poll, options.poll_interval)
        self.debouncer = Debouncer(
            quiet=options.quiet_seconds,
            max_wait=options.max_wait_seconds,
            settle_max=options.settle_max,
            stop_event=self.stop_event,
            track_writers=reports_close(self.observer),
        )
        self.events = AudioEventHandler(options.roots, self.debouncer.push)
        self.worker = Worker(
            self.debouncer,
            handler,
            roots=options.roots,
            errors=errors,
            recluster_after=options.recluster_after,
            reload=reload,
        )
        self._started = False

    def start(self) -> None:
        # The observer starts before the catch-up scan, so nothing falls between the two.
        for root in self.options.roots:
            if not root.is_dir():
                log.warning("not watching {}: no such folder", root)
                continue
            self.observer.schedule(
                self.events, str(root), recursive=True, event_filter=EVENT_FILTER
            )
            log.info("watching {}{}", root, " (polling)" if self.options.poll else "")
        self.observer.start()
        self.worker.start()
        self._started = True

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the worker to finish its file, then join everything."""
        self.debouncer.stop()
        if not self._started:
            return
        self.worker.join(timeout)
        if self.worker.is_alive():
            log.error("worker did not stop within {:.0f} s", timeout)
        self.observer.stop()
        self.observer.join(timeout)
        self._started = False

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the service stops (a signal, stop(), or a worker failure)."""
        return self.stop_event.wait(timeout)

    def install_signals(self) -> None:
        """SIGTERM/SIGINT stop, SIGHUP reloads. Main thread only (Python's rule)."""

        def on_stop(signum: int, _frame: FrameType | None) -> None:
            log.info("signal {}: stopping", signal.Signals(signum).name)
            self.debouncer.stop()

        def on_hup(_signum: int, _frame: FrameType | None) -> None:
            self.worker.request_reload()

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)

    def run(self) -> int:
        """The daemon's life in the main thread; returns the process exit status."""
        self.install_signals()
        self.start()
        try:
            # Short waits: signal handlers run in the main thread only between waits.
            while not self.wait(0.5):
                if not self.worker.is_alive():
                    break
        finally:
            self.stop()
        return 1 if self.worker.failure is not None else 0
