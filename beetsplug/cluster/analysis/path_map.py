"""How Dask workers spell our paths: "local_prefix:worker_prefix" pairs, longest prefix first.

Workers that mount the music elsewhere (the NAS at /mnt/nas/music, here /music) read each
file at its mapped path; results come back under the local path, the one the store knows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class PathMap:
    pairs: tuple[tuple[str, str], ...] = ()  # (local prefix, worker prefix), longest first

    @classmethod
    def parse(cls, value: object) -> PathMap:
        """From the config: a mapping {local: worker}, or a list of "local:worker" strings
        (split at the first colon; use the mapping form where a local path holds one)."""
        if value is None:
            return cls()
        if isinstance(value, Mapping):
            items = [(str(k), str(v)) for k, v in value.items()]
        elif isinstance(value, (list, tuple)):
            items = [_split(entry) for entry in value]
        else:
            raise TypeError(f"dask_path_map must be a list of 'local:worker' prefixes or a "
                             f"mapping, not {value!r}")
        pairs = [(_bare(local), _bare(worker)) for local, worker in items]
        for local, worker in pairs:
            if not local.startswith("/") or not worker:
                raise ValueError(f"dask_path_map: {local!r} -> {worker!r}: the local prefix "
                                 "must be an absolute path and the worker prefix not empty")
        return cls(tuple(sorted(pairs, key=lambda p: len(p[0]), reverse=True)))

    def to_worker(self, path: str) -> str:
        for local, worker in self.pairs:
            # a whole folder name only: /music must not map /musicals/x
            if path == local or path.startswith(local + "/"):
                return worker + path[len(local):]
        return path


def _split(entry: object) -> tuple[str, str]:
    local, sep, worker = str(entry).partition(":")
    if not sep:
        raise ValueError(f"dask_path_map entry {entry!r} must look like "
                         "'/music:/mnt/nas/music' (local prefix, colon, worker prefix)")
    return local, worker


def _bare(prefix: str) -> str:
    """Without a trailing slash, so that /music and /music/ are the same prefix."""
    return prefix.rstrip("/") or prefix
