"""The custom file tags: one MediaField each, shared by beets (add_media_field) and direct writes.

`cluster` is the cluster number, `cluster_playlist` the playlist name; in MP3 they are TXXX frames,
in FLAC/Ogg Vorbis comments, in MP4 freeform atoms, in ASF attributes: the places that taggers
and players such as foobar2000, Picard, Kodi or Navidrome show custom tags.
"""

from __future__ import annotations

from pathlib import Path

import mediafile

from ..errors import ClusterError

CLUSTER = "cluster"
PLAYLIST = "cluster_playlist"


def _field(tag: str, out_type: type) -> mediafile.MediaField:
    return mediafile.MediaField(
        mediafile.MP3DescStorageStyle(tag),
        mediafile.MP4StorageStyle(f"----:com.apple.iTunes:{tag}"),
        mediafile.StorageStyle(tag),
        mediafile.ASFStorageStyle(f"beets/{tag}"),
        out_type=out_type,
    )


MEDIA_FIELDS: dict[str, mediafile.MediaField] = {
    CLUSTER: _field("CLUSTER", int),
    PLAYLIST: _field("CLUSTER_PLAYLIST", str),
}


def register_fields() -> None:
    """Make the fields known to mediafile outside beets (the daemon's direct writes)."""
    for name, field in MEDIA_FIELDS.items():
        if name not in mediafile.MediaFile.__dict__:
            mediafile.MediaFile.add_field(name, field)


def write_file_tags(path: Path, cluster: int, playlist: str, grouping: bool = False) -> None:
    """Write the tags straight into a file that beets does not know."""
    register_fields()
    try:
        mf = mediafile.MediaFile(str(path))
        setattr(mf, CLUSTER, cluster)
        setattr(mf, PLAYLIST, playlist)
        if grouping:
            mf.grouping = playlist
        mf.save()
    except mediafile.UnreadableFileError as exc:
        raise ClusterError(f"cannot write tags to {path}: {exc}") from exc


def read_file_tags(path: Path) -> tuple[int | None, str | None]:
    register_fields()
    mf = mediafile.MediaFile(str(path))
    return getattr(mf, CLUSTER), getattr(mf, PLAYLIST)
