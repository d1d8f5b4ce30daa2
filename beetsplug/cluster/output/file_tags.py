"""The custom file tags: one MediaField each, shared by beets (add_media_field) and direct writes.

`cluster` is the cluster number, `cluster_playlist` the playlist name; in MP3 they are TXXX frames,
in FLAC/Ogg Vorbis comments, in MP4 freeform atoms, in ASF attributes: the places that taggers
and players such as foobar2000, Picard, Kodi or Navidrome show custom tags.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import mediafile

from ..errors import ClusterError
from ..log import log

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


def write_file_tags(path: Path, cluster: int | None, playlist: str | None,
                    grouping: bool = False) -> None:
    """Write our tags, and no other, into a file (beets' item or not); None removes them (the
    grouping, which may be the user's own, is only ever set). Not through beets' Item.write,
    which writes every field it has into the file: zeros and empty strings where the file had
    no tag. An ID3v2.3 tag stays v2.3 (mutagen would save it as v2.4)."""
    register_fields()
    try:
        mf = mediafile.MediaFile(str(path))
        mf.id3v23 = getattr(getattr(mf.mgfile, "tags", None), "version", None) == (2, 3, 0)
        for key, value in ((CLUSTER, cluster), (PLAYLIST, playlist)):
            if value is None:
                delattr(mf, key)
            else:
                setattr(mf, key, value)
        if grouping and playlist is not None:
            mf.grouping = playlist
        mf.save()
    except mediafile.UnreadableFileError as exc:
        raise ClusterError(f"cannot write tags to {path}: {exc}") from exc


def tag_file(path: str, number: int | None, name: str | None, grouping: bool) -> bool:
    """Our tags into a file beets does not know, unless they are there already (a second write
    would only wake the daemon's watcher again); True if the file was written."""
    try:
        now = read_file_tags(Path(path))
    except mediafile.UnreadableFileError as exc:
        raise ClusterError(f"cannot read tags of {path}: {exc}") from exc
    if tuple(v or None for v in now) == (number, name):  # 0 and "": absent, as for beets
        return False
    write_file_tags(Path(path), number, name, grouping)
    return True


def tag_files(paths: Iterable[str], assignments: Mapping[str, tuple[int, float, str]], *,
              grouping: bool, written: Callable[[str], None] | None = None) -> int:
    """The run's cluster into each file beets does not know, or no cluster where the run has
    none for it, so file tags say what the playlists say. One file that cannot be tagged is
    a warning. `written(path)` follows each write; returns the number of files changed."""
    changed = 0
    for path in paths:
        number, _, name = assignments.get(path, (None, None, None))
        try:
            if not tag_file(path, number, name, grouping):
                continue
        except ClusterError as exc:
            log.warning("{}", exc)
            continue
        if written:
            written(path)
        changed += 1
    return changed


def read_file_tags(path: Path) -> tuple[int | None, str | None]:
    register_fields()
    mf = mediafile.MediaFile(str(path))
    return getattr(mf, CLUSTER), getattr(mf, PLAYLIST)
