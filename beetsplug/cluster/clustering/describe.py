"""The words that describe a cluster by what sets it apart from the rest of this library.

Every source of words becomes axes on one scale, the standardised difference between the
cluster and the library's average: a descriptor (tempo, brightness, ...) as (cluster median -
library median) / library standard deviation; a tag probability or a beets field value (album,
artist, genre, decade) as a share, (cluster share - library share) / sqrt(p (1 - p)), which is
the same measure for a 0/1 indicator. So "Pushover" (all of the cluster, a quarter of the
library), "fast" (1.2 deviations above the library's tempo) and "rock" compete on one scale,
and a name leads with the largest difference, not with a band that most clusters share.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

SEP = " · "
# Descriptor -> (word below the library's average, word above it): words a person would use.
WORDS: dict[str, tuple[str, str]] = {
    "tempo": ("slow", "fast"),
    "brightness": ("dark", "bright"),
    "energy": ("calm", "energetic"),
    "density": ("sparse", "busy"),
    "pulse": ("ambient", "rhythmic"),
}
ALIASES = {"bpm": "tempo", "spectral_centroid": "brightness", "centroid": "brightness",
           "rms": "energy", "loudness": "energy", "onsets": "density"}  # fmt: skip
# A word names a cluster from this difference on (in library standard deviations); below it,
# only a cluster's single largest difference does, so that no name is empty.
TELLING = 0.3
# From this difference on a descriptor's word becomes "very ...".
VERY = 1.0
# The share of a cluster's tracks a beets field value must hold to name it (to tell two
# same-named clusters apart, a quarter is enough).
NAME_SHARE, REFINE_SHARE = 0.5, 0.25

Words = dict[int, list[str]]


@dataclass
class Axis:
    """One thing clusters differ by: its standardised difference per cluster, and its words."""

    high: str | None  # the word for a cluster above the library's average
    low: str | None = None  # ... below it (tags and field values have none)
    scaled: bool = False  # a descriptor: "very ..." far from the average
    diff: dict[int, float] = field(default_factory=dict)
    may_name: dict[int, bool] = field(default_factory=dict)  # absent: True

    def word(self, c: int) -> str | None:
        d = self.diff.get(c, 0.0)
        base = self.high if d > 0 else self.low if d < 0 else None
        if base is None or not self.may_name.get(c, True):
            return None
        return f"very {base}" if self.scaled and abs(d) >= VERY else base


def descriptor_axes(descriptors: Mapping[str, np.ndarray],
                    members: Mapping[int, np.ndarray]) -> list[Axis]:
    """Keys "tempo", "brightness", "energy", "density", "pulse" (or an alias); any other key
    reads "low <key>" / "high <key>". Units do not matter: the difference is in deviations."""
    out = []
    for key, values in descriptors.items():
        name = ALIASES.get(key, key)
        low, high = WORDS.get(name, (f"low {name}", f"high {name}"))
        values = np.asarray(values, dtype=np.float64)
        ok = np.isfinite(values)
        if ok.sum() < 2:
            continue
        center, spread = np.median(values[ok]), values[ok].std()
        axis = Axis(high, low, scaled=True)
        for c, m in members.items():
            if (m & ok).any() and spread > 0:
                axis.diff[c] = float((np.median(values[m & ok]) - center) / spread)
        out.append(axis)
    return out


def _share_diff(inside: float, overall: float) -> float:
    if overall <= 0 or overall >= 1:
        return 0.0  # a value every track (or none) holds tells no cluster apart
    return (inside - overall) / float(np.sqrt(overall * (1 - overall)))


def tag_axes(tags: np.ndarray, tag_names: Sequence[str],
             members: Mapping[int, np.ndarray]) -> list[Axis]:
    """A tag's probability read as a soft 0/1: over-represented tags name a cluster."""
    tags = np.asarray(tags, dtype=np.float64)
    overall = tags.mean(axis=0)
    inside = {c: tags[m].mean(axis=0) for c, m in members.items()}
    return [Axis(name, diff={c: _share_diff(float(v[i]), float(overall[i]))
                             for c, v in inside.items()})
            for i, name in enumerate(tag_names)]


