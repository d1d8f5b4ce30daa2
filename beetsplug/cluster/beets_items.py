"""beets items <-> the core's tracks, and THE write-back: through beets for its items, straight
into the file for a file beets does not know."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from pathlib import Path

from . import sound_fields
from .errors import ClusterError
from .item_table import LIST_FIELDS, NAME_FIELDS, item_ids, read_flexible, store_fields
from .log import log
from .output.file_tags import CLUSTER, PLAYLIST, tag_files, write_file_tags
from .records import Assignment, Track
from .sound_fields import SoundFields


def item_path(item) -> str:
    return os.fsdecode(item.path)


_SINGULAR = {many: one for one, many in LIST_FIELDS.items()}


def field_label(item, field: str):
    """A beets field's value as one label: a list field (`genres`) by its first value.

    `genre` and `genres` (and the other fields beets 2.14 made lists) stand for each other, so
    one name works on every beets 2.x. None for an empty value (beets' "" or 0).
    """
    for name in (field, LIST_FIELDS.get(field) or _SINGULAR.get(field)):
        value = item.get(name) if name else None
        if isinstance(value, (list, tuple)):
            value = value[0] if value else None
        if value is not None and value not in ("", 0):
            return value
    return None


def track_of(item) -> Track:
    display_name = " - ".join(x for x in (item.get("artist"), item.get("title")) if x)
    fields = {f: field_label(item, f) for f in NAME_FIELDS}
    return Track(item_path(item), item.id, item.get("length") or None, display_name or None,
                 fields, item=item)


def write_back(tracks: Iterable[Track], assignments: Mapping[str, Assignment], *, write: bool,
               grouping: bool, written: Callable[[str], None] | None = None,
               lib=None) -> int:
    """Each track's cluster (or none, where the run has none for it) into beets and the file;
    returns how many changed. `written(path)` follows each file write. Tracks read in bulk
    (an id, no Item) need `lib`: only those whose values change are touched."""
    items, by_id, files = [], [], []
    for t in tracks:
        if t.item is not None:
            items.append(t.item)
        elif t.item_id is not None and lib is not None:
            by_id.append(t)
        else:
            files.append(t.path)
    changed = 0
    if by_id:
        changes = changed_fields(lib, by_id, assignments, grouping)
        if write or _listened("database_change"):  # a file to write, a plugin to tell: Items
            items += _items(lib, list(changes))
        else:
            changed += store_fields(lib, changes)
    with lib.transaction() if lib is not None else nullcontext():  # one commit for them all
        changed += apply_assignments(items, assignments, write=write, grouping=grouping,
                                     written=written)
    if write:  # no beets item to hold them: the file is their only place
        changed += tag_files(files, assignments, grouping=grouping, written=written)
    return changed


def changed_fields(lib, tracks: list[Track], assignments: Mapping[str, Assignment],
                   grouping: bool) -> dict[int, dict]:
    """item id -> its new cluster fields (None: to clear), for the tracks whose stored values
    the assignments change, compared in one query by apply_assignments' rule (_holds)."""
    with lib.transaction() as tx:
        flex = tx.query("SELECT entity_id, key, value FROM item_attributes WHERE key IN (?, ?)",
                        [CLUSTER, PLAYLIST])
        groups = dict(tx.query("SELECT id, grouping FROM items")) if grouping else {}
    now: dict[int, dict] = {}
    for item_id, key, value in flex:
        now.setdefault(item_id, {})[key] = value
    out = {}
    for t in tracks:
        new = new_fields(assignments.get(t.path), grouping)
        have = {**now.get(t.item_id, {}), "grouping": groups.get(t.item_id)}
        have[CLUSTER] = _number(have.get(CLUSTER))  # stored as the flexible field's SQL text
        if not _holds(have.get, new):
            out[t.item_id] = new
    return out


def _items(lib, ids: list[int]) -> list:
    from beets.dbcore.query import MatchQuery, OrQuery

    return [item for i in range(0, len(ids), 500)
            for item in lib.items(OrQuery([MatchQuery("id", n) for n in ids[i : i + 500]]))]


def _listened(event: str) -> bool:
    from beets import plugins

    return bool((getattr(plugins.BeetsPlugin, "listeners", None) or {}).get(event))


def _number(value) -> int | None:
    try:
        return int(value) or None
    except (TypeError, ValueError):
        return None


def strays(known: Iterable[str], stored: Iterable[str], roots: Iterable[Path]) -> list[Track]:
    """Files the store knows under `roots` that still exist but beets does not (`known`): the
    files the daemon placed without beets. A whole-library recluster keeps them, so their
    playlists and file tags never disagree."""
    known, folders = set(known), tuple(os.path.join(os.fspath(r), "") for r in roots)
    return [Track(p) for p in stored
            if p not in known and p.startswith(folders) and os.path.exists(p)]


def apply_assignments(items: Iterable, assignments: dict[str, tuple[int, float, str]], *,
                      write: bool, grouping: bool,
                      written: Callable[[str], None] | None = None) -> int:
    """Set `cluster`/`cluster_playlist` on items; clear them where an item has no cluster now.

    Only items whose values change are stored and written, so a second identical run touches no
    file. `written(path)` is called after each file write (the store re-stamps the file, whose
    audio did not change). Returns the number of items changed.
    """
    changed = 0
    for item in items:
        new = new_fields(assignments.get(item_path(item)), grouping)
        if _holds(item.get, new):
            continue
        _set_fields(item, new)
        if write and _write_ours(item, new) and written:
            written(item_path(item))
        item.store()
        changed += 1
    return changed


def _write_ours(item, new: Mapping) -> bool:
    """Our fields alone into the item's file (beets' Item.try_write would write all of them);
    a file that cannot be written is a warning, as try_write makes it. True if written."""
    path = item_path(item)
    try:
        write_file_tags(Path(path), new[CLUSTER], new[PLAYLIST], grouping="grouping" in new)
    except ClusterError as exc:
        log.warning("{}", exc)
        return False
    item.mtime = item.current_mtime()  # as Item.write keeps it: `beet update` sees no change
    return True


def new_fields(found: Assignment | None, grouping: bool) -> dict:
    """The fields an item's assignment gives it (None: the field is cleared)."""
    new = ({CLUSTER: found.cluster, PLAYLIST: found.playlist} if found else
           {CLUSTER: None, PLAYLIST: None})
    if grouping and found:
        new["grouping"] = found.playlist
    return new


def _holds(current: Callable[[str], object], new: Mapping) -> bool:
    """Whether an item holds these values already. An import reads our absent file tags as
    cluster 0 and playlist "": no cluster either."""
    return all((current(k) or None) == v for k, v in new.items())


def write_sound_fields(tracks: Iterable[Track], found: Mapping[str, SoundFields],
                       lib=None) -> int:
    """Each track's sound fields into beets' database (never into its file), and its tempo as
    `bpm` where the item has none (as beets' autobpm does). Only changed values are stored:
    tracks read in bulk (an id, no Item) are compared in one query and written in one
    transaction; returns how many items changed."""
    items, by_id = [], []
    for t in tracks:
        if t.path not in found:
            continue
        if t.item is not None:
            items.append(t.item)
        elif t.item_id is not None and lib is not None:
            by_id.append(t)
    changed = 0
    if by_id:
        changes = _changed_sound_fields(lib, by_id, found)
        if _listened("database_change"):  # a plugin to tell: through Items
            items += _items(lib, list(changes))
        else:
            changed += store_fields(lib, changes)
    with lib.transaction() if lib is not None else nullcontext():
        for item in items:
            new = _sound_changes(found[item_path(item)], item.get)
            if not new:
                continue
            _set_fields(item, new)
            item.store()  # the database only: item.write() is never called for these
            changed += 1
    return changed



def _set_fields(item, values: Mapping[str, object]) -> None:
    """Each value on the item; None removes the field (beets has no null flexible field)."""
    for key, value in values.items():
        if value is None:
            if key in item:
                del item[key]
        else:
            item[key] = value

def _changed_sound_fields(lib, tracks: list[Track],
                          found: Mapping[str, SoundFields]) -> dict[int, dict]:
    now = read_flexible(lib, sound_fields.FIELDS, "bpm")
    out = {}
    for t in tracks:
        # the flexible fields' SQL text, read as our types
        have = {k: v if k == "bpm" else sound_fields.parse(k, v)
                for k, v in now.get(t.item_id, {}).items()}
        new = _sound_changes(found[t.path], have.get)
        if new:
            out[t.item_id] = new
    return out


def _sound_changes(fields: SoundFields, current: Callable[[str], object]) -> dict:
    """The values that differ from the item's (None: clear the field); `bpm` only where the
    item has none."""
    new = {k: v for k, v in fields.values.items() if current(k) != v
           and not (v is None and current(k) in (None, ""))}
    if not current("bpm") and fields.bpm:
        new["bpm"] = fields.bpm
    return new


NO_MUSIC = ".nomusic"  # a file of this name keeps its folder and every folder under it out


def excluded(tracks: Iterable[Track], queries: Iterable[str], lib=None) -> set[str]:
    """The paths of `tracks` to keep out: items matching any of the beets `queries` (the
    `exclude` option), and files in a folder (or under one) that holds a `.nomusic` file. One
    SQL query per exclude query where beets can match it in SQL; a folder's marker is looked
    for once, however many tracks it holds."""
    from beets.dbcore.query import ParsingError
    from beets.library import Item, parse_query_string

    tracks, queries, marks = list(tracks), list(queries), {}
    out = {t.path for t in tracks if _marked(os.path.dirname(t.path), marks)}
    if not queries or not any(t.item_id is not None or t.item is not None for t in tracks):
        return out  # files beets does not hold (the daemon's question) match no query
    try:
        parsed = [parse_query_string(q, Item)[0] for q in queries]
        ids: set[int] = set()
        if lib is not None:
            for q in queries:
                found = item_ids(lib, q)
                ids.update(found if found is not None else (i.id for i in lib.items(q)))
    except (ParsingError, ValueError) as exc:  # checked at start; a caller without that
        raise ClusterError(f"exclude: {exc}") from exc
    for t in tracks:
        if (t.item_id in ids if lib is not None and t.item_id is not None
                else t.item is not None and any(q.match(t.item) for q in parsed)):
            out.add(t.path)
    return out


def _marked(folder: str, seen: dict[str, bool]) -> bool:
    """Whether `folder` or a folder above it holds a `.nomusic` file (`seen`: the answers so
    far, one stat per folder)."""
    if folder in seen:
        return seen[folder]
    parent = os.path.dirname(folder)
    found = os.path.lexists(os.path.join(folder, NO_MUSIC)) or (
        parent != folder and _marked(parent, seen))
    seen[folder] = found
    return found
