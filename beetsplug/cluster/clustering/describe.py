"""The words that describe a cluster: over-represented tags, band words for descriptors, common
beets fields; and the refiners that find the word telling two same-named clusters apart."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import numpy as np

SEP = " · "
# Band words for the hand-crafted summaries: (low, middle, high) third of the library.
BANDS: dict[str, tuple[str, str, str]] = {
    "tempo": ("slow", "mid-tempo", "fast"),
    "brightness": ("dark", "mellow", "bright"),
    "energy": ("calm", "steady", "loud"),
}
# Each third split in halves, for two clusters that share every band word.
FINE: dict[str, tuple[str, ...]] = {
    "tempo": ("very slow", "slow", "moderate", "upbeat", "fast", "very fast"),
    "brightness": ("very dark", "dark", "warm", "clear", "bright", "very bright"),
    "energy": ("very calm", "calm", "gentle", "strong", "loud", "very loud"),
}
FINE_QUALIFIERS = ("lowest", "low", "lower-mid", "upper-mid", "high", "highest")
ALIASES = {"bpm": "tempo", "spectral_centroid": "brightness", "centroid": "brightness",
           "rms": "energy", "loudness": "energy"}  # fmt: skip


def tag_words(
    tags: np.ndarray, tag_names: Sequence[str], members: np.ndarray, words: int = 3
) -> list[str]:
    """The tags most over-represented in a cluster: mean probability there minus the library's.

    A difference, not a ratio, so a tag must be both common in the cluster and rarer outside
    it; a ratio would crown tags that are nearly absent everywhere.
    """
    tags = np.asarray(tags, dtype=np.float64)
    lift = tags[members].mean(axis=0) - tags.mean(axis=0)
    order = np.argsort(-lift, kind="stable")
    return [tag_names[i] for i in order[:words] if lift[i] > 0]


def median_ranks(descriptors: Mapping[str, np.ndarray], members: np.ndarray) -> dict[str, float]:
    """Per descriptor, where the cluster's median falls in the library, from 0 to 1."""
    out = {}
    for key, values in descriptors.items():
        values = np.asarray(values, dtype=np.float64)
        ok = np.isfinite(values)
        if not ok[members].any():
            continue
        median = np.median(values[members & ok])
        out[key] = float(np.mean(values[ok] < median) + 0.5 * np.mean(values[ok] == median))
    return out


def band_word(key: str, rank: float, fine: bool = False) -> str:
    """The word for a rank: its third of the library, or with `fine` the half of that third."""
    name = ALIASES.get(key, key)
    third = 0 if rank < 1 / 3 else 2 if rank > 2 / 3 else 1
    if not fine:
        return BANDS.get(name, (f"low {name}", f"mid {name}", f"high {name}"))[third]
    words = FINE.get(name) or tuple(f"{q} {name}" for q in FINE_QUALIFIERS)
    return words[2 * third + (rank >= (1 / 6, 1 / 2, 5 / 6)[third])]


def descriptor_words(descriptors: Mapping[str, np.ndarray], members: np.ndarray) -> list[str]:
    """One band word per summary value: where the cluster's median falls in the library (thirds).

    Keys are "tempo" (BPM), "brightness" (e.g. spectral centroid in Hz) and "energy" (e.g. RMS),
    or an alias of them; any other key gives "low/mid/high <key>". Units do not matter, only
    the rank within the library does.
    """
    return [band_word(key, rank) for key, rank in median_ranks(descriptors, members).items()]


def field_value(field: str, value: object) -> list[str]:
    """The words one track contributes for one field: none for empty, each item of a list."""
    if value is None or value == "" or value == 0:  # beets stores a missing year as 0
        return []
    if isinstance(value, (list, tuple, set)):
        return [w for v in value for w in field_value(field, v)]
    if field in ("year", "original_year") and isinstance(value, (int, np.integer)):
        return [f"{int(value) // 10 * 10}s"]
    return [str(value).strip()] if str(value).strip() else []


def field_words(
    fields: Mapping[str, Sequence[object]], members: np.ndarray, min_share: float = 0.5
) -> list[str]:
    """Per field, the value most tracks of the cluster share, if at least `min_share` of them do.

    Lists (beets' `genres`) count each item once per track; years become decades.
    """
    idx = np.flatnonzero(members)
    out = []
    for field, values in fields.items():
        counts: Counter[str] = Counter()
        for i in idx:
            counts.update(set(field_value(field, values[i])))
        if counts:
            word, count = counts.most_common(1)[0]
            if count >= min_share * idx.shape[0]:
                out.append(word)
    return out


Words = dict[int, list[str]]
Refiner = Callable[[list[int], Words], Words]


def by_strength(strength: Mapping[int, Mapping[str, float]]) -> Refiner:
    """Add to each cluster of a group the word it has most more of than every other member.

    Only a word the cluster itself stands out by (strength > 0) and has strictly more of than
    the rest of the group: no two members can add the same word.
    """

    def refine(group: list[int], found: Words) -> Words:
        out = {}
        for c in group:
            best, margin = None, 0.0
            for word, value in strength[c].items():
                if value <= 0 or word in found[c]:
                    continue
                gap = value - max(strength[o].get(word, 0.0) for o in group if o != c)
                if gap > margin:
                    best, margin = word, gap
            if best is not None:
                out[c] = [*found[c], best]
        return out

    return refine


def tag_lifts(tags: np.ndarray, tag_names: Sequence[str],
              members: Mapping[int, np.ndarray]) -> dict[int, dict[str, float]]:
    tags = np.asarray(tags, dtype=np.float64)
    overall = tags.mean(axis=0)
    return {c: dict(zip(tag_names, (tags[m].mean(axis=0) - overall).tolist()))
            for c, m in members.items()}


def field_shares(fields: Mapping[str, Sequence[object]], members: Mapping[int, np.ndarray],
                 min_share: float = 0.25) -> dict[int, dict[str, float]]:
    """Per cluster, the share of its tracks holding each field value (a minority: not at all)."""
    out = {}
    for c, m in members.items():
        idx = np.flatnonzero(m)
        counts: Counter[str] = Counter()
        for field, values in fields.items():
            for i in idx:
                counts.update(set(field_value(field, values[i])))
        shares = {w: n / len(idx) for w, n in counts.items()}
        out[c] = {w: v for w, v in shares.items() if v >= min_share}
    return out


def by_finer_band(descriptors: Mapping[str, np.ndarray],
                  members: Mapping[int, np.ndarray]) -> Refiner:
    """Swap one band word of each cluster of a group for its finer half-band word, on the
    descriptor where it lies farthest from the rest of the group ("mid-tempo" -> "upbeat")."""
    ranks = {c: median_ranks(descriptors, m) for c, m in members.items()}

    def refine(group: list[int], found: Words) -> Words:
        out = {}
        for c in group:
            best, widest = None, -1.0
            for key, rank in ranks[c].items():
                word = band_word(key, rank, fine=True)
                others = [ranks[o][key] for o in group if o != c and key in ranks[o]]
                if word in found[c] or word in {band_word(key, r, fine=True) for r in others}:
                    continue
                gap = min((abs(rank - r) for r in others), default=1.0)
                if gap > widest:
                    best, widest = (key, word), gap
            if best is not None:
                key, word = best
                coarse, w = band_word(key, ranks[c][key]), found[c]
                out[c] = [word if x == coarse else x for x in w] if coarse in w else [*w, word]
        return out

    return refine
