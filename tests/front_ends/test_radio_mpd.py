"""`beet radio` and `beet similar --mpd` against a real MPD (null audio output, so songs
play in real time) on a real beets library of real clips: the queue is kept N ahead while
songs advance and after a skip, a recently played song is not queued again, a query holds,
`similar --mpd` inserts after the current song or replaces the queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mutagen
import pytest
import yaml
from conftest import REPO, BeetsEnv, copy_clips, pick_clips
from mpd_server import MpdServer, mpd_or_skip

mpd = pytest.importorskip("mpd")  # python-mpd2: the dev extra


class Radio:
    """A real `beet radio` process."""

    def __init__(self, env: BeetsEnv, *args: str):
        run_env = {**os.environ, "BEETSDIR": str(env.config_dir), "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen([sys.executable, "-m", "beets", "radio", *args],
                                     env=run_env, text=True, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)

    def stop(self) -> tuple[int, str, str]:
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, out, err


@pytest.fixture(scope="module")
def setup(tmp_path_factory, emotify):
    mpd_or_skip()
    root = tmp_path_factory.mktemp("radio")
    env = BeetsEnv(root)
    clips = copy_clips(pick_clips(per_genre=4), env.music)
    for i, clip in enumerate(clips):  # each its own artist and album: the variety rules stay
        f = mutagen.File(clip, easy=True)  # out of the way; half the titles say "keep"
        if f.tags is None:
            f.add_tags()
        f["artist"], f["album"] = f"Band {i}", f"LP {i}"
        f["title"] = f"{'keep' if i % 2 else 'drop'} {i}"
        f.save()
    env.beet("import", "-A", "-s", "-q", *map(str, clips))
    env.beet("cluster", "-n", "2")  # every clip analysed
    server = MpdServer(root / "mpd", music=env.music)
    server.start()
    server.update()
    conf = env.config_dir / "config.yaml"
    config = yaml.safe_load(conf.read_text())
    config["mpd"] = {"host": "127.0.0.1", "port": server.port}
    conf.write_text(yaml.safe_dump(config))
    yield env, server, [c.relative_to(env.music).as_posix() for c in clips]
    server.stop()


def client(server: MpdServer):
    c = mpd.MPDClient()
    c.connect("127.0.0.1", server.port)
    return c


def state(server: MpdServer) -> tuple[int | None, list[str]]:
    c = client(server)
    try:
        status = c.status()
        return (int(status["song"]) if "song" in status else None,
                [e["file"] for e in c.playlistinfo()])
    finally:
        c.disconnect()


def wait_for(server: MpdServer, ok, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        pos, queue = state(server)
        if pos is not None and ok(pos, queue):
            return pos, queue
        if time.monotonic() > deadline:
            raise AssertionError(f"MPD's queue never got there: at {pos} of {queue}")
        time.sleep(0.1)


def ahead(n: int):
    return lambda pos, queue: len(queue) - pos - 1 == n


def start_with(server: MpdServer, *songs: str) -> None:
    server.mpc("clear")
    for s in songs:
        server.mpc("add", s)
    server.mpc("play")


@pytest.mark.slow
def test_radio_keeps_the_queue_ahead_follows_skips_and_skips_recent_songs(setup):
    env, server, names = setup
    seed = names[0]
    # the song most like the seed was played an hour ago: within radio_recent (24 h)
    near = env.beet("similar", "-p", "-n", "2", "title:drop 0").stdout
    nearest = next(ln.split(None, 2)[2] for ln in near.splitlines() if ln[:3].strip() == "2")
    env.beet("modify", "-y", f"title:{nearest.split(' - ')[1]}",
             f"last_played={int(time.time()) - 3600}")
    nearest_file = next(n for n in names if Path(n).name == _file_of(env, nearest))
    start_with(server, seed)
    radio = Radio(env, "-n", "3")
    try:
        pos, queue = wait_for(server, ahead(3))
        assert pos == 0 and queue[0] == seed
        server.mpc("next")  # a skip: the radio tops the queue up after the new song
        pos, queue = wait_for(server, lambda p, q: p == 1 and ahead(3)(p, q))
        server.mpc("seek", "99%")  # the song ends on its own: the next one plays
        pos, queue = wait_for(server, lambda p, q: p == 2 and ahead(3)(p, q))
        assert len(queue) == 6 and len(set(queue)) == 6, queue  # nothing queued twice
        assert nearest_file not in queue, (nearest, queue)
        # the listener plays a song of their own: the radio's songs queued after it go, and
        # new ones (none queued before) follow the new song
        own = next(n for n in names if n not in queue and n != nearest_file)
        server.mpc("insert", own)
        server.mpc("next")
        pos, after = wait_for(server, lambda p, q: p == 3 and q[p] == own and ahead(3)(p, q)
                              and not set(q[p + 1:]) & set(queue))
        assert after[:3] == queue[:3] and len(set(after)) == len(after), (queue, after)
    finally:
        rc, out, err = radio.stop()
    assert rc == 0 and "radio: stopped" in out, (out, err)
    assert nearest_file not in after, (nearest, after)
    assert out.count("radio: queued ") == 8, out


def _file_of(env: BeetsEnv, label: str) -> str:
    """The file name of the item with this "artist - title"."""
    title = label.split(" - ")[1]
    return Path(env.beet("ls", "-f", "$path", f"title:{title}").stdout.strip()).name


@pytest.mark.slow
def test_radio_keeps_to_the_query(setup):
    env, server, names = setup
    start_with(server, names[1])
    radio = Radio(env, "-n", "4", "title:keep")
    try:
        _, queue = wait_for(server, ahead(4))
    finally:
        rc, _out, err = radio.stop()
    assert rc == 0, err
    kept = {n for i, n in enumerate(names) if i % 2}
    assert set(queue[1:]) <= kept, queue
    assert names[1] not in queue[1:]


@pytest.mark.slow
def test_similar_mpd_inserts_after_the_current_song_or_replaces_the_queue(setup):
    env, server, names = setup
    start_with(server, names[0], names[5])
    server.mpc("pause")
    out = env.beet("similar", "--mpd", "-n", "3").stdout
    pos, queue = state(server)
    assert pos == 0 and queue[0] == names[0] and queue[-1] == names[5], queue
    assert len(queue) == 5 and len(set(queue)) == 5
    assert "queued 3 songs in MPD after the current song" in out, out

    server.mpc("play", "2")  # the second song plays: the new songs go after it
    pos, before = state(server)
    env.beet("similar", "--mpd", "-n", "2")
    pos, queue = state(server)
    assert pos == 1 and queue[:2] == before[:2] and queue[4:] == before[2:], (before, queue)

    env.beet("similar", "--mpd", "--queue", "--replace", "-n", "4")
    pos, queue = state(server)
    assert pos == 0 and queue[0] == before[1] and len(queue) == 5, queue
    assert not set(queue[1:]) & set(before), (before, queue)  # the seeds are not repeated

    bad = env.beet("similar", "--mpd", "title:drop", check=False)
    assert bad.returncode != 0 and "--mpd takes its seeds from MPD" in bad.stderr


def test_no_mpd_is_one_line(tmp_path, emotify):
    env = BeetsEnv(tmp_path)
    conf = env.config_dir / "config.yaml"
    config = yaml.safe_load(conf.read_text())
    config["mpd"] = {"host": "127.0.0.1", "port": _closed_port()}
    conf.write_text(yaml.safe_dump(config))
    for args in (["radio"], ["similar", "--mpd"]):
        bad = env.beet(*args, check=False)
        assert bad.returncode != 0 and "cannot reach MPD at 127.0.0.1:" in bad.stderr, bad
        assert "Traceback" not in bad.stderr
    bad = env.beet("radio", "-n", "0", check=False)
    assert bad.returncode != 0 and "-n must be at least 1" in bad.stderr


def _closed_port() -> int:
    import socket

    with socket.socket() as s:  # bound, never listening: a connection is refused
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_the_daemon_runs_the_radio_from_config_alone(setup):
    from daemon_helpers import Daemon

    env, server, names = setup
    extra = env.root / "radio.yaml"  # clusterd -c: read over the beets config
    extra.write_text(yaml.safe_dump({"cluster": {"radio": True, "radio_ahead": 2}}))
    server.mpc("clear")
    daemon = Daemon(env, "clusterd", "-c", str(extra))
    try:  # the radio waits on MPD's idle: a song started later is followed
        start_with(server, names[2])
        _, queue = wait_for(server, ahead(2))
        server.mpc("next")
        _, queue = wait_for(server, lambda p, q: p == 1 and ahead(2)(p, q))
        assert len(set(queue)) == 4, queue
    finally:
        rc = daemon.stop()
    assert rc == 0, daemon.text()  # the radio thread ends with the daemon
    assert "radio: keeping 2 songs queued ahead in MPD" in daemon.text()