def field_value(field: str, value: object) -> list[str]:
    """The words one track contributes for one field: none for empty, each item of a list."""
    if value is None or value == "" or value == 0:  # beets stores a missing year as 0
        return []
    if isinstance(value, (list, tuple, set)):
        return [w for v in value for w in field_value(field, v)]
    if field in ("year", "original_year") and isinstance(value, (int, np.integer)):
        return [f"{int(value) // 10 * 10}s"]
    return [str(value).strip()] if str(value).strip() else []


def field_axes(fields: Mapping[str, Sequence[object]],
               members: Mapping[int, np.ndarray]) -> list[Axis]:
    """One axis per beets field value (album, artist, genre, decade, ...): the share of a
    cluster's tracks that hold it against the library's. It names a cluster where at least
    NAME_SHARE of its tracks hold it; a value in several fields (an album called after its
    artist) is one word."""
    n = len(next(iter(fields.values()), ()))
    holders: dict[str, set[int]] = {}
    spelled: dict[str, str] = {}  # the first spelling seen
    for name, values in fields.items():
        for i in range(n):
            for word in field_value(name, values[i]):
                holders.setdefault(word.casefold(), set()).add(i)
                spelled.setdefault(word.casefold(), word)
    owner = np.full(n, -1)
    for c, m in members.items():
        owner[m] = c
    sizes = {c: int(m.sum()) for c, m in members.items()}
    out = []
    for key, rows in holders.items():  # one pass over each value's holders: 20k tracks, 2k albums
        held = Counter(owner[list(rows)].tolist())
        shares = {c: held.get(c, 0) / size if size else 0.0 for c, size in sizes.items()}
        if max(shares.values(), default=0.0) < REFINE_SHARE:
            continue  # no cluster holds it enough to be named or told apart by it
        overall = len(rows) / n
        out.append(Axis(spelled[key],
                        diff={c: _share_diff(v, overall) if v >= REFINE_SHARE else 0.0
                              for c, v in shares.items()},
                        may_name={c: v >= NAME_SHARE for c, v in shares.items()}))
    return out


def cluster_words(axes: Sequence[Axis], c: int, words: int = 3) -> list[str]:
    """The words of the axes where cluster c differs most from the library: those of at least
    TELLING deviations, largest first, at most `words`; else the single largest one."""
    ranked = sorted(((abs(a.diff.get(c, 0.0)), i) for i, a in enumerate(axes)
                     if a.word(c) is not None), key=lambda t: (-t[0], t[1]))
    out: list[str] = []
    for size, i in ranked:
        w = axes[i].word(c)
        if len(out) == words or (out and size < TELLING) or size <= 0:
            break
        if w is not None and w.casefold() not in {x.casefold() for x in out}:
            out.append(w)
    return out


def refine(axes: Sequence[Axis], group: list[int], found: Words) -> Words:
    """One more word for each cluster of a same-named group where it lies beyond every other
    member on some axis: the word of the axis with the widest such gap ("fast" where all
    are fast: "very fast" for the fastest). Two clusters that differ on any axis with words
    get different names within a few rounds; only the others need a counter."""
    out = {}
    for c in group:
        best, widest = None, 1e-9
        for a in axes:
            if c not in a.diff:
                continue
            others = [a.diff[o] for o in group if o != c and o in a.diff]
            if not others:
                continue
            have = {x.casefold() for x in found[c]}
            for gap, base, opposite in ((a.diff[c] - max(others), a.high, a.low),
                                        (min(others) - a.diff[c], a.low, a.high)):
                if gap <= widest or base is None or not a.may_name.get(c, True):
                    continue
                word = base
                if base.casefold() in have or f"very {base}".casefold() in have:
                    if not a.scaled or f"very {base}".casefold() in have:
                        continue
                    word = f"very {base}"
                elif opposite is not None and any(opposite.casefold() in x for x in have):
                    continue  # "fast" beside "slow": the group's order reads as a contradiction
                best, widest = word, gap
        if best is not None:  # "very fast" takes the place of "fast"
            plain = [x for x in found[c] if f"very {x}".casefold() == best.casefold()]
            out[c] = ([best if x in plain else x for x in found[c]] if plain
                      else [*found[c], best])
    return out
