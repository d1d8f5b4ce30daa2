"""What a clustering run is made of, as one digest: the tracks (path, beets id, length, title,
the fields names use), each one's stored analysis (version, when analysed, usable), the
options that shape the run or its output, and the backend's version. A run records it; when
the next run's digest is the same and the last run's playlist files are as it left them, the
last run stands: nothing is fitted, written or recorded again (issue 20: `beet cluster` with
nothing changed on 100k tracks in a few seconds, not a full recluster)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from .config import Settings
from .records import Track

# Options that change neither the run nor where and how it is written: how the work is spread
# and the other commands' options. Every other option (a new one too) counts.
_IRRELEVANT = frozenset({"workers", "dask", "device", "cache_dir", "similar_per_artist",
                         "similar_per_album", "similar_dir", "import_new", "radio_ahead",
                         "radio_recent", "radio_seeds"})


def digest(tracks: list[Track], stamps: Mapping[str, tuple], s: Settings, backend: str,
           version: str, *, same_k: bool = False) -> str:
    """One hex string for the run's inputs (`stamps`: Store.stamps of the tracks)."""
    h = hashlib.sha256()
    options = {f.name: getattr(s, f.name) for f in dataclasses.fields(s)
               if f.name not in _IRRELEVANT}
    h.update(repr((backend, version, same_k, sorted(options.items()))).encode())
    for t in sorted(tracks, key=lambda t: t.path):
        fields = sorted((t.fields or {}).items())
        # repr: a path with surrogate escapes (bytes that are not UTF-8) is spelled safely
        h.update(repr((t.path, t.item_id, t.duration, t.display_name, fields,
                       stamps.get(t.path))).encode())
    return h.hexdigest()


def file_stamps(listed: Mapping[Path, int]) -> dict[str, list]:
    """Each written playlist file: [size, mtime in ns, tracks it lists]."""
    out = {}
    for f, count in listed.items():
        st = os.stat(f)
        out[os.fsdecode(f)] = [st.st_size, st.st_mtime_ns, count]
    return out


def files_stand(stamps: Mapping[str, list]) -> bool:
    """The playlist files are as the run wrote them: none gone, none written since (the
    daemon's placements, a user's edit, a restore)."""
    for name, (size, mtime_ns, _) in stamps.items():
        try:
            st = os.stat(name)
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns) != (size, mtime_ns):
            return False
    return True
