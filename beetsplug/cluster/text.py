"""Wording shared by every message the plugin and the daemon print."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """"1 track", "2 tracks", "0 tracks"; `many` for words that do not just add an "s"."""
    return f"{n} {word if n == 1 else many or word + 's'}"
