"""What libmpg123 prints straight to fd 2 goes to the debug log with the file's name, never to
the user's terminal: in worker processes and when decoding runs in the main process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import REPO, BeetsEnv, pick_clips

XING = "Xing stream size off by more than 1%"


def cut_mp3(clip, path):
    """The first third of a real MP3: its Xing header still promises the whole clip, so
    libmpg123 warns on opening it (and libsndfile decodes only a third: truncated)."""
    data = clip.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def test_the_cut_mp3_makes_libmpg123_print(tmp_path, emotify):
    """The input of the tests below really makes the decoder talk (without the capture)."""
    path = cut_mp3(pick_clips(per_genre=1)[0], tmp_path / "cut.mp3")
    code = f"import soundfile as sf; sf.SoundFile({str(path)!r}).read()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert XING in proc.stderr


@pytest.mark.slow
def test_analysis_in_this_process_logs_decoder_output_at_debug(tmp_path, emotify):
    """Library.analyse decoding in the main process (one file: no workers), and the
    fingerprint check of a known file: the chatter is in the debug log, not on fd 2."""
    path = cut_mp3(pick_clips(per_genre=1)[0], tmp_path / "cut.mp3")
    code = ("import logging, sys\n"
            "from beetsplug.cluster.analysis.audio import fingerprint\n"
            "from beetsplug.cluster.log import log, outside_beets\n"
            "from beetsplug.cluster.library import Library\n"
            "from beetsplug.cluster.records import Track\n"
            "from beetsplug.cluster.config import Settings\n"
            "from beetsplug.cluster.store import Store\n"
            "outside_beets()\n"
            "logging.basicConfig(stream=sys.stdout, level=logging.DEBUG)\n"
            "log.setLevel(logging.DEBUG)\n"
            f"store = Store({str(tmp_path / 's.db')!r})\n"
            f"report = Library(Settings(workers=1), store).analyse([Track({str(path)!r})])\n"
            "print('failed:', report.failed)\n"
            f"assert fingerprint({str(path)!r})\n"
            "sys.stderr.write('stderr still works\\n')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert XING not in proc.stderr
    assert proc.stderr.strip() == "stderr still works"  # fd 2 is put back
    assert "truncated" in proc.stdout
    logged = [ln for ln in proc.stdout.splitlines() if XING in ln]
    assert len(logged) == 2 and all(f"decoder output for {path}" in ln for ln in logged)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_beet_cluster_prints_no_decoder_chatter(tmp_path, emotify, workers):
    env = BeetsEnv(tmp_path, workers=workers)
    clips = env.import_clips(pick_clips(per_genre=1))
    cut_mp3(clips[0], clips[0])  # cut after import: beets knows it as a whole clip
    res = env.beet("cluster", "-n", "2")
    assert XING not in res.stderr and "libmpg123" not in res.stderr, res.stderr
    assert any(str(clips[0]) in ln and "truncated" in ln for ln in res.stderr.splitlines())
    verbose = env.beet("-vv", "cluster", "-n", "2", "--force")
    assert f"decoder output for {clips[0]}: Warning: {XING}" in verbose.stderr, verbose.stderr


def test_with_other_threads_only_decoder_lines_are_kept(tmp_path):
    """In the daemon other threads may print while a file decodes: what is not a decoder's
    message is passed on to fd 2, not swallowed into the debug log."""
    code = ("import os, threading\n"
            "from beetsplug.cluster.analysis.decoder_output import decoder_output\n"
            "stop = threading.Event()\n"
            "t = threading.Thread(target=stop.wait); t.start()\n"
            "with decoder_output() as said:\n"
            "    os.write(2, b'Warning: Xing stream size off by more than 1%\\n')\n"
            "    os.write(2, b'[src/libmpg123/parse.c:wetwork():1349] error: Giving up\\n')\n"
            "    os.write(2, b'clusterd: another thread logs this\\n')\n"
            "stop.set(); t.join()\n"
            "print(said)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stderr == "clusterd: another thread logs this\n"
    assert XING in proc.stdout and "Giving up" in proc.stdout and "clusterd" not in proc.stdout
