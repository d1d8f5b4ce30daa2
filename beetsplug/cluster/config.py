"""THE one table of options (the `cluster:` section of the beets config), the Settings the core
runs on, and their validation. Both front ends read options through here; no I/O.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .analysis.path_map import PathMap
from .embedders import BACKENDS
from .output.paths import MODES as PATH_MODES  # the one list, where the modes are spelled

AGGREGATES = ("chunk_average", "chunk_level")
# The names of clustering.methods.REGISTRY, spelled out so that reading the config (the
# plugin does at load time) imports no scikit-learn; a test checks that the two agree.
METHODS = ("kmeans", "agglomerative", "gmm", "dbscan", "hdbscan", "autoencoder", "vae")

# Every option with its default, as README's configuration reference shows it (a test compares
# the two). Settings and the daemon's DaemonOptions take their defaults from here.
DEFAULTS: dict[str, object] = {
    "clusters": 6,
    "auto_range": "2-12",
    "method": "kmeans",
    "backend": "handcrafted",
    "model": None,
    "device": "auto",
    "aggregate": "chunk_average",
    "window_seconds": None,
    "padding_threshold": 0.5,
    "max_windows": None,
    "window_quantile": 0.25,
    "workers": 0,
    "pca_variance": 0.95,
    "minibatch_threshold": 20_000,
    "seed": 0,
    "store": None,
    "playlist_dir": None,
    "playlist_template": "{number:02d} {name}",
    "path_mode": "playlist",
    "path_prefix": "",
    "url_encode": False,
    "grouping": False,
    "auto": False,
    "exclude": [],
    # analysis on a Dask cluster
    "dask_scheduler": None,
    "dask_path_map": [],
    # beet similar
    "similar_per_artist": 3,
    "similar_per_album": 3,
    "similar_dir": "Similar",
    # beet radio (MPD)
    "radio_ahead": 10,
    "radio_recent": 24,
    "radio_seeds": 3,
    # the daemon
    "watch_dirs": [],
    "poll": False,
    "poll_interval": 5,
    "quiet_seconds": 2,
    "max_wait_seconds": 30,
    "recluster_after": 0,
    "import_new": False,
    "radio": False,
}


@dataclass(frozen=True)
class Range:
    """The values a numeric option may take, checked before any work (a 0 s window or a
    negative seed would otherwise fail deep inside a worker, scikit-learn or the daemon)."""

    whole: bool  # a whole number, else any number
    low: float | None = None
    high: float | None = None
    above: bool = False  # `low` itself is out of range
    none: bool = False  # null is allowed (the option's "not set")
    words: tuple[str, ...] = ()  # words allowed besides numbers, e.g. auto

    def text(self) -> str:
        """The range in words, as README's configuration reference states it."""
        kind = "a whole number" if self.whole else "a number"
        if self.low is not None and self.high is not None:
            bounds = (f"> {_num(self.low)} and <= {_num(self.high)}" if self.above
                      else f"from {_num(self.low)} to {_num(self.high)}")
        elif self.low is not None:
            bounds = f"{'>' if self.above else '>='} {_num(self.low)}"
        else:
            bounds = ""
        extra = [*self.words, *(["null"] if self.none else [])]
        return f"{kind} {bounds}".strip() + "".join(f", or {w}" for w in extra)

    def refusal(self, name: str, value: object) -> str:
        """The one line for `name` set to `value` outside this range."""
        return f"{name} must be {self.text()}, not {value!r}"

    def holds(self, value: object) -> bool:
        if value is None:
            return self.none
        if isinstance(value, str) and value.lower() in self.words:
            return True
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.whole and value != int(value):
            return False
        if self.low is not None and (value <= self.low if self.above else value < self.low):
            return False
        return self.high is None or value <= self.high


# Every numeric option's valid values (the table above gives the defaults; README's reference
# states these ranges, a test checks both, and a test tries a value outside each). The one
# place a range is written: check_ranges holds the config's values to it, Settings.check the
# fields of the same names.
RANGES: dict[str, Range] = {
    "clusters": Range(whole=True, low=1, words=("auto",)),
    "window_seconds": Range(whole=False, low=1, high=600, none=True),
    "padding_threshold": Range(whole=False, low=0, high=1, above=True),
    "max_windows": Range(whole=True, low=1, none=True),
    "window_quantile": Range(whole=False, low=0, high=1, above=True),
    "workers": Range(whole=True, low=0),
    "pca_variance": Range(whole=False, low=0, high=1, above=True),
    "minibatch_threshold": Range(whole=True, low=0),
    "seed": Range(whole=True, low=0, high=2**32 - 1),  # what numpy and scikit-learn take
    "similar_per_artist": Range(whole=True, low=0),
    "similar_per_album": Range(whole=True, low=0),
    "radio_ahead": Range(whole=True, low=1),
    "radio_recent": Range(whole=False, low=0),
    "radio_seeds": Range(whole=True, low=1),
    "poll_interval": Range(whole=False, low=0, above=True),
    "quiet_seconds": Range(whole=False, low=0, above=True),
    "max_wait_seconds": Range(whole=False, low=0, above=True),
    "recluster_after": Range(whole=True, low=0),
}


