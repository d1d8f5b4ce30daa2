from __future__ import annotations

import io

from beetsplug.cluster.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_line_appears_at_once_and_ends_with_a_newline():
    out = Terminal()
    bar = Progress(3, "analysing", stream=out)
    assert "0/3" in out.getvalue() and "ETA --:--" in out.getvalue()
    for _ in range(3):
        bar.tick()
    last = out.getvalue().split("\r")[-1]
    assert "3/3" in last and "#" * 30 in last and out.getvalue().endswith("\n")


def test_not_a_terminal_writes_nothing_to_the_stream():
    out = io.StringIO()
    bar = Progress(2, stream=out)
    bar.tick()
    bar.tick()
    assert out.getvalue() == ""
