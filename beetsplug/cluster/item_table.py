"""The beets library's items read and written in bulk SQL, never as beets Items: building an
Item (or even a Track) per row costs seconds at 100k tracks, and one Item.store per track
minutes. This is the one module that uses beets' private API, and only for that speed:

    lib._connection()           a raw cursor with tuple rows (sqlite3.Row costs a third more)
    Item._fields, Item._type()  which fields are columns, and their SQL conversion
    raw SQL on `items` and `item_attributes`    beets' own schema, read and written in bulk
    _expander                   beets' path expansion without a normpath per path

beets_items.py does the rest through beets' public API (Items, queries, Item.store/write);
a beets upgrade that changes any of the above breaks this file only (CI runs the tests on the
oldest beets pyproject allows and on the newest)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from .records import Track

if TYPE_CHECKING:
    from .radio import Listening

NAME_FIELDS = ("album", "artist", "genre", "year")  # words for playlist names beside the sound


# beets 2.14 turned these string fields into lists (`genre` -> `genres`); beets before it has
# only the strings, and on 2.14 `genre` is empty. Either name reads whichever the item has.
LIST_FIELDS = {"genre": "genres", "composer": "composers", "lyricist": "lyricists",
               "arranger": "arrangers", "remixer": "remixers"}
_TAGS = ("artist", "title", "album", "albumartist")  # what `beet similar`'s variety rules read


def read_tracks(lib, query: Sequence[str] = ()) -> list[Track] | None:
    """The query's items as Tracks (with the fields playlists are named by), in one SQL query
    with beets' own clause for the query. None for a query beets matches in Python (a flexible
    field such as `cluster:3`, an album's field): the caller reads beets Items then."""
    from beets.library import Item, parse_query_parts

    with lib.music_dir_context():
        parsed, _ = parse_query_parts(list(query), Item)
        where, values = parsed.clause()
        if where is None or parsed.field_names - set(Item._fields):
            return None
        reader = _Reader(lib, NAME_FIELDS)
        return [reader.track(row) for row in reader.select(f"WHERE {where}", values)]


def item_ids(lib, query: str) -> set[int] | None:
    """The ids of the items a query string matches, in one SQL query; None for a query beets
    matches in Python (the caller asks beets for Items then)."""
    from beets.library import Item, parse_query_string

    with lib.music_dir_context():
        parsed, _ = parse_query_string(query, Item)
        where, values = parsed.clause()
        if where is None or parsed.field_names - set(Item._fields):
            return None
        with lib.transaction():
            rows = _cursor(lib).execute(f"SELECT id FROM items WHERE {where}", list(values))
            return {item_id for (item_id,) in rows}


def read_flexible(lib, keys: Sequence[str], column: str) -> dict[int, dict[str, object]]:
    """item id -> {key: SQL value} of the flexible fields `keys`, plus the items' `column`
    (every item), in two queries through tuple rows (beets' Row objects cost a third more)."""
    out: dict[int, dict[str, object]] = {}
    with lib.transaction():
        cursor = _cursor(lib)
        for item_id, value in cursor.execute(f"SELECT id, {column} FROM items"):
            out[item_id] = {column: value}
        rows = cursor.execute("SELECT entity_id, key, value FROM item_attributes WHERE key IN "
                              f"({', '.join('?' * len(keys))})", list(keys))
        for item_id, key, value in rows:
            out.setdefault(item_id, {})[key] = value
    return out


def read_clustered(lib, besides: Sequence[Track] = ()) -> list[Track]:
    """The items that hold a cluster now (an earlier run's members) other than `besides`, as
    path and id: the query `cluster:0..` would build a beets Item for each to match it."""
    from .output.file_tags import CLUSTER

    skip = {t.item_id for t in besides}
    found = _paths_and_ids(lib, "WHERE id IN (SELECT entity_id FROM item_attributes "
                                "WHERE key = ?)", [CLUSTER])
    return [Track(path, item_id) for path, item_id in found if item_id not in skip]


def read_table(lib) -> ItemTable:
    """Every item of the library: its path and id in one query, the rest when asked for."""
    # The reader's path expansion is made in the library's context: outside `beet` (the
    # daemon's radio) beets knows no music folder otherwise, and the Tracks' paths came out
    # relative while the table's keys were absolute.
    with lib.music_dir_context():
        reader = _Reader(lib, _TAGS)
    return ItemTable(reader, dict(_paths_and_ids(lib, "", [])))


HISTORY = ("play_count", "skip_count", "last_played", "rating")  # mpdstats' flexible fields


def read_history(lib) -> dict[str, Listening]:
    """path -> Listening of every item that has mpdstats' fields, in one query (flexible
    fields: beets would build an Item per track to read them)."""
    from .radio import Listening

    with lib.transaction():
        rows = _cursor(lib).execute(
            "SELECT entity_id, key, value FROM item_attributes WHERE key IN (?, ?, ?, ?)",
            HISTORY).fetchall()
    if not rows:
        return {}
    found: dict[int, dict[str, float]] = {}
    for item_id, key, value in rows:
        try:
            found.setdefault(item_id, {})[key] = float(value)
        except (TypeError, ValueError):  # a hand-set value that is no number: not history
            continue
    paths = {item_id: p for p, item_id in _paths_and_ids(lib, "", [])}
    return {paths[i]: Listening(int(f.get("play_count", 0)), int(f.get("skip_count", 0)),
                                f.get("last_played"), f.get("rating"))
            for i, f in found.items() if i in paths}


