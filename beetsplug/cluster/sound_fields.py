"""What the analysis already knows about each track, as beets fields (`beet ls sound_tempo:..90`,
`sound_energy:0.8..`, `sound_tags:calm`): read from the store's vectors and tag probabilities,
never by analysing again, and written to the beets database only (our own file tags stay
CLUSTER and CLUSTER_PLAYLIST).

The values are in units a person can query by: BPM, hertz, 0..1. They come from the track
vector's descriptor columns (the window means: the backends that have them), so a track's
tempo is the geometric mean of its windows' tempi."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# field -> the embedder's descriptor column it is read from
TEMPO, BRIGHTNESS, ENERGY, PULSE, DENSITY, TAGS = (
    "sound_tempo", "sound_brightness", "sound_energy", "sound_pulse", "sound_density",
    "sound_tags")
NUMBERS = {TEMPO: "tempo", BRIGHTNESS: "brightness", ENERGY: "energy", PULSE: "pulse",
           DENSITY: "density"}
FIELDS = (*NUMBERS, TAGS)
# The decimals each number is kept and shown with (`beet ls -f '$sound_energy'`).
DIGITS = {TEMPO: 1, BRIGHTNESS: 0, ENERGY: 3, PULSE: 3, DENSITY: 3}
# Loudness (mean frame RMS in dBFS) -> 0..1: -60 dB and below is silence-like (0), 0 dBFS 1;
# a mastered pop track sits near 0.8, a quiet classical recording near 0.5.
FLOOR_DB = -60.0
# A tag is strong from this probability on (musicnn's sigmoid outputs; a clear "rock" track
# scores 0.5-0.9 on "rock", most other tags stay under 0.1); at most MAX_TAGS, strongest first.
STRONG_TAG, MAX_TAGS = 0.3, 5


@dataclass(frozen=True)
class SoundFields:
    """One track's fields (None: the backend has no such value) and its tempo for `bpm`."""

    values: dict[str, float | str | None]

    @property
    def bpm(self) -> int | None:
        tempo = self.values.get(TEMPO)
        return round(tempo) if isinstance(tempo, float) else None


def from_columns(column: Mapping[str, np.ndarray], n: int) -> dict[str, list[float | None]]:
    """The number fields of `n` tracks from their descriptor columns (features.py's units),
    one array per column (a backend without one: None for each track): numpy over all
    tracks at once (a whole-library run reads 100k of them)."""
    with np.errstate(over="ignore", invalid="ignore"):
        found = {
            TEMPO: 2.0 ** column["tempo"] if "tempo" in column else None,  # log2 BPM
            # log(1 + spectral centroid in Hz)
            BRIGHTNESS: np.expm1(column["brightness"]) if "brightness" in column else None,
            # mean frame RMS, dBFS
            ENERGY: (np.clip((column["energy"] - FLOOR_DB) / -FLOOR_DB, 0.0, 1.0)
                     if "energy" in column else None),
            # the onset autocorrelation's height at the beat
            PULSE: np.clip(column["pulse"], 0.0, 1.0) if "pulse" in column else None,
            # mean rise of the log-mel spectrum per frame (dB)
            DENSITY: column.get("density"),
        }
    out: dict[str, list[float | None]] = {}
    for key, values in found.items():
        if values is None:
            out[key] = [None] * n
            continue
        values = np.round(np.asarray(values, dtype=np.float64), DIGITS[key])
        out[key] = [v if math.isfinite(v) else None for v in values.tolist()]
    return out


def strong_tags(probabilities: np.ndarray, names: Sequence[str]) -> str | None:
    """The strong tags, strongest first, as one comma-separated value (`sound_tags:calm`
    matches it as a substring), or None."""
    if len(probabilities) != len(names):
        return None
    order = np.argsort(-np.asarray(probabilities, dtype=np.float64), kind="stable")
    picked = [names[i] for i in order[:MAX_TAGS] if probabilities[i] >= STRONG_TAG]
    return ", ".join(picked) or None


def read(store, emb, paths: list[str]) -> dict[str, SoundFields]:
    """path -> its fields, for the paths the store holds a vector of (one pass over the store
    for many paths)."""
    kept, X = store.vector_matrix(paths, emb.name, emb.version)
    dim = X.shape[1] if X.ndim == 2 else 0
    numbers = from_columns({k: X[:, c].astype(np.float64)
                            for k, c in emb.descriptor_columns.items() if c < dim}, len(kept))
    tag_names = store.tag_names(emb.name, emb.version) if emb.tag_names else ()
    tags = store.tags(kept, emb.name, emb.version) if tag_names else {}
    return {path: SoundFields({**{k: v[i] for k, v in numbers.items()},
                               TAGS: strong_tags(tags[path], tag_names) if path in tags
                               else None})
            for i, path in enumerate(kept)}


def parse(key: str, text: object) -> float | str | None:
    """A stored flexible value as its field holds it (beets keeps them as SQL text, and a
    process without the plugin loaded reads them untyped)."""
    if text is None or key not in NUMBERS:
        return text if text is None else str(text)
    try:
        return float(text)
    except (TypeError, ValueError):
        return None
