"""watchdog events -> `Change`s for audio files only."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)

from beetsplug.cluster import log as cluster_log
from clusterd.changes import Change

log = cluster_log.get(__name__)

AUDIO_EXTENSIONS = frozenset(
    [
        ".mp3",
        ".flac",
        ".ogg",
        ".opus",
        ".m4a",
        ".mp4",
        ".aac",
        ".alac",
        ".wma",
        ".wav",
        ".aiff",
        ".aif",
        ".ape",
        ".wv",
    ]
)
# Download managers, editors and copy tools write under these names, then rename.
TEMP_SUFFIXES = (".part", ".partial", ".tmp", ".temp", ".crdownload", ".download", ".swp", "~")

# Opened / closed-without-writing events come from every reader, our own decoder included.
EVENT_FILTER = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileClosedEvent,
    FileMovedEvent,
    FileDeletedEvent,
    DirCreatedEvent,
    DirMovedEvent,
    DirDeletedEvent,
]


class PathFilter:
    """Which paths under the watched roots are ours."""

    def __init__(self, roots: Sequence[Path]) -> None:
        # Longest root first, so a nested extra folder wins over the library folder.
        self.roots = sorted((Path(r).absolute() for r in roots), key=lambda p: -len(p.parts))

    def root_of(self, path: Path) -> Path | None:
        return next((r for r in self.roots if path == r or path.is_relative_to(r)), None)

    def watched(self, path: Path) -> bool:
        """Inside a root, and no part below the root hidden (`.beets123`, `.~tmp`, `.Trash`)."""
        root = self.root_of(path)
        if root is None:
            return False
        rel = path.relative_to(root).parts
        return not any(part.startswith(".") for part in rel)

    def audio(self, path: Path) -> bool:
        name = path.name
        if name.endswith(TEMP_SUFFIXES) or name.startswith("~$"):
            return False
        return path.suffix.lower() in AUDIO_EXTENSIONS and self.watched(path)

    def audio_files_in(self, folder: Path) -> Iterator[Path]:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                path = Path(dirpath, name)
                if self.audio(path):
                    yield path


class AudioEventHandler(FileSystemEventHandler):
    """Turns watchdog events into `Change`s and hands each to `sink` (e.g. `Debouncer.push`).

    A folder move becomes one move per audio file it holds (found by walking the destination);
    inotify also reports those moves itself, and the coalescer treats a repeated move as one.
    A deleted folder becomes one `deleted` change for the folder: its files are gone, so only
    the store can say which tracks lived there. Created folders need nothing here: observers
    report the files inside them.
    """

    def __init__(self, roots: Sequence[Path], sink: Callable[[Change], None]) -> None:
        super().__init__()
        self.filter = PathFilter(roots)
        self.sink = sink

    def _emit(self, changes: Iterable[Change]) -> None:
        for change in changes:
            self.sink(change)

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            self._emit(self._translate(event))
        except OSError as exc:  # e.g. the folder vanished while we walked it
            log.warning("ignoring {}: {}", event, exc)

    def _translate(self, event: FileSystemEvent) -> Iterator[Change]:
        src = Path(os.fsdecode(event.src_path)).absolute()
        if isinstance(event, FileMovedEvent | DirMovedEvent):
            dest = Path(os.fsdecode(event.dest_path)).absolute() if event.dest_path else None
            yield from self._moved(src, dest, is_dir=event.is_directory)
        elif isinstance(event, DirDeletedEvent):
            if self.filter.watched(src):
                yield Change("deleted", src)
        elif event.is_directory or not self.filter.audio(src):
            return
        elif isinstance(event, FileCreatedEvent):
            yield Change("created", src)
        elif isinstance(event, FileModifiedEvent):
            yield Change("modified", src)
        elif isinstance(event, FileClosedEvent):
            yield Change("closed", src)
        elif isinstance(event, FileDeletedEvent):
            yield Change("deleted", src)

    def _moved(self, src: Path, dest: Path | None, *, is_dir: bool) -> Iterator[Change]:
        f = self.filter
        if not is_dir:
            ours_src, ours_dest = f.audio(src), dest is not None and f.audio(dest)
            if ours_src and ours_dest:
                yield Change("moved", src, dest)
            elif ours_src:  # renamed to a temp/hidden name, or moved out of the roots
                yield Change("deleted", src)
            elif ours_dest:  # a download or copy tool renamed its temp file into place
                assert dest is not None
                yield Change("appeared", dest)
            return
        ours_src, ours_dest = f.watched(src), dest is not None and f.watched(dest)
        if ours_src and not ours_dest:
            yield Change("deleted", src)
        elif ours_dest:
            assert dest is not None
            for new in f.audio_files_in(dest):
                old = src / new.relative_to(dest)
                yield Change("moved", old, new) if ours_src else Change("created", new)