def item_paths(lib, paths: Sequence[str]) -> set[str]:
    """Those of `paths` that are beets items now (one pass over the items' paths)."""
    wanted = set(paths)
    return {p for p, _ in _paths_and_ids(lib, "", []) if p in wanted} if wanted else set()


def _paths_and_ids(lib, where: str, values: Sequence) -> list[tuple[str, int]]:
    """(absolute path, id) of the items `where` selects, in one query."""
    from beets.library import Item

    with lib.music_dir_context(), lib.transaction():
        rows = _cursor(lib).execute(f"SELECT id, path FROM items {where}", list(values))
        absolute = _expander(Item._type("path").from_sql)
        return [(os.fsdecode(absolute(path)), item_id) for item_id, path in rows]


class ItemTable(Mapping):
    """path -> Track of every item, each Track read when it is asked for: `beet similar` reads
    every path but the tags of a few hundred tracks."""

    def __init__(self, reader: _Reader, ids: dict[str, int]):
        self._reader, self._ids = reader, ids

    def bare(self) -> list[Track]:
        """Every item as path and id only (no tags read)."""
        return [Track(path, item_id) for path, item_id in self._ids.items()]

    def without(self, paths: set[str]) -> ItemTable:
        """The table less `paths`."""
        if not paths:
            return self
        return ItemTable(self._reader, {p: i for p, i in self._ids.items() if p not in paths})

    def __getitem__(self, path: str) -> Track:
        rows = self._reader.select("WHERE id = ?", [self._ids[path]])
        return self._reader.track(rows[0]) if rows else Track(path, self._ids[path])

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, path: object) -> bool:
        return path in self._ids


class _Reader:
    """Rows of the items table -> Tracks, with `fields` as beets_items.track_of gives them:
    None for beets' empty values, a list field (beets 2.14's `genres`) by its first value."""

    def __init__(self, lib, fields: Sequence[str]):
        from beets.library import Item

        self.lib = lib
        known = set(Item._fields)
        sources = {f: [c for c in (f, LIST_FIELDS.get(f)) if c and c in known] for f in fields}
        extra = sorted({c for cs in sources.values() for c in cs} - {"artist", "title"})
        self.columns = ["id", "path", "length", "artist", "title", *extra]
        # per field, the columns it is read from (the first that holds a value wins)
        self.sources = {f: [(self.columns.index(c), Item._type(c).from_sql) for c in cs]
                        for f, cs in sources.items()}
        self.absolute = _expander(Item._type("path").from_sql)

    def select(self, where: str, values: Sequence) -> list[tuple]:
        with self.lib.music_dir_context(), self.lib.transaction():
            return _cursor(self.lib).execute(
                f"SELECT {', '.join(self.columns)} FROM items {where}", list(values)).fetchall()

    def track(self, row: tuple) -> Track:
        item_id, path, length, artist, title = row[:5]
        display_name = " - ".join(x for x in (artist, title) if x) or None
        fields = {f: next((v for i, from_sql in cs if row[i] is not None
                           and (v := _first(from_sql(row[i]))) is not None), None)
                  for f, cs in self.sources.items()}
        return Track(os.fsdecode(self.absolute(path)), item_id, length or None, display_name,
                     fields)


def _first(value):
    """A list field by its first value; beets' empty values ("" and 0) as None."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return None if value in ("", 0) else value


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


def store_fields(lib, changes: Mapping[int, Mapping]) -> int:
    """The new values straight into beets' tables, in one transaction, as Item.store would
    write them (its types' SQL values; a flexible field of None is deleted): one Item.store
    per track costs minutes at 100k tracks. Only when no plugin listens for database_change."""
    from beets.library import Item

    types: dict = {}
    columns: dict[str, list] = {}  # key -> (value, id) rows: one executemany per statement
    deletes: list[tuple[int, str]] = []
    inserts: list[tuple[int, str, object]] = []
    for item_id, fields in changes.items():
        for key, value in fields.items():
            sql = None if value is None else (
                types.get(key) or types.setdefault(key, Item._type(key))).to_sql(value)
            if key in Item._fields:
                columns.setdefault(key, []).append((sql, item_id))
                continue
            deletes.append((item_id, key))
            if sql is not None:
                inserts.append((item_id, key, sql))
    with lib.transaction():
        cursor = _cursor(lib)
        for key, rows in columns.items():
            cursor.executemany(f"UPDATE items SET {key} = ? WHERE id = ?", rows)
        cursor.executemany("DELETE FROM item_attributes WHERE entity_id = ? AND key = ?",
                           deletes)
        cursor.executemany("INSERT INTO item_attributes (entity_id, key, value) "
                           "VALUES (?, ?, ?)", inserts)
    return len(changes)
