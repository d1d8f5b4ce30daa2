"""What C decoders print to file descriptor 2 goes to the debug log, not the user's terminal.

libmpg123 (inside libsndfile) writes warnings such as "Warning: Xing stream size off by more
than 1%" or "[src/libmpg123/parse.c:...] error: ..." straight to fd 2, past Python's
sys.stderr, so only redirecting the descriptor itself catches them.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..log import log

KEEP_BYTES = 4096  # of a decoder's output per file, for the log
# libmpg123's forms: "Warning: ...", "Note: ...", "Error: ...", "[src/libmpg123/...] ...".
_DECODER_LINE = re.compile(r"^(\[[^\]]*\] )?(warning|note|error|big_resync)\b|^\[src/lib",
                           re.IGNORECASE)


@contextmanager
def decoder_output() -> Iterator[list[str]]:
    """Around a file's decoding: fd 2 goes to a temp file; the list holds its lines afterwards
    (for `log_decoder_output`, here or in the process that started this worker).

    Where other threads run (the daemon), what they print meanwhile is not the decoder's: lines
    that are not decoder messages are passed on to the real fd 2 afterwards.
    """
    said: list[str] = []
    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # no stderr, or a closed one
        pass
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 at all: nothing can reach a terminal
        yield said
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield said
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            said.extend(_lines(tmp))


def log_decoder_output(path: Path | str, said: list[str] | None) -> None:
    text = "; ".join(said or [])
    if text:
        log.debug("decoder output for {}: {}", path, text[:KEEP_BYTES])


def _lines(tmp) -> list[str]:
    if not tmp.tell():
        return []
    tmp.seek(0)
    lines = [ln.strip() for ln in tmp.read().decode(errors="replace").splitlines()]
    lines = [ln for ln in lines if ln]
    if threading.active_count() > 1:
        others = [ln for ln in lines if not _DECODER_LINE.search(ln)]
        if others:
            os.write(2, ("\n".join(others) + "\n").encode(errors="replace"))
        lines = [ln for ln in lines if _DECODER_LINE.search(ln)]
    return lines
