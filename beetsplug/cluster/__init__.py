"""beets-cluster: playlists by how the music sounds."""

from .plugin import ClusterPlugin

__all__ = ["ClusterPlugin"]
