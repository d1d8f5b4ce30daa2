"""A Handler that records calls, standing in for the core: for tests and the soak script.

`build` is a core factory for `clusterd.__main__.main(argv, factory=build)`; a daemon process
with it is `python tests/helpers/run_fake_clusterd.py`. It reads its knobs from the environment
because it runs in a daemon process that tests start:
CLUSTERD_RECORD (a JSON-lines file of calls), CLUSTERD_FAIL (fail on paths containing this),
CLUSTERD_DELAY (seconds per added file, to stand in for analysis).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from clusterd.service import DaemonOptions
from clusterd.worker import CoreBinding


class RecordedError(Exception):
    """The root exception of this pretend core."""


class RecordingHandler:
    def __init__(
        self, record: Path | None = None, fail_on: str | None = None, delay: float = 0.0
    ) -> None:
        self.record, self.fail_on, self.delay = record, fail_on, delay
        self.calls: list[tuple[str, list]] = []
        self.cond = threading.Condition()

    def _note(self, method: str, args: list) -> None:
        with self.cond:
            self.calls.append((method, args))
            self.cond.notify_all()
        if self.record is not None:
            with open(self.record, "a") as f:
                f.write(json.dumps([method, args, time.time()]) + "\n")

    def wait_for(self, predicate, timeout: float = 10.0) -> bool:
        """Block until predicate(calls) is true."""
        with self.cond:
            return self.cond.wait_for(lambda: predicate(self.calls), timeout)

    def of(self, method: str) -> list:
        """Every argument passed to `method`, flattened."""
        with self.cond:
            return [a for m, args in self.calls if m == method for a in args]

    def catch_up(self, roots: Sequence[Path]) -> Iterable[object]:
        self._note("catch_up", [str(r) for r in roots])
        return ()

    def moved(self, pairs: Sequence[tuple[Path, Path]]) -> None:
        self._note("moved", [[str(a), str(b)] for a, b in pairs])

    def removed(self, paths: Sequence[Path]) -> None:
        self._note("removed", [str(p) for p in paths])

    def added(self, paths: Sequence[Path]) -> int:
        for path in paths:
            if self.fail_on and self.fail_on in str(path):
                self._note("failed", [str(path)])
                raise RecordedError(f"cannot analyse {path}")
            time.sleep(self.delay)
        self._note("added", [str(p) for p in paths])
        return len(paths)

    def recluster(self) -> None:
        self._note("recluster", [])

    def flush(self) -> None:
        self._note("flush", [])

    def close(self) -> None:
        self._note("close", [])


def build(options: DaemonOptions) -> CoreBinding:
    env = os.environ
    record = Path(env["CLUSTERD_RECORD"]) if env.get("CLUSTERD_RECORD") else None
    handler = RecordingHandler(
        record, env.get("CLUSTERD_FAIL") or None, float(env.get("CLUSTERD_DELAY", "0"))
    )
    return CoreBinding(handler, errors=(RecordedError,))
