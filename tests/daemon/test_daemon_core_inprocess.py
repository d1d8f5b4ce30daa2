"""The real core handler in this process: store and playlist moves, the beets lookup, threads."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from beets import library
from clusterd.beets_lookup import find_items
from clusterd.handler import CoreHandler
from clusterd.service import DaemonOptions, Service
from conftest import clustered_folder, copy_clips, pick_clips

from beetsplug.cluster.errors import ClusterError
from beetsplug.cluster.output import playlists
from beetsplug.cluster.store import Analysis, Store

pytestmark = pytest.mark.usefixtures("no_thread_leaks")


def analysis(path: str, seed: int) -> Analysis:
    vec = np.random.default_rng(seed).standard_normal(8).astype(np.float32)
    return Analysis(path, 100 + seed, 1.0, "b", "1", vector=vec)


def test_move_many_swaps_without_losing_a_vector(tmp_path):
    store = Store(tmp_path / "s.db")
    store.save([analysis("/m/a.mp3", 1), analysis("/m/b.mp3", 2), analysis("/m/c.mp3", 3)])
    run = store.save_run({"backend": "b", "version": "1", "k": 2}, [("/m/a.mp3", 1, 0.1, "A"),
                                                                    ("/m/b.mp3", 2, 0.2, "B")])
    _, (a, b, c) = store.arrays(["/m/a.mp3", "/m/b.mp3", "/m/c.mp3"], "b", "1")
    store.move_many([("/m/a.mp3", "/m/b.mp3"), ("/m/b.mp3", "/m/a.mp3"), ("/m/c.mp3", "/m/d.mp3")])
    _, (a2, b2, d2) = store.arrays(["/m/a.mp3", "/m/b.mp3", "/m/d.mp3"], "b", "1")
    assert np.array_equal(a2, b) and np.array_equal(b2, a) and np.array_equal(d2, c)
    assert store.assignment(run, "/m/a.mp3") == (2, 0.2, "B")
    assert store.row("b", "/m/c.mp3") is None
    store.close()


def test_remove_under_takes_a_folder_and_not_its_namesakes(tmp_path):
    store = Store(tmp_path / "s.db")
    store.save([analysis(p, i) for i, p in enumerate(["/m/a/1.mp3", "/m/a/x/2.mp3", "/m/ab/3.mp3",
                                                      "/m/a.mp3"])])
    assert store.remove_under("/m/a") == ["/m/a/1.mp3", "/m/a/x/2.mp3"]
    assert store.paths("b") == ["/m/a.mp3", "/m/ab/3.mp3"]
    assert store.remove_under("/m/a.mp3") == ["/m/a.mp3"]
    store.close()


def test_move_entries_swaps_two_lines(tmp_path):
    a, b = tmp_path / "a.mp3", tmp_path / "b.mp3"
    playlists.write_playlists({"One": [playlists.Entry(a, 30, "a")],
                               "Two": [playlists.Entry(b, 30, "b")]}, tmp_path / "lists")
    playlists.move_entries(tmp_path / "lists", [(a, b), (b, a)])
    assert playlists.read_playlist(tmp_path / "lists" / "One.m3u8") == ["../b.mp3"]
    assert playlists.read_playlist(tmp_path / "lists" / "Two.m3u8") == ["../a.mp3"]


def test_find_items_waits_for_an_import_to_commit(tmp_path, emotify):
    lib = library.Library(str(tmp_path / "library.db"), str(tmp_path / "music"))
    late, unknown = copy_clips(pick_clips(per_genre=1)[:2], tmp_path / "music")

    def commit_later() -> None:
        time.sleep(0.4)  # beets stores its items a moment after it wrote the files
        with lib.music_dir_context():  # as in the process that imports (paths relative)
            lib.add(library.Item.from_path(str(late)))

    importer = threading.Thread(target=commit_later)
    importer.start()
    t0 = time.monotonic()
    with lib.music_dir_context():
        found = find_items(lib, [str(late), str(unknown)], grace=1.0)
    took = time.monotonic() - t0
    importer.join()
    assert list(found) == [str(late)]
    assert 0.3 < took < 1.5, f"waited {took:.2f} s"  # the grace, once, for both files
    lib._close()


def test_the_real_core_in_process_places_follows_and_leaks_no_threads(tmp_path, emotify):
    settings, first = clustered_folder(tmp_path, per_genre=2)  # a first run to place by
    music = settings.library_root

    lib = library.Library(str(tmp_path / "library.db"), str(music))
    handler = CoreHandler(lib, settings)
    svc = Service(DaemonOptions(roots=(music,), quiet_seconds=0.3, max_wait_seconds=3.0), handler,
                  errors=(ClusterError,))
    svc.start()
    try:
        (new,) = copy_clips(pick_clips(per_genre=1, offset=4)[:1], music / "new")
        renamed = first[0].with_name("renamed.mp3")
        first[0].rename(renamed)
        want_new, want_moved, old_line = (f"../{p.relative_to(music)}"
                                          for p in (new, renamed, first[0]))
        deadline = time.monotonic() + 20
        while not {want_new, want_moved} <= lines(music) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert {want_new, want_moved} <= lines(music)
        assert old_line not in lines(music)
    finally:
        svc.stop()
    assert not svc.worker.is_alive() and svc.worker.failure is None
    lib._close()


def lines(music: Path) -> set[str]:
    return {ln for f in (music / "Playlists").glob("*.m3u8") for ln in playlists.read_playlist(f)}
