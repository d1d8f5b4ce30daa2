"""Backend registry: a name -> class map, imported lazily so torch loads only when needed."""

from __future__ import annotations

import importlib
from pathlib import Path

from .base import Embedder, EmbedderError, Embedding

__all__ = ["BACKENDS", "Embedder", "EmbedderError", "Embedding", "backend_options", "create"]

# name -> (module, class, does the model run in the decode workers?)
# Cheap numpy backends run whole in each worker; network backends run once, in the main
# process, on batches of windows that the workers decode.
BACKENDS: dict[str, tuple[str, str, bool]] = {
    "handcrafted": ("handcrafted", "HandcraftedEmbedder", True),
    "musicnn": ("musicnn", "MusicnnEmbedder", False),
    "clap": ("clap", "ClapEmbedder", False),
    "panns": ("panns", "PannsEmbedder", False),
}


def backend_options(name: str, model: str | None, device: str,
                    window_seconds: float | None, cache_dir: Path | None = None) -> dict:
    """Constructor keywords for a backend, from the generic settings."""
    if name not in BACKENDS:
        raise EmbedderError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == "handcrafted":
        return {} if window_seconds is None else {"window_seconds": window_seconds}
    if name == "panns":
        if not model:
            raise EmbedderError("the panns backend needs a checkpoint: set cluster.model to the "
                                "path of Cnn14_mAP=0.431.pth (see README, Deep backends)")
        return {"checkpoint": Path(model).expanduser(), "device": device}
    options = {"device": device, **({"model": model} if model else {})}
    if name == "musicnn" and cache_dir is not None:
        options["cache_dir"] = cache_dir
    return options


def create(name: str, options: dict) -> Embedder:
    module_name, class_name, _ = BACKENDS[name]
    try:
        module = importlib.import_module(f"{__name__}.{module_name}")
    except ImportError as exc:
        raise EmbedderError(f"the {name} backend needs the deep extra: "
                            f"pip install 'beets-cluster[deep]' ({exc})") from exc
    return getattr(module, class_name)(**options)


def descriptor_columns(name: str) -> dict[str, int]:
    """A backend's describable columns ("tempo" -> column) without building it: no weights
    are loaded. A backend whose extra is missing has none to offer."""
    if name not in BACKENDS:
        return {}
    module_name, class_name, _ = BACKENDS[name]
    try:
        module = importlib.import_module(f"{__name__}.{module_name}")
    except ImportError:
        return {}
    return dict(getattr(module, class_name).descriptor_columns)


def runs_in_workers(name: str) -> bool:
    return BACKENDS[name][2]
