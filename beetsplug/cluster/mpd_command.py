"""The MPD front end: `beet radio` and `beet similar --mpd`. It only talks to MPD (through
python-mpd2) and prints; the songs come from the core (`Library.next_songs`,
`Library.similar`). MPD names songs relative to its music folder: beets' `mpd:
music_directory` (as mpdstats reads it), else the beets library folder.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

from beets import config as beets_config
from beets import ui

from .config import Settings
from .errors import ClusterError
from .item_table import read_history, read_table
from .library import Library
from .log import log
from .records import Track
from .text import plural


@dataclass
class Player:
    """One connection to MPD and the mapping between its song names and beets' paths."""

    client: object
    music: str  # MPD's music folder, absolute

    def path(self, song: dict) -> str:
        name = song.get("file", "")
        return name if os.path.isabs(name) else os.path.normpath(os.path.join(self.music, name))

    def name(self, path: str) -> str | None:
        """MPD's name for a beets path; None for a file outside MPD's music folder."""
        rel = os.path.relpath(path, self.music)
        return None if rel.startswith(os.pardir) else rel.replace(os.sep, "/")

    def queue(self) -> list[dict]:
        return self.client.playlistinfo()

    def add_after(self, paths: list[str], pos: int) -> list[str]:
        """Queue the paths from position `pos` on, in order; their song ids. A song MPD
        cannot take is named and skipped: the others still go."""
        from mpd import CommandError

        ids = []
        for path in paths:
            name = self.name(path)
            if name is None:
                log.warning("{}: outside MPD's music folder {}; not queued", path, self.music)
                continue
            try:
                ids.append(self.client.addid(name, pos + len(ids)))
            except (CommandError, UnicodeEncodeError) as exc:
                # MPD's database lags beets' (no `mpc update` since the import), or a file
                # name that is not UTF-8, which MPD cannot name
                log.warning("{}: MPD did not queue it: {}", path, exc)
        return ids


def connect() -> Player:
    """MPD from beets' `mpd:` section (host, port, password: what mpdstats reads)."""
    try:
        import mpd
    except ImportError:
        raise ClusterError("talking to MPD needs python-mpd2: pip install "
                           "'beets-cluster[mpd]'") from None

    view = beets_config["mpd"]
    view.add({"host": os.environ.get("MPD_HOST", "localhost"),
              "port": int(os.environ.get("MPD_PORT", "6600")), "password": "",
              "music_directory": beets_config["directory"].as_filename()})
    host, port = view["host"].as_str(), view["port"].get(int)
    client = mpd.MPDClient()
    client.timeout = 10  # a command's answer; idle waits with no limit (idletimeout None)
    try:
        client.connect(host, port)
        password = view["password"].as_str()
        if password:
            client.password(password)
    except (OSError, mpd.MPDError) as exc:
        raise ClusterError(f"cannot reach MPD at {host}:{port} (the beets `mpd:` config): "
                           f"{exc}") from exc
    return Player(client, os.path.abspath(view["music_directory"].as_filename()))


def _tracks(lib, query: list[str]):
    """The candidates: the whole library read lazily, or the query's items."""
    if not query:
        return read_table(lib)
    from .similar_command import _similar_track

    found = {os.fsdecode(i.path): _similar_track(i) for i in lib.items(query)}
    if not found:
        raise ClusterError("the query matched no tracks")
    return found


@dataclass
class _RadioState:
    queued: dict[str, float] = field(default_factory=dict)  # path -> when the radio queued it
    played: list[str] = field(default_factory=list)  # the songs that played, newest last
    ours: set[str] = field(default_factory=set)  # MPD song ids the radio added
    song_id: str | None = None


def radio(lib, opts, args, s: Settings) -> None:
    """`beet radio`: keep MPD's queue `radio_ahead` songs ahead of the playing one, until
    Ctrl-C."""
    ahead = s.radio_ahead if opts.count is None else opts.count
    if ahead < 1:
        raise ClusterError(f"-n must be at least 1, not {ahead}")
    tracks = _tracks(lib, args)
    player = connect()
    ui.print_(f"radio: keeping {plural(ahead, 'song')} queued ahead (Ctrl-C ends it)")
    run_radio(player, lib, s, ahead, tracks)


def run_radio(player: Player, lib, s: Settings, ahead: int, tracks=None,
              stop: threading.Event | None = None) -> None:
    """The radio's loop, in the calling thread (it opens the core there), until `stop` is
    set (never, for `beet radio`: Ctrl-C ends it). MPD's idle command wakes it on every
    song change and queue edit: no polling."""
    import mpd

    table = read_table(lib)  # seeds: any beets item
    tracks = table if tracks is None else tracks
    core, state = Library(s), _RadioState()
    if stop is not None:
        player.client.subscribe(channel())
    try:
        while stop is None or not stop.is_set():
            _step(player, core, state, table, tracks, lib, ahead, s)
            _idle(player.client, stop)
    except mpd.ConnectionError as exc:
        raise ClusterError(f"lost MPD: {exc}") from exc
    finally:
        core.close()


