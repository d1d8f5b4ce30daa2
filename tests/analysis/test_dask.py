"""Analysis on a real Dask cluster: a `dask scheduler` and two `dask worker` processes on
127.0.0.1 (tests/helpers/dask_cluster.py), real clips, the real core. The same vectors as a local
run; a worker killed mid-run loses and duplicates nothing; a file that kills workers is a failure
row; workers that see the music elsewhere read it through the path map; networks go to the
worker with a GPU and load their model once there; the daemon's core uses the same scheduler.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import BeetsEnv, pick_clips
from dask_cluster import dask_cluster, our_tasks, worker_pids
from dask_worker_faults import CRASH_MARK, other_code

from beetsplug.cluster.analysis.path_map import PathMap
from beetsplug.cluster.config import DEFAULTS, DaskTarget, Settings, read_view, settings_from
from beetsplug.cluster.errors import DaskError
from beetsplug.cluster.library import Library
from beetsplug.cluster.records import Track

distributed = pytest.importorskip("distributed")

GPU_WORKER = ["--resources", "GPU=1"]
FAULTS = ["--preload", "dask_worker_faults"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, emotify):
    """One plain worker and one that says it has a GPU; both crash on marked files."""
    workers = [FAULTS, [*FAULTS, *GPU_WORKER]]
    with dask_cluster(tmp_path_factory.mktemp("dask"), workers) as (address, _), \
            distributed.Client(address, set_as_default=False) as client:
        yield address, client


def clips_in(folder: Path, per_genre: int, offset: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copyfile(c, folder / c.name)) for c in pick_clips(per_genre, offset)]


def analyse(folder: Path, clips: list[Path], dask: DaskTarget | None = None, progress=None,
            **settings) -> tuple[Library, object]:
    core = Library(Settings(workers=1, store=folder / "store.db", dask=dask, **settings))
    return core, core.analyse([Track(str(p)) for p in clips], progress=progress)


def vectors(core: Library, clips: list[Path]) -> np.ndarray:
    found, matrix = core.store.arrays([str(p) for p in clips], core.embedder.name,
                                      core.embedder.version)
    assert found == [str(p) for p in clips]
    return np.stack(matrix)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the whole path on a real cluster -------------------------------------------------------

def test_same_vectors_as_local_and_a_killed_worker_loses_nothing(tmp_path, cluster):
    address, client = cluster
    clips = clips_in(tmp_path / "music", per_genre=3)
    local, _ = analyse(tmp_path / "local", clips)
    killed: list[tuple[str, list]] = []
    ticks: list[float] = []

    def progress(work):
        def tick(audio_seconds):
            ticks.append(audio_seconds)
            if not killed:  # the first result back: the others are on the workers now
                busy = {w: keys for w, keys in client.processing().items() if keys}
                victim = min(busy)
                killed.append((victim, busy[victim]))
                os.kill(worker_pids(client)[victim], signal.SIGKILL)
        return tick

    (tmp_path / "dask").mkdir()
    remote, report = analyse(tmp_path / "dask", clips, DaskTarget(address), progress)
    assert killed and killed[0][1], "no file was in flight on the killed worker"
    assert report.analysed == len(clips) and not report.failed
    assert len(ticks) == len(clips)  # one result per file: none lost, none twice
    rows = remote.store.db.execute("SELECT COUNT(*), COUNT(DISTINCT path) FROM tracks").fetchone()
    assert tuple(rows) == (len(clips), len(clips))
    assert np.allclose(vectors(remote, clips), vectors(local, clips), atol=1e-6)
    local.close()
    remote.close()


def test_a_file_that_kills_workers_is_recorded_as_failed(tmp_path, cluster):
    address, _ = cluster
    good = clips_in(tmp_path / "music", per_genre=1)[:3]
    killer = tmp_path / "music" / f"{CRASH_MARK}.mp3"
    shutil.copyfile(good[0], killer)
    core, report = analyse(tmp_path, [*good, killer], DaskTarget(address))
    assert report.analysed == 4
    assert [p for p, _ in report.failed] == [str(killer)], report.failed
    assert "every Dask worker that ran this file died" in report.failed[0][1]
    again = core.analyse([Track(str(p)) for p in [*good, killer]])  # recorded: not retried
    assert again.analysed == 0 and [p for p, _ in again.known_failures] == [str(killer)]
    core.close()


@pytest.mark.slow
def test_a_batch_of_network_files_that_dies_is_split_to_find_the_killer(tmp_path, cluster):
    """musicnn sends several files per task: the killer takes the whole task down twice,
    then each file runs alone and only the killer is recorded as failed."""
    pytest.importorskip("torch")
    pytest.importorskip("musicnn")
    address, _ = cluster
    good = clips_in(tmp_path / "music", per_genre=1)[:2]
    killer = tmp_path / "music" / f"{CRASH_MARK}.mp3"
    shutil.copyfile(good[0], killer)
    core, report = analyse(tmp_path, [*good, killer], DaskTarget(address), backend="musicnn",
                           max_windows=2)
    assert report.analysed == 3
    assert [p for p, _ in report.failed] == [str(killer)], report.failed
    assert len(core.store.arrays([str(p) for p in good], "musicnn", core.embedder.version)[0]) == 2
    core.close()


def test_ctrl_c_keeps_what_finished_and_leaves_no_task_on_the_cluster(tmp_path, cluster):
    address, client = cluster
    clips = clips_in(tmp_path / "music", per_genre=3)

    def progress(total):
        def tick(n):
            raise KeyboardInterrupt  # at the first result, as Ctrl-C there would
        return tick

    with pytest.raises(KeyboardInterrupt):
        analyse(tmp_path, clips, DaskTarget(address), progress)
    core = Library(Settings(store=tmp_path / "store.db"))
    kept = core.store.paths(core.embedder.name)
    assert len(kept) == 1 and kept[0] in {str(p) for p in clips}  # saved on the way out
    core.close()
    deadline = time.monotonic() + 10
    while (ours := client.run_on_scheduler(our_tasks)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not ours, ours


def test_a_worker_with_other_code_stops_the_run_before_anything_mixes(tmp_path, cluster):
    address, client = cluster
    clips = clips_in(tmp_path / "music", per_genre=1)[:2]
    client.run(other_code, True)
    try:
        with pytest.raises(DaskError, match="install the same beets-cluster on the workers"):
            analyse(tmp_path, clips, DaskTarget(address))
    finally:
        client.run(other_code, False)
    core = Library(Settings(store=tmp_path / "store.db"))
    assert core.store.paths(core.embedder.name) == []  # nothing stored under our version
    core.close()


def test_workers_read_the_music_through_the_path_map(tmp_path, cluster):
    """The workers' view of the folder holds other clips under the same names: what they
    analyse is what the map points them at, stored under the local paths."""
    address, _ = cluster
    here = clips_in(tmp_path / "here", per_genre=1)
    seen = [tmp_path / "there" / p.name for p in here]
    others = pick_clips(per_genre=1, offset=5)
    (tmp_path / "there").mkdir()
    for src, dst in zip(others, seen):
        shutil.copyfile(src, dst)
    target = DaskTarget(address, PathMap.parse([f"{tmp_path / 'here'}:{tmp_path / 'there'}/"]))
    remote, report = analyse(tmp_path / "store-remote", here, target)
    assert report.analysed == len(here) and not report.failed
    truth, _ = analyse(tmp_path / "store-truth", seen)
    assert np.allclose(vectors(remote, here), vectors(truth, seen), atol=1e-6)
    remote.close()
    truth.close()


@pytest.mark.slow
def test_a_network_goes_to_the_gpu_worker_and_loads_once_there(tmp_path, cluster):
    pytest.importorskip("torch")
    pytest.importorskip("musicnn")
    address, client = cluster
    clips = clips_in(tmp_path / "music", per_genre=1)
    from beetsplug.cluster.analysis.per_file import models_loaded

    gpu = [w for w, info in client.scheduler_info(n_workers=-1)["workers"].items()
           if info["resources"].get("GPU")]
    # An earlier test's killer may have sent a network task to the plain worker while the GPU
    # worker restarted (no GPU slot then): what this run loads is counted from here.
    before = {w: n.get("musicnn", 0) for w, n in client.run(models_loaded).items()}
    remote, report = analyse(tmp_path / "dask", clips, DaskTarget(address), backend="musicnn",
                             max_windows=4)
    assert report.analysed == len(clips) and not report.failed
    # once per worker process (in this run or an earlier one), and only where there is a GPU
    loads = {w: n.get("musicnn", 0) for w, n in client.run(models_loaded).items()}
    assert gpu and all(loads[w] == 1 for w in gpu), loads
    assert all(loads[w] == before.get(w, 0) for w in loads if w not in gpu), (before, loads)
    local, _ = analyse(tmp_path / "local", clips, backend="musicnn", max_windows=4)
    assert np.allclose(vectors(remote, clips), vectors(local, clips), atol=1e-4)
    remote.close()
    local.close()


def test_the_daemon_places_new_files_through_the_scheduler(tmp_path, cluster):
    """Config only: the daemon builds Settings from the same table and calls the same core."""
    from beets import library
    from clusterd.handler import CoreHandler
    from conftest import clustered_folder
    from confuse import Configuration

    address, _ = cluster
    settings, _ = clustered_folder(tmp_path, per_genre=1)
    view = Configuration("beets-cluster-test", read=False)
    view.set({"dask_scheduler": address,
              "dask_path_map": {str(settings.library_root / "new"): str(tmp_path / "seen")}})
    values = read_view(view)
    daemon_settings = settings_from(values, library_db=tmp_path / "library.db",
                                    library_root=settings.library_root).with_(
        store=settings.store, playlist_dir=settings.playlist_dir, workers=1)
    new = clips_in(settings.library_root / "new", per_genre=1, offset=6)[:1]
    seen = clips_in(tmp_path / "seen-src", per_genre=1, offset=7)[:1]
    (tmp_path / "seen").mkdir()
    shutil.copyfile(seen[0], tmp_path / "seen" / new[0].name)  # the worker's view of it
    lib = library.Library(str(tmp_path / "library.db"), str(settings.library_root))
    handler = CoreHandler(lib, daemon_settings)
    assert handler.added([new[0]]) == 1
    truth, _ = analyse(tmp_path / "truth", seen)
    assert np.allclose(vectors(handler.core, new), vectors(truth, seen), atol=1e-6)
    handler.core.close()
    truth.close()
    lib._close()


@pytest.mark.slow
def test_beet_cluster_dask_analyses_and_clusters_the_library(tmp_path, cluster):
    address, _ = cluster
    env = BeetsEnv(tmp_path)
    env.import_clips(pick_clips(per_genre=1))
    proc = env.beet("cluster", "-n", "2", "--dask", address)
    assert "cluster: 4 tracks: 4 analysed" in proc.stdout
    assert len(list(env.playlists.glob("*.m3u8"))) == 2
    again = env.beet("cluster", "-n", "2", "--dask", address)  # the store knows them now
    assert "0 analysed, 4 already known" in again.stdout


# -- one clear line -------------------------------------------------------------------------

def test_a_scheduler_that_is_not_there_is_one_line_in_seconds(tmp_path, emotify):
    address = f"tcp://127.0.0.1:{free_port()}"
    clips = clips_in(tmp_path / "music", per_genre=1)[:1]
    t0 = time.monotonic()
    with pytest.raises(DaskError, match="cannot be reached") as caught:
        analyse(tmp_path, clips, DaskTarget(address))
    assert time.monotonic() - t0 < 15
    assert address in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.slow
def test_beet_cluster_dask_to_nowhere_says_so_in_one_line(tmp_path, emotify):
    env = BeetsEnv(tmp_path)
    env.import_clips(pick_clips(per_genre=1)[:2])
    address = f"tcp://127.0.0.1:{free_port()}"
    proc = env.beet("cluster", "-n", "2", "--dask", address, check=False)
    assert proc.returncode == 1
    assert f"error: cluster: the Dask scheduler {address} cannot be reached" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_without_the_extra_the_error_names_it(tmp_path, emotify, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails
    clips = clips_in(tmp_path / "music", per_genre=1)[:1]
    with pytest.raises(DaskError, match=r"pip install 'beets-cluster\[dask\]'"):
        analyse(tmp_path, clips, DaskTarget("tcp://127.0.0.1:8786"))


# -- the path map and the config -------------------------------------------------------------

def test_the_path_map_takes_the_longest_prefix_and_whole_folder_names():
    m = PathMap.parse(["/music:/mnt/nas/music/", "/music/live:/srv/live"])
    assert m.to_worker("/music/a/b.mp3") == "/mnt/nas/music/a/b.mp3"
    assert m.to_worker("/music/live/x.flac") == "/srv/live/x.flac"
    assert m.to_worker("/musicals/x.mp3") == "/musicals/x.mp3"  # not a folder of /music
    assert m.to_worker("/other/x.mp3") == "/other/x.mp3"
    assert PathMap.parse({"/music/": "/mnt/m"}).to_worker("/music/x") == "/mnt/m/x"


@pytest.mark.parametrize("key, value, words", [
    ("dask_scheduler", "nas 8786", "dask_scheduler must look like"),
    ("dask_path_map", ["/music"], "must look like '/music:/mnt/nas/music'"),
    ("dask_path_map", ["music:/mnt"], "absolute path"),
    ("dask_path_map", "/music:/mnt", "must be a list"),
])
def test_a_bad_dask_option_is_one_clear_line(key, value, words):
    values = {**DEFAULTS, "dask_scheduler": "tcp://nas:8786", key: value}
    with pytest.raises(ValueError, match=words):
        settings_from(values, library_db=Path("/l.db"), library_root=Path("/m"))


def test_the_dask_options_reach_the_settings():
    s = settings_from({**DEFAULTS, "dask_scheduler": "tcp://nas:8786",
                       "dask_path_map": ["/music:/mnt/music"]},
                      library_db=Path("/l.db"), library_root=Path("/m"))
    assert s.dask == DaskTarget("tcp://nas:8786", PathMap((("/music", "/mnt/music"),)))
    assert settings_from(DEFAULTS, library_db=Path("/l.db"), library_root=Path("/m")).dask is None
