"""The core's one root exception; front ends catch it at the edge."""

from __future__ import annotations


class ClusterError(Exception):
    """Anything the core refuses or cannot do, with a message meant for the user."""


class AudioError(ClusterError):
    """One file cannot be analysed (corrupt, empty, silent, too short, unsupported)."""


class StoreError(ClusterError):
    """The embedding store cannot be opened or is from a newer version."""


class MethodError(ClusterError, ValueError):
    """A clustering method cannot run as asked (unknown name, missing extra); says why."""