def _idle(client, stop: threading.Event | None) -> None:
    """Wait for MPD's next player or queue change. With `stop`, a message on our channel
    (wake()) ends the wait too: idle blocks until MPD speaks, and python-mpd2's blocking
    client has no way to cancel it from another thread."""
    if stop is None:
        client.idle("player", "playlist")
        return
    if "message" in client.idle("player", "playlist", "message"):
        client.readmessages()


def channel() -> str:
    """The MPD channel that wakes this process's radio (MPD's client-to-client messages)."""
    return f"beets-cluster-radio-{os.getpid()}"


def wake() -> None:
    """Wake this process's radio from its idle (it then sees `stop` set and ends)."""
    import mpd

    try:
        player = connect()
        player.client.sendmessage(channel(), "stop")
        player.client.disconnect()
    except (ClusterError, OSError, mpd.MPDError) as exc:  # no MPD: no idle to end either
        log.debug("radio: no wake-up sent: {}", exc)


def _step(player: Player, core: Library, state: _RadioState, table, tracks, lib, ahead: int,
          s: Settings) -> None:
    status = player.client.status()
    song = player.client.currentsong()
    if not song or "song" not in status:
        return  # nothing playing: nothing to follow
    pos, path = int(status["song"]), player.path(song)
    queue = player.queue()
    if song["id"] != state.song_id:
        if state.song_id is not None and song["id"] not in state.ours:
            # the listener chose a song of their own: what the radio queued after it followed
            # the old one, so it goes, and the radio follows the new song
            for entry in queue[pos + 1:]:
                if entry["id"] in state.ours:
                    player.client.deleteid(entry["id"])
            queue = player.queue()
        state.song_id = song["id"]
        if not state.played or state.played[-1] != path:
            state.played.append(path)
    missing = ahead - (len(queue) - pos - 1)
    if missing < 1:
        return
    from .radio import recent

    seeds = [table[p] for p in reversed(state.played[-s.radio_seeds:]) if p in table]
    if not seeds or seeds[0].path != path:
        log.info("radio: {} is not in the beets library ({} items); waiting for the next "
                 "song", path, len(table))
        return
    history = read_history(lib)  # mpdstats may be writing it as we run: read it afresh
    avoid = (recent(history, state.queued, s.radio_recent) | set(state.played)
             | {player.path(e) for e in queue})
    picked = core.next_songs(seeds, tracks, n=missing, avoid=avoid, history=history)
    ids = player.add_after([p.path for p in picked], len(queue))
    state.ours.update(ids)
    now = time.time()
    for p in picked:
        state.queued[p.path] = now
        ui.print_(f"radio: queued {p.label} ({p.distance:.3f})")
    if len(picked) < missing:
        ui.print_(f"radio: only {plural(len(picked), 'song')} left to queue (the query, the "
                  f"last {s.radio_recent:g} hours' songs and the variety rules leave no more)")


def similar_mpd(lib, opts, s: Settings) -> None:
    """`beet similar --mpd`: seeds MPD's current song (or its whole queue with --queue); the
    songs go after the current one, or replace the rest of the queue with --replace."""
    if opts.count < 1:
        raise ClusterError(f"-n must be at least 1, not {opts.count}")
    if opts.path or opts.text is not None or opts.output or opts.pretend:
        raise ClusterError("--mpd queues the songs: no --path, --text, -o or -p with it")
    player = connect()
    table = read_table(lib)
    status, queue = player.client.status(), player.queue()
    pos = int(status["song"]) if "song" in status else None
    current = queue[pos] if pos is not None else None
    if current is None and not (opts.queue and queue):
        raise ClusterError("MPD plays no song: start one (or use --queue with a queue)")
    order = ([current] if current else []) + (
        [e for e in queue if e is not current] if opts.queue else [])
    seeds: list[Track] = [table[p] for p in (player.path(e) for e in order) if p in table]
    if not seeds:
        raise ClusterError("MPD's song is not in the beets library")
    in_queue = {player.path(e) for e in queue}
    core = Library(s)
    try:
        got = core.similar(seeds, table, n=opts.count + len(seeds) + len(in_queue),
                           pretend=True)
    finally:
        core.close()
    keep = set() if opts.replace else in_queue  # with --replace the rest of the queue goes
    own = {t.path for t in seeds}
    picked = [p for p in got.tracks if p.path not in own and p.path not in keep][:opts.count]
    if opts.replace:
        if pos is None:
            player.client.clear()
        else:  # the song playing stays, so the music does not stop
            if pos + 1 < len(queue):
                player.client.delete((pos + 1,))
            if pos > 0:
                player.client.delete((0, pos))
    at = 1 if opts.replace and pos is not None else (
        0 if opts.replace else (pos + 1 if pos is not None else len(queue)))
    ids = player.add_after([p.path for p in picked], at)
    ui.print_(f"similar: {got.name}")
    for n, p in enumerate(picked, 1):
        ui.print_(f"{n:>3} {p.distance:.3f}  {p.label}")
    where = "in place of the queue" if opts.replace else "after the current song"
    ui.print_(f"similar: queued {plural(len(ids), 'song')} in MPD {where}")
