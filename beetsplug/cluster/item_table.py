"""The beets library's items read in bulk SQL, never as beets Items: building an Item (or
even a Track) per row costs seconds at 100k tracks. For reading only; the write-back goes
through beets_items."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping

from .records import Track


class ItemTable(Mapping):
    """path -> Track of every item. Paths and ids are read at once, the rest of a Track when
    it is asked for: `beet similar` reads every path but the tags of a few hundred tracks."""

    def __init__(self, lib, ids: dict[str, int]):
        self._lib, self._ids = lib, ids

    def __getitem__(self, path: str) -> Track:
        item_id = self._ids[path]
        found = _cursor(self._lib).execute(
            "SELECT length, artist, title, album, albumartist FROM items WHERE id = ?",
            [item_id]).fetchone()
        length, artist, title, album, albumartist = found or (None,) * 5
        label = " - ".join(x for x in (artist, title) if x) or None
        fields = {"artist": artist or None, "album": album or None,
                  "albumartist": albumartist or None, "title": title or None}
        return Track(path, item_id, length or None, label, fields)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, path: object) -> bool:
        return path in self._ids


def read_table(lib) -> ItemTable:
    """Every item of the library: its path and id in one query."""
    from beets.library import Item

    with lib.music_dir_context(), lib.transaction():
        rows = _cursor(lib).execute("SELECT id, path FROM items").fetchall()
        absolute = _expander(Item._type("path").from_sql)
        return ItemTable(lib, {os.fsdecode(absolute(path)): item_id for item_id, path in rows})


_NOT_PLAIN = (b"", b"/", b".")  # an absolute path, a `.` or `..` first, or none


def _cursor(lib):
    cursor = lib._connection().cursor()
    cursor.row_factory = None  # tuples: beets' sqlite3.Row objects cost a third more
    return cursor


def _expander(from_sql: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    """beets (2.12 on) keeps a path under its music directory relative, `a/b.mp3`, which its
    type expands with a join and a normpath per path. A plain relative path (no `.` or `..`
    part, no doubled separator: what beets writes) is the music directory plus the path; any
    other goes through beets' own expansion. A test compares both with the items' paths."""
    home = from_sql(b"x")[:-1]  # the music directory and a separator, or b"" before 2.12
    if not home:
        return from_sql
    sep = os.fsencode(os.sep)

    def absolute(path: bytes) -> bytes:
        if (type(path) is bytes and path[:1] not in _NOT_PLAIN  # TEXT: an old beets wrote it
                and b"/." not in path and b"//" not in path):
            return home + path.replace(b"/", sep)
        return from_sql(path)

    return absolute
