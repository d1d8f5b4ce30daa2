"""Peak resident memory of this process and all its children together, sampled in a thread."""

from __future__ import annotations

import threading

import psutil


class PeakRSS:
    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.peak = 0
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRSS:  # noqa: PYI034  (py3.10 has no typing.Self)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:  # a worker that just exited
                    pass
            self.samples.append(total)
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)
