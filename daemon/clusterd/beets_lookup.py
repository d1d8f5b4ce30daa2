"""The daemon's side of the beets library: open it, find a file's item, add unknown files."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable

from beets import config, library, plugins
from beets.dbcore.query import PathQuery
from beets.ui import UserError

from beetsplug.cluster import log as cluster_log
from beetsplug.cluster.beets_items import item_path

log = cluster_log.get(__name__)

# `beet import` puts a file in place and writes its tags before it stores the item (with copy
# or move, all items of an album in one transaction after the last file). A file untouched for
# this long that beets still does not know is taken to be no import's.
LOOKUP_GRACE = 1.0
LOOKUP_STEP = 0.2


def open_library() -> library.Library:
    """Load the configured beets plugins (field types, media fields) and open the library, as
    `beet` does. Raises UserError with a clear line."""
    plugins.load_plugins()
    if not any(p.name == "cluster" for p in plugins.find_plugins()):
        raise UserError("clusterd: the beets config does not load the cluster plugin; "
                        "add `cluster` to `plugins:`")
    try:
        lib = library.Library(config["library"].as_path(), config["directory"].as_filename())
        lib.get_item(0)  # fail here, not in the worker, on a bad database file
    except (sqlite3.OperationalError, sqlite3.DatabaseError) as exc:
        raise UserError(f"clusterd: cannot open the beets library: {exc}") from exc
    return lib


def item_at(lib: library.Library, path: str) -> library.Item | None:
    # PathQuery also matches files under a folder of that name: keep the exact match only.
    found = [i for i in lib.items(PathQuery("path", os.fsencode(path))) if item_path(i) == path]
    return found[0] if found else None


def _last_change(path: str) -> float:
    try:
        st = os.stat(path)
    except OSError:
        return 0.0
    return max(st.st_mtime, st.st_ctime)  # ctime: tag writes and renames count too


def find_items(lib: library.Library, paths: Iterable[str], *, grace: float = LOOKUP_GRACE,
               clock: Callable[[], float] = time.time,
               sleep: Callable[[float], None] = time.sleep) -> dict[str, library.Item]:
    """path -> item for those files beets knows, retrying for up to `grace` seconds after a
    file's last change, so an import still committing is not mistaken for an unknown file.
    Paths in one call share the wait: eight new files cost one grace period, not eight."""
    missing = list(dict.fromkeys(paths))
    found: dict[str, library.Item] = {}
    start = clock()
    give_up = min(max((_last_change(p) for p in missing), default=0.0) + grace, start + grace)
    while missing:
        for path in list(missing):
            item = item_at(lib, path)
            if item is not None:
                found[path] = item
                missing.remove(path)
        if not missing or clock() >= give_up:
            break
        sleep(LOOKUP_STEP)
    return found


def add_files(lib: library.Library, paths: Iterable[str]) -> dict[str, library.Item]:
    """Add files to beets as they are (`beet import -A -s` with copy/move off): singletons,
    tags read from the file, no autotagging, the file left where it is."""
    out: dict[str, library.Item] = {}
    for path in paths:
        try:
            item = library.Item.from_path(os.fsencode(path))
        except library.ReadError as exc:
            log.warning("not adding {} to beets: {}", path, exc)
            continue
        lib.add(item)
        log.info("added {} to the beets library", path)
        out[path] = item
    return out
