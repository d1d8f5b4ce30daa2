"""A real MPD for tests: own config in a temp dir, loopback, a free port, a null audio output.

`mpd_or_skip()` says why MPD can't run here; under CI=true a missing MPD is a failure, since
.ci/run installs it (apt-get install -y mpd mpc).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

START_TIMEOUT = 15.0
# mpc prints in the locale's charset; UTF-8 keeps non-ASCII file names intact.
_MPC_ENV = {**os.environ, "LC_ALL": "C.UTF-8"}


def mpd_or_skip() -> None:
    missing = [tool for tool in ("mpd", "mpc") if shutil.which(tool) is None]
    if not missing:
        return
    reason = f"{' and '.join(missing)} not installed (apt-get install -y mpd mpc)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}: .ci/run should have installed it")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MpdServer:
    """One MPD process; `music` and `playlists` are its music_directory and playlist_directory."""

    def __init__(self, base: Path, music: Path | None = None,
                 playlists: Path | None = None) -> None:
        self.base = base
        self.music = music or base / "music"
        self.playlists = playlists or base / "playlists"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def _config(self) -> Path:
        state = self.base / "state"
        state.mkdir(parents=True, exist_ok=True)
        conf = self.base / "mpd.conf"
        conf.write_text(
            f'music_directory "{self.music}"\n'
            f'playlist_directory "{self.playlists}"\n'
            f'db_file "{state / "db"}"\n'
            f'state_file "{state / "state"}"\n'
            f'pid_file "{state / "pid"}"\n'
            f'log_file "{state / "log"}"\n'
            'bind_to_address "127.0.0.1"\n'
            f'port "{self.port}"\n'
            'filesystem_charset "UTF-8"\n'
            'auto_update "no"\n'
            'zeroconf_enabled "no"\n'
            'audio_output {\n  type "null"\n  name "null"\n}\n',
            encoding="utf-8",
        )
        return conf

    @property
    def log(self) -> str:
        path = self.base / "state" / "log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def start(self) -> None:
        self.music.mkdir(parents=True, exist_ok=True)
        self.playlists.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):  # the free port can be taken between probe and bind
            self.port = _free_port()
            self.proc = subprocess.Popen(
                ["mpd", "--no-daemon", str(self._config())],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if self._wait_ready():
                return
            self.stop()
        raise RuntimeError(f"mpd did not start; its log:\n{self.log}")

    def _wait_ready(self) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(64).startswith(b"OK MPD"):
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        self.proc = None

    def mpc(self, *args: str) -> list[str]:
        """Run mpc against this server; its stdout lines. A failing command raises."""
        out = subprocess.run(
            ["mpc", "-h", "127.0.0.1", "-p", str(self.port), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=_MPC_ENV,
            timeout=60,
            check=False,
        )
        if out.returncode != 0:
            raise MpcError(f"mpc {' '.join(args)}: {out.stderr.strip() or out.stdout.strip()}")
        return out.stdout.splitlines()

    def update(self) -> None:
        self.mpc("-w", "update")

    def queue_after_load(self, name: str) -> list[str]:
        """Clear the queue, load one playlist, return the queued files (music_directory
        relative)."""
        self.mpc("clear")
        self.mpc("load", name)
        return self.mpc("-f", "%file%", "playlist")


class MpcError(RuntimeError):
    pass
