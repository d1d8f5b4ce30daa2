"""clusterd: the beets-cluster watcher daemon (watchdog -> debouncer -> one worker -> core)."""

from __future__ import annotations

from clusterd.changes import Batch, Change
from clusterd.debounce import Debouncer
from clusterd.service import DaemonOptions, Service
from clusterd.worker import CoreBinding, Handler, Worker

__all__ = ["Batch", "Change", "CoreBinding", "DaemonOptions", "Debouncer", "Handler", "Service",
           "Worker"]
