"""SIGTERM and SIGHUP end a command the way Ctrl-C does: cleanly, keeping what was done.

Their default action kills the process on the spot, before any `finally` runs: the analysed
tracks not yet saved were lost and the worker processes stayed behind. Here each raises
`Stopped` (a KeyboardInterrupt) in the main thread, so every cleanup of Ctrl-C runs.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
                if s is not None)


class Stopped(KeyboardInterrupt):
    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signal_name = signal.Signals(signum).name


def interrupt_on_signals() -> Callable[[], None]:
    """Install the handlers; returns the function that puts the previous ones back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # only the main thread may set handlers (and gets the signals)
    previous = {s: signal.getsignal(s) for s in SIGNALS}

    def handler(signum: int, frame) -> None:
        for s in SIGNALS:  # a second signal during the cleanup ends the process at once
            signal.signal(s, signal.SIG_DFL)
        raise Stopped(signum)

    for s in SIGNALS:
        signal.signal(s, handler)

    def restore() -> None:
        for s, old in previous.items():
            signal.signal(s, old if old is not None else signal.SIG_DFL)

    return restore


def interrupted_line(exc: KeyboardInterrupt) -> str:
    how = f"stopped by {exc.signal_name}" if isinstance(exc, Stopped) else "interrupted"
    return f"cluster: {how}; what was analysed is kept, run again to resume"