def _num(x: float) -> str:
    return str(int(x)) if x == int(x) else f"{x:g}"


def check_ranges(values: Mapping[str, object]) -> None:
    """Raise ValueError naming the first option of `values` outside its range."""
    for name, allowed in RANGES.items():
        value = values.get(name, DEFAULTS[name])
        if isinstance(value, str) and value.lower() not in allowed.words:
            try:  # YAML reads 1e3 as text
                value = float(value)
            except ValueError:
                if name == "clusters":
                    continue  # int() below says what it could not read
                raise ValueError(allowed.refusal(name, value)) from None
        if not allowed.holds(value):
            raise ValueError(allowed.refusal(name, value))


DAEMON_KEYS = ("watch_dirs", "poll", "poll_interval", "quiet_seconds", "max_wait_seconds",
               "recluster_after", "import_new", "radio")


@dataclass(frozen=True)
class DaskTarget:
    """A Dask scheduler whose workers analyse the files instead of local processes."""

    address: str  # tcp://host:8786, or host:8786
    path_map: PathMap = field(default_factory=PathMap)


@dataclass(frozen=True)
class Settings:
    # Clustering
    clusters: int | None = DEFAULTS["clusters"]  # None: choose k by silhouette over auto_range
    auto_range: tuple[int, int] = (2, 12)
    method: str = DEFAULTS["method"]
    aggregate: str = DEFAULTS["aggregate"]
    pca_variance: float = DEFAULTS["pca_variance"]
    minibatch_threshold: int = DEFAULTS["minibatch_threshold"]  # MiniBatchKMeans above this
    seed: int = DEFAULTS["seed"]

    # Analysis
    backend: str = DEFAULTS["backend"]
    window_seconds: float | None = DEFAULTS["window_seconds"]  # None: the backend's own
    padding_threshold: float = DEFAULTS["padding_threshold"]  # keep a short last window
    max_windows: int | None = DEFAULTS["max_windows"]  # fixed cap per track, else the quantile
    window_quantile: float = DEFAULTS["window_quantile"]
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)  # 0 in the config
    model: str | None = DEFAULTS["model"]  # backend-specific model name, folder or file
    device: str = DEFAULTS["device"]
    cache_dir: Path | None = None  # converted model weights (musicnn); the front end picks it
    dask: DaskTarget | None = None  # None: local worker processes

    # Output
    store: Path = Path("cluster.db")
    playlist_dir: Path = Path("playlists")
    playlist_template: str = DEFAULTS["playlist_template"]
    path_mode: str = DEFAULTS["path_mode"]
    path_prefix: str = DEFAULTS["path_prefix"]
    url_encode: bool = DEFAULTS["url_encode"]
    library_root: Path | None = None
    grouping: bool = DEFAULTS["grouping"]
    write_tags: bool = True  # into the files too: beets' own `write` option, set by front ends

    # beet similar: at most this many tracks per artist / per album in one playlist; 0: no limit
    similar_per_artist: int = DEFAULTS["similar_per_artist"]
    similar_per_album: int = DEFAULTS["similar_per_album"]
    # where `beet similar` writes: apart from the cluster playlists, so that a tool reading
    # that folder finds exactly the k cluster playlists
    similar_dir: Path | None = None  # None: playlist_dir / "Similar"

    @property
    def similar_folder(self) -> Path:
        return self.similar_dir or _under(self.playlist_dir, DEFAULTS["similar_dir"])

    # beet radio: songs kept queued after the playing one; hours a played or queued song is
    # not queued again; seeds (the playing song and the ones before it)
    radio_ahead: int = DEFAULTS["radio_ahead"]
    radio_recent: float = DEFAULTS["radio_recent"]
    radio_seeds: int = DEFAULTS["radio_seeds"]
    # beets queries (any one matching keeps a track out of clusters, similar lists, the radio)
    exclude: tuple[str, ...] = ()

    # Daemon
    import_new: bool = DEFAULTS["import_new"]  # add files beets does not know to the library

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)

    def check(self) -> None:
        """Raise ValueError with a clear line for any option out of range."""
        named = {f.name for f in fields(self)}
        for name, allowed in RANGES.items():
            if name not in named:
                continue  # the daemon's: DaemonOptions
            value = getattr(self, name)
            if not allowed.holds("auto" if name == "clusters" and value is None else value):
                raise ValueError(allowed.refusal(name, value))
        if not 2 <= self.auto_range[0] <= self.auto_range[1]:
            raise ValueError("auto_range must be two numbers 2 <= low <= high, "
                             f"not {self.auto_range}")
        for name, value, allowed in (("method", self.method, METHODS),
                                     ("aggregate", self.aggregate, AGGREGATES),
                                     ("path_mode", self.path_mode, PATH_MODES)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown backend {self.backend!r}; choose one of "
                             f"{', '.join(BACKENDS)}")
        if self.workers < 1:  # the option's 0 (every core) is resolved to a count by now
            raise ValueError("workers must be at least 1")
        try:
            self.playlist_template.format(number=1, name="name", size=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"playlist_template {self.playlist_template!r}: {exc!r} (fields: "
                             "number, name, size)") from exc


