"""`Library.last_run`, `evaluate` and `draw`: judging a recorded run (clustering/recorded.py).
Library inherits them; scikit-learn and matplotlib load only when one is called."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


class RunJudging:
    def last_run(self) -> dict:
        """The run whose playlists are on disk: the last one of any backend (`-b musicnn` then
        `--evaluate` under a handcrafted config judges the musicnn run)."""
        from .clustering import recorded

        return recorded.last_run(self.store)

    def evaluate(self, run: dict, truth: Mapping[str, object] | None = None,
                 label_field: str = "label") -> dict:
        """The measures of a recorded run (external ones against `truth`: path -> label)."""
        from .clustering import recorded

        return recorded.evaluate(self.store, run, truth, label_field)

    def draw(self, run: dict, out: Path, projection: str = "pca", html: bool = False,
             titles: Mapping[str, str] | None = None) -> list[Path]:
        """The run's map; `titles`: path -> "artist - title", for the HTML page."""
        from .clustering import recorded

        return recorded.draw(self.store, run, out, projection, html, titles)
