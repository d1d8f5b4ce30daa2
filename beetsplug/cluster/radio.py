"""The radio's choice of next songs, called by the core's `Library.next_songs`: the similar
ranking (similar.find: seeds, variety rules) over the candidates less the recent songs, then
the listener's history lets often-skipped and low-rated songs sink. No I/O of its own; the
front end (radio_command.py) talks to the player.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from .records import Track
from .similar import Picked, SimilarList

# How far a song sinks: one skipped every time it came up ranks as if its distance were
# 1 + SKIP_SINK times what it is, one rated 0 as if 1 + RATING_SINK times. A factor, not an
# added distance: how far apart the nearest songs sit depends on the library and the backend
# (measured 0.3-1.0 on 12 clips, far less in a big library).
SKIP_SINK = 2.0
RATING_SINK = 2.0
NEUTRAL_RATING = 0.5  # mpdstats' starting rating; only a rating under it sinks a song
MIN_PLAYS = 2  # plays + skips before the skip ratio counts: one early skip says little


@dataclass(frozen=True)
class Listening:
    """One song's history as beets' mpdstats plugin keeps it (None: not kept)."""

    play_count: int = 0
    skip_count: int = 0
    last_played: float | None = None  # unix time
    rating: float | None = None  # 0..1


def sink(h: Listening | None) -> float:
    """How much farther a song ranks than its distance says, from its history: its distance
    is multiplied by 1 + this."""
    if h is None:
        return 0.0
    heard = h.play_count + h.skip_count
    skips = h.skip_count / heard if heard >= MIN_PLAYS else 0.0
    low = max(0.0, NEUTRAL_RATING - h.rating) / NEUTRAL_RATING if h.rating is not None else 0.0
    return SKIP_SINK * skips + RATING_SINK * low


def recent(history: Mapping[str, Listening], queued: Mapping[str, float], hours: float,
           now: float | None = None) -> set[str]:
    """The songs played (mpdstats' last_played) or queued by the radio within `hours`."""
    since = (time.time() if now is None else now) - hours * 3600
    played = {p for p, h in history.items() if h.last_played and h.last_played >= since}
    return played | {p for p, at in queued.items() if at >= since}


class _Without(Mapping):
    """`tracks` less the paths in `gone`, still read lazily (an ItemTable reads a Track only
    when it is asked for)."""

    def __init__(self, tracks: Mapping[str, Track], gone: set[str]):
        self.tracks, self.gone = tracks, gone

    def __getitem__(self, path: str) -> Track:
        if path in self.gone:
            raise KeyError(path)
        return self.tracks[path]

    def __iter__(self) -> Iterator[str]:
        return (p for p in self.tracks if p not in self.gone)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def next_songs(find: Callable[..., SimilarList], seeds: list[Track],
               tracks: Mapping[str, Track], *, n: int, avoid: set[str],
               history: Mapping[str, Listening]) -> list[Picked]:
    """The `n` songs to queue after seeds[0]: near all the seeds, none of `avoid` (recent and
    queued songs) nor a seed, the variety rules kept, then re-ranked by distance times
    (1 + sink)."""
    if n < 1:
        return []
    own = {t.path for t in seeds}
    pool = _Without(tracks, avoid | own)
    # More than n from the ranking, so that a sunk song has others to fall behind; the seeds
    # lead the ranking (the first one is placed first) and are dropped.
    got = find(seeds, pool, n=n * 3 + len(seeds), pretend=True)
    fresh = [p for p in got.tracks if p.path not in own and p.path not in avoid]
    fresh.sort(key=lambda p: p.distance * (1 + sink(history.get(p.path))))
    return fresh[:n]