def with_defaults(view):
    """The `cluster:` view with every option's default under it: the one place they are added
    (the plugin at load, read_view for everyone else)."""
    view.add(DEFAULTS)
    return view


def read_view(view) -> dict[str, object]:
    """The `cluster:` options from a confuse view (beets' config), every key of DEFAULTS."""
    view = with_defaults(view)
    return {key: view[key].get() for key in DEFAULTS}


def settings_from(values: Mapping[str, object], *, library_db: Path, library_root: Path,
                  **overrides) -> Settings:
    """Settings from option values (read_view) plus command-line overrides (None: not given).

    Raises ValueError with a clear line for a bad value.
    """
    c = {**values, **{k: v for k, v in overrides.items() if v is not None}}
    check_ranges(c)
    playlist_dir = _path(c["playlist_dir"]) or library_root / "Playlists"
    try:
        s = Settings(
            clusters=None if str(c["clusters"]).lower() == "auto" else int(c["clusters"]),
            auto_range=_auto_range(c["auto_range"]),
            method=c["method"], aggregate=c["aggregate"],
            pca_variance=float(c["pca_variance"]), seed=int(c["seed"]),
            minibatch_threshold=int(c["minibatch_threshold"]),
            backend=c["backend"], model=c["model"], device=c["device"],
            window_seconds=None if c["window_seconds"] is None else float(c["window_seconds"]),
            padding_threshold=float(c["padding_threshold"]),
            max_windows=None if c["max_windows"] is None else int(c["max_windows"]),
            window_quantile=float(c["window_quantile"]),
            workers=int(c["workers"]) or os.cpu_count() or 1,
            store=_path(c["store"]) or library_db.parent / "cluster.db",
            playlist_dir=playlist_dir,
            playlist_template=str(c["playlist_template"]), path_mode=c["path_mode"],
            path_prefix=str(c["path_prefix"] or ""), url_encode=bool(c["url_encode"]),
            library_root=library_root, grouping=bool(c["grouping"]),
            import_new=bool(c["import_new"]), cache_dir=user_cache_dir(),
            similar_per_artist=int(c["similar_per_artist"]),
            similar_per_album=int(c["similar_per_album"]),
            similar_dir=_under(playlist_dir, c["similar_dir"]),
            dask=_dask(c["dask_scheduler"], c["dask_path_map"]),
            radio_ahead=int(c["radio_ahead"]), radio_recent=float(c["radio_recent"]),
            radio_seeds=int(c["radio_seeds"]),
            exclude=_queries(c["exclude"]),
        )
    except TypeError as exc:
        raise ValueError(str(exc)) from exc
    s.check()
    return s


def _queries(value: object) -> tuple[str, ...]:
    """`exclude`: one beets query string, or a list of them (a track matching any is out)."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(q, str) for q in value):
        return tuple(q for q in value if q.strip())
    raise ValueError(f"exclude must be a beets query or a list of them, not {value!r}")


def _dask(address: object, path_map: object) -> DaskTarget | None:
    if not address:
        return None
    text = str(address).strip()
    host = text.split("://", 1)[-1]
    if " " in text or ":" not in host:
        raise ValueError(f"dask_scheduler must look like tcp://host:8786, not {address!r}")
    return DaskTarget(text, PathMap.parse(path_map))


def _auto_range(value: object) -> tuple[int, int]:
    parts = str(value).split("-", 1)
    if len(parts) != 2:
        raise ValueError(f"auto_range must look like 2-12, not {value!r}")
    return int(parts[0]), int(parts[1])


def user_cache_dir() -> Path:
    """Where converted model weights are kept: $XDG_CACHE_HOME/beets-cluster."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "beets-cluster"


def _under(folder: Path, value) -> Path:
    """A folder option relative to `folder` (an absolute or ~ path stands alone); empty: the
    folder itself."""
    return folder / _path(value) if value else folder


def _path(value) -> Path | None:
    return Path(os.path.expanduser(str(value))) if value else None
