"""The README's map: a full-length library (../shared/tools/make_full_library.sh DIR) clustered
and drawn through the product's own core, without touching the library's files.

    python scripts/map_picture.py build/full-library -n 10 --out docs/full-map.png [--html]
                                  [--backend handcrafted] [--projection pca]

The store and the playlists go to bench-out/map/<backend>/ (a rerun only reads the store); the
tracks are named "artist - title" from their tags, as beets would name them; write_tags is
off, so the audio files are only read.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import mediafile

from beetsplug.cluster.config import Settings
from beetsplug.cluster.library import Library
from beetsplug.cluster.records import Track

REPO = Path(__file__).resolve().parents[1]


def tracks_of(library: Path) -> list[Track]:
    with open(library / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for row in rows:
        path = library / "music" / row["file"]
        tags = mediafile.MediaFile(str(path))
        name = " - ".join(x for x in (tags.artist, tags.title) if x) or None
        out.append(Track(str(path), duration=float(row["duration_s"]), display_name=name,
                         fields={"album": tags.album, "artist": tags.artist}))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("library", type=Path, help="a folder make_full_library.sh built")
    ap.add_argument("-n", type=int, default=10, help="playlists (default 10)")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "full-map.png")
    ap.add_argument("--html", action="store_true")
    ap.add_argument("--backend", default="handcrafted")
    ap.add_argument("--projection", default="pca")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    work = REPO / "bench-out" / "map" / args.backend
    work.mkdir(parents=True, exist_ok=True)
    tracks = tracks_of(args.library.resolve())
    settings = Settings(clusters=args.n, workers=args.workers, backend=args.backend,
                        store=work / "cluster.db", playlist_dir=work / "Playlists",
                        library_root=args.library.resolve() / "music", write_tags=False)
    core = Library(settings)
    try:
        report = core.analyse(tracks)
        print(f"{report.total} tracks, {report.analysed} analysed, {len(report.failed)} failed")
        run = core.recluster(tracks)
        for name, paths in run.playlists.items():
            print(f"{len(paths):4d}  {name}")
        titles = {t.path: t.display_name for t in tracks if t.display_name}
        for path in core.draw(core.last_run(), args.out, args.projection, args.html, titles):
            print(f"wrote {path}")
    finally:
        core.close()


if __name__ == "__main__":
    main()
