"""Readable playlist names from what a cluster's tracks share, and file names safe on every OS."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

NOISE = -1
SEP = " · "
# Band words for the hand-crafted summaries: (low, middle, high) third of the library.
BANDS: dict[str, tuple[str, str, str]] = {
    "tempo": ("slow", "mid-tempo", "fast"),
    "brightness": ("dark", "mellow", "bright"),
    "energy": ("calm", "steady", "loud"),
}
ALIASES = {"bpm": "tempo", "spectral_centroid": "brightness", "centroid": "brightness",
           "rms": "energy", "loudness": "energy"}  # fmt: skip
_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f\ud800-\udfff]')
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{dev}{i}" for dev in ("COM", "LPT") for i in "0123456789¹²³"}
)


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


def descriptor_words(descriptors: Mapping[str, np.ndarray], members: np.ndarray) -> list[str]:
    """One band word per summary value: where the cluster's median falls in the library (thirds).

    Keys are "tempo" (BPM), "brightness" (e.g. spectral centroid in Hz) and "energy" (e.g. RMS),
    or an alias of them; any other key gives "low/mid/high <key>". Units do not matter, only
    the rank within the library does.
    """
    out = []
    for key, values in descriptors.items():
        values = np.asarray(values, dtype=np.float64)
        ok = np.isfinite(values)
        if not ok[members].any():
            continue
        median = np.median(values[members & ok])
        rank = float(np.mean(values[ok] < median) + 0.5 * np.mean(values[ok] == median))
        name = ALIASES.get(key, key)
        low, mid, high = BANDS.get(name, (f"low {name}", f"mid {name}", f"high {name}"))
        out.append(low if rank < 1 / 3 else high if rank > 2 / 3 else mid)
    return out


def _field_value(field: str, value: object) -> list[str]:
    """The words one track contributes for one field: none for empty, each item of a list."""
    if value is None or value == "" or value == 0:  # beets stores a missing year as 0
        return []
    if isinstance(value, (list, tuple, set)):
        return [w for v in value for w in _field_value(field, v)]
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
            counts.update(set(_field_value(field, values[i])))
        if counts:
            word, count = counts.most_common(1)[0]
            if count >= min_share * idx.shape[0]:
                out.append(word)
    return out


def name_clusters(
    labels: Sequence[int] | np.ndarray,
    *,
    tags: np.ndarray | None = None,
    tag_names: Sequence[str] = (),
    descriptors: Mapping[str, np.ndarray] | None = None,
    fields: Mapping[str, Sequence[object]] | None = None,
    words: int = 3,
) -> dict[int, str]:
    """A unique name per cluster label (noise excluded), from the best source that has words.

    Sources, per cluster, in order: tag probabilities (n_tracks x len(tag_names)), hand-crafted
    descriptors ({name: per-track value}), beets fields ({field: per-track value}); a cluster
    none of them describes is called "cluster <label>". All arrays are aligned with `labels`.
    Duplicates get " (2)", " (3)" in order of cluster size, so the biggest keeps the bare name.
    """
    labels = np.asarray(labels)
    names: dict[int, str] = {}
    for label in sorted(int(c) for c in np.unique(labels) if c != NOISE):
        members = labels == label
        found: list[str] = []
        if tags is not None and len(tag_names):
            found = tag_words(tags, tag_names, members, words)
        if not found and descriptors:
            found = descriptor_words(descriptors, members)[:words]
        if not found and fields:
            found = field_words(fields, members)[:words]
        names[label] = SEP.join(found) if found else f"cluster {label}"
    sizes = {c: int((labels == c).sum()) for c in names}
    return make_unique(names, sizes)


def make_unique(names: Mapping[int, str], sizes: Mapping[int, int] | None = None) -> dict[int, str]:
    """Suffix repeated names; compared case-insensitively, as macOS and Windows file systems do."""
    order = sorted(names, key=lambda c: (-(sizes or {}).get(c, 0), c))
    taken: set[str] = set()
    out: dict[int, str] = {}
    for c in order:
        name, n = names[c], 1
        while name.casefold() in taken:
            n += 1
            name = f"{names[c]} ({n})"
        taken.add(name.casefold())
        out[c] = name
    return {c: out[c] for c in names}


def apply_template(
    names: Mapping[int, str], template: str = "{name}", sizes: Mapping[int, int] | None = None
) -> dict[int, str]:
    """Format each name with `template`, e.g. "{number:02d} {name}"; fields: number, name, size.

    `number` is the key of `names` (the stable cluster number). Raises ValueError naming the
    bad field, for the front end to show as a config error. The results are made unique again,
    since a template without {name} could make them collide.
    """
    out = {}
    for number, name in names.items():
        size = (sizes or {}).get(number, 0)
        try:
            out[number] = template.format(number=number, name=name, size=size)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"bad playlist name template {template!r}: {exc!r}") from exc
    return make_unique(out, sizes)


def safe_filename(name: str, max_bytes: int = 200, replacement: str = "_") -> str:
    """`name` made into a file name (without extension) valid on Windows, macOS and Linux.

    Forbidden characters and control codes become `replacement`; runs of whitespace collapse;
    leading dots (hidden on Unix) and trailing dots and spaces (dropped by Windows) go;
    Windows device names (CON, NUL, COM1, ... also as "con.anything") get a leading "_"; the
    UTF-8 length is capped at `max_bytes` (file systems allow 255; the rest is left for an
    extension and a suffix) without cutting a character in half.
    """
    s = unicodedata.normalize("NFC", name)
    s = _FORBIDDEN.sub(replacement, s)
    s = " ".join(s.split()).strip(" .")
    raw = s.encode("utf-8")
    if len(raw) > max_bytes:
        s = raw[:max_bytes].decode("utf-8", errors="ignore").rstrip(" .")
    if s.split(".")[0].rstrip(" ").upper() in _RESERVED:
        s = "_" + s
    return s or "playlist"


def safe_filenames(names: Mapping[int, str], max_bytes: int = 200) -> dict[int, str]:
    """`safe_filename` for every name, unique again: two names can clean up to one file name."""
    return make_unique({c: safe_filename(n, max_bytes) for c, n in names.items()})
