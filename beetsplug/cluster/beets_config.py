"""Settings from beets' config: the one place either front end (the plugin, the daemon) turns
the `cluster:` section, the library's database and its folder into the core's Settings."""

from __future__ import annotations

from pathlib import Path

from beets import config as beets_config
from beets import ui

from .config import Settings, read_view, settings_from


def settings_from_beets(root=beets_config, *, who: str = "cluster", **overrides) -> Settings:
    """Settings from `root` (beets' running config, or a fresh one a daemon reload reads) plus
    command-line overrides (None: not given). A bad value is one line: UserError."""
    try:
        s = settings_from(read_view(root["cluster"]),
                          library_db=Path(root["library"].as_filename()),
                          library_root=Path(root["directory"].as_filename()), **overrides)
    except ValueError as exc:
        raise ui.UserError(f"{who}: bad configuration: {exc}") from exc
    # beets' own import.write (and `beet -W`): whether tags reach the files
    return s.with_(write_tags=ui.should_write())
