"""`beet similar` as a call on the core's Library, and what it prints. Apart from command.py:
it loads no clustering (scikit-learn) and no decoder unless a seed needs analysing."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from beets import ui

from .beets_items import track_of
from .config import Settings
from .errors import ClusterError
from .item_table import read_table
from .library import Library
from .records import Track
from .text import plural


def similar(lib, opts, args, s: Settings) -> None:
    """`beet similar`: seeds from the query (or the two queries of --path, or none with --text),
    candidates the whole library; prints the playlist and where it went."""
    if opts.count < 1:
        raise ClusterError(f"-n must be at least 1, not {opts.count}")
    if opts.path and len(args) != 2:
        raise ClusterError("--path takes two queries, one per song: --path QUERY_A QUERY_B")
    if opts.text is None and not args:
        raise ClusterError("name a song (a query), two with --path, or words with --text")
    if opts.path:  # each argument one query (its own beets query string), its first track
        found = [list(lib.items([q])) for q in args]
        for query, items in zip(args, found):
            if not items:
                raise ClusterError(f"the query {query!r} matched no track")
        seed_items = [items[0] for items in found]
    else:
        seed_items = list(lib.items(args)) if args else []
        if args and not seed_items:
            raise ClusterError("the query matched no tracks")
    core = Library(s, beets=lib)  # `exclude` is matched in beets' database
    try:
        got = core.similar([_similar_track(i) for i in seed_items],
                           read_table(lib), n=opts.count,
                           path=opts.path, text=opts.text, pretend=opts.pretend,
                           out=Path(opts.output) if opts.output else None)
    finally:
        core.close()
    if got.report and got.report.analysed:
        ui.print_(f"similar: analysed {plural(got.report.analysed, 'new song')} first")
    if got.failed or got.unanalysed:
        ui.print_(f"similar: left out {plural(got.failed, 'track')} whose analysis failed and "
                  f"{got.unanalysed} not analysed yet (`beet cluster` analyses them)")
    ui.print_(f"similar: {got.name} ({plural(len(got.tracks), 'track')} of {got.candidates})")
    for pos, p in enumerate(got.tracks, 1):
        ui.print_(f"{pos:>3}{'*' if p.moved else ' '} {p.distance:.3f}  {p.label}")
    if any(p.moved for p in got.tracks):
        ui.print_("similar: * moved down for variety (the track above it is by the same "
                  "artist), so its distance is out of order")
    ui.print_(f"similar: wrote {got.file}" if got.file else
              "similar: --pretend: no playlist written")


def _similar_track(item) -> Track:
    t = track_of(item)  # the variety rules need artist and album too
    extra = {k: item.get(k) or None for k in ("artist", "album", "albumartist", "title")}
    return dataclasses.replace(t, fields={**(t.fields or {}), **extra})
