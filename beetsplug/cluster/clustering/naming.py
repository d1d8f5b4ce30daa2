"""Readable playlist names from what a cluster's tracks share, and file names safe on every OS."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Mapping, Sequence

import numpy as np

from . import NOISE
from .describe import SEP, Axis, Words, cluster_words, descriptor_axes, field_axes, refine, tag_axes

_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f\ud800-\udfff]')
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{dev}{i}" for dev in ("COM", "LPT") for i in "0123456789¹²³"}
)


def name_clusters(
    labels: Sequence[int] | np.ndarray,
    *,
    tags: np.ndarray | None = None,
    tag_names: Sequence[str] = (),
    descriptors: Mapping[str, np.ndarray] | None = None,
    fields: Mapping[str, Sequence[object]] | None = None,
    words: int = 3,
) -> dict[int, str]:
    """A unique name per cluster label (noise excluded): the words of what sets each cluster
    apart from the rest of the library, largest difference first (describe.py).

    Tag probabilities (n_tracks x len(tag_names)), hand-crafted descriptors ({name: per-track
    value}) and beets fields ({field: per-track value}) all give words on one scale; all arrays
    are aligned with `labels`. A cluster nothing describes is "cluster <label>". Clusters that
    would share a name get the word that tells them apart (`refine`); only clusters that differ
    on no axis get " (2)", " (3)" in order of size, so the biggest keeps the bare name.
    """
    labels = np.asarray(labels)
    members = {c: labels == c for c in sorted(int(x) for x in np.unique(labels) if x != NOISE)}
    axes: list[Axis] = []
    if tags is not None and len(tag_names):
        axes += tag_axes(tags, tag_names, members)
    if descriptors:
        axes += descriptor_axes(descriptors, members)
    if fields:
        axes += field_axes(fields, members)
    found = _distinguish({c: cluster_words(axes, c, words) for c in members}, axes)
    names = {c: SEP.join(w) if w else f"cluster {c}" for c, w in found.items()}
    return make_unique(names, {c: int(m.sum()) for c, m in members.items()})


def _distinguish(found: Words, axes: list[Axis]) -> Words:
    """Refine the words of clusters that share a name until every name differs, or no axis
    tells them apart."""
    found = dict(found)
    while True:
        groups: dict[str, list[int]] = {}
        for c, w in found.items():
            if w:
                groups.setdefault(SEP.join(w).casefold(), []).append(c)
        changed = False
        for group in (g for g in groups.values() if len(g) > 1):
            new = refine(axes, group, {c: found[c] for c in group})
            if new:
                found.update(new)
                changed = True
        if not changed:
            return found


def make_unique(names: Mapping[int, str], sizes: Mapping[int, int] | None = None,
                keep: Container[int] = ()) -> dict[int, str]:
    """Suffix repeated names; compared case-insensitively, as macOS and Windows file systems do.
    The names of `keep` (continuing playlists) never change; then the bigger cluster wins."""
    order = sorted(names, key=lambda c: (c not in keep, -(sizes or {}).get(c, 0), c))
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


def safe_filenames(names: Mapping[int, str], max_bytes: int = 200,
                   keep: Container[int] = ()) -> dict[int, str]:
    """`safe_filename` for every name, unique again: two names can clean up to one file name.
    The names of `keep` stay as they are (they were made safe when their playlist was born)."""
    return make_unique({c: safe_filename(n, max_bytes) for c, n in names.items()}, keep=keep)
