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
    check_queries(s.exclude, who)
    # beets' own import.write (and `beet -W`): whether tags reach the files
    return s.with_(write_tags=ui.should_write())


def check_queries(queries, who: str) -> None:
    """`exclude`'s beets queries parsed once at start: a bad one is a config error in one line,
    not a failure deep in a run or in the daemon's loop."""
    from beets.dbcore.query import ParsingError
    from beets.library import Item, parse_query_string

    for query in queries:
        try:
            parse_query_string(query, Item)
        except (ParsingError, ValueError) as exc:
            raise ui.UserError(f"{who}: bad configuration: exclude {query!r}: {exc}") from exc
