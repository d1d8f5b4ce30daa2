"""One rule for a playlist line: no file name can add, split or forge an entry, whatever reads
the list, and a name that can't be listed is named in a warning."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from beetsplug.cluster.output.paths import LINE_BREAKS, line_problem, readable, split_lines
from beetsplug.cluster.output.playlists import (
    MARKER,
    Entry,
    PathStyle,
    add_entry,
    move_entries,
    read_playlist,
    remove_entries,
    write_playlists,
)

NOT_UTF8 = os.fsdecode(b"clip\xff\xfe.mp3")
HOSTILE = {  # a name relative to the library root -> the characters that make it hostile
    "a\u2028/etc/passwd.mp3": "U+2028",
    "x\x85#EXTINF:99,INJECTED.mp3": "U+0085",
    "new\nline.mp3": "U+000A",
    "carriage\rreturn.mp3": "U+000D",
    "vertical\x0btab.mp3": "U+000B",
    "form\x0cfeed.mp3": "U+000C",
    "file\x1csep.mp3": "U+001C",
    NOT_UTF8: "not valid UTF-8",
}
STYLES = {
    "playlist": {},
    "absolute": {"mode": "absolute"},
    "library": {"mode": "library"},
    "prefix": {"mode": "prefix", "prefix": "/mnt/music"},
    "url": {"mode": "prefix", "prefix": "http://nas/music", "url_encode": True},
}


@pytest.fixture
def music(tmp_path: Path) -> Path:
    root = tmp_path / "music"
    for rel in [*HOSTILE, "ok/good.mp3", "ok/other.mp3"]:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    return root


def style_of(name: str, music: Path) -> PathStyle:
    kw = STYLES[name]
    root = music if kw.get("mode") in ("library", "prefix") else None
    return PathStyle(kw.get("mode", "playlist"), root, kw.get("prefix", ""),
                     kw.get("url_encode", False))


def any_reader(path: Path) -> tuple[list[str], list[str]]:
    """(entries, #EXTINF lines) as the strictest common reader sees them: every line break
    str.splitlines knows, bytes that are not UTF-8 replaced."""
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    return ([ln for ln in lines if ln.strip() and not ln.strip().startswith("#")],
            [ln for ln in lines if ln.strip().startswith("#EXTINF")])


def check(path: Path, want: list[str]) -> None:
    entries, extinf = any_reader(path)
    assert entries == want and read_playlist(path) == want
    assert len(extinf) == len(want)  # no forged #EXTINF line
    assert not any(ln.startswith(("#EXTINF:99", "#EXTINF:1,INJECTED")) for ln in extinf)


def entry(music: Path, rel: str, title: str | None = None) -> Entry:
    return Entry(music / rel, 30, title or Path(rel).stem)


@pytest.mark.parametrize("style_name", ["playlist", "absolute", "library", "prefix"])
def test_hostile_names_never_add_split_or_forge_an_entry(music: Path, style_name: str,
                                                         caplog) -> None:
    style = style_of(style_name, music)
    folder = music / "Playlists"
    good, other = (style.format(music / r, folder) for r in ("ok/good.mp3", "ok/other.mp3"))
    with caplog.at_level("WARNING", logger="beets.cluster"):
        [path] = write_playlists({"c": [entry(music, "ok/good.mp3"),
                                        *(entry(music, r, r) for r in HOSTILE)]},
                                 folder, **STYLES[style_name],
                                 library_root=music if "mode" in STYLES[style_name] else None)
    check(path, [good])
    for rel, why in HOSTILE.items():  # each named in a warning, readably, with the reason
        assert f"not listing {readable(str(music / rel))} in playlists: " in caplog.text
        assert why in caplog.text
    assert "clip\\xff\\xfe.mp3" in caplog.text

    for rel in HOSTILE:  # the daemon's and the import stage's append
        assert not add_entry(path, entry(music, rel, rel), style)
        check(path, [good])
    add_entry(path, entry(music, "ok/other.mp3", "x\x85#EXTINF:1,INJECTED\u2028/etc/passwd"),
              style)
    check(path, [good, other])
    # a move to a hostile name takes the track out (its old line would point at nothing) ...
    move_entries(folder, [(music / "ok/other.mp3", music / "a\u2028/etc/passwd.mp3")], style)
    check(path, [good])
    # ... and a move from one, or a removal of one, changes nothing else
    move_entries(folder, [(music / "new\nline.mp3", music / "ok/other.mp3")], style)
    remove_entries(folder, [music / r for r in HOSTILE], style)
    check(path, [good])


def test_url_encoding_lists_every_hostile_name_losslessly(music: Path) -> None:
    style = style_of("url", music)
    folder = music / "Playlists"
    spelled = {rel: style.format(music / rel, folder) for rel in HOSTILE}
    assert spelled[NOT_UTF8] == "http://nas/music/clip%FF%FE.mp3"  # the raw bytes
    assert spelled["a\u2028/etc/passwd.mp3"] == "http://nas/music/a%E2%80%A8/etc/passwd.mp3"
    [path] = write_playlists({"c": [entry(music, r, r) for r in HOSTILE]}, folder,
                             **STYLES["url"], library_root=music)
    check(path, list(spelled.values()))
    assert not add_entry(path, entry(music, NOT_UTF8), style)  # there already
    move_entries(folder, [(music / NOT_UTF8, music / "ok/good.mp3")], style)
    remove_entries(folder, [music / "a\u2028/etc/passwd.mp3"], style)
    check(path, ["http://nas/music/ok/good.mp3" if r == NOT_UTF8 else v
                 for r, v in spelled.items() if r != "a\u2028/etc/passwd.mp3"])


def test_reader_splits_on_newline_only_and_drops_what_an_old_writer_let_through(
        tmp_path: Path) -> None:
    path = tmp_path / "old.m3u8"
    path.write_bytes(("#EXTM3U\r\n#PLAYLIST:old\r\n" + MARKER + "\r\n#EXTINF:1,a\r\n../a.mp3\r\n"
                      "#EXTINF:1,b\n../a\u2028/etc/passwd.mp3\n../b\x85.mp3\n../c.mp3\n"
                      ).encode())
    assert read_playlist(path) == ["../a.mp3", "../a\u2028/etc/passwd.mp3", "../b\x85.mp3",
                                   "../c.mp3"]  # one line each, as written
    remove_entries(tmp_path, [tmp_path.parent / "c.mp3"])  # a rewrite drops the hostile lines
    check(path, ["../a.mp3"])


def test_the_rule_covers_every_line_break_python_knows() -> None:
    breaks = {c for c in map(chr, range(0x110000)) if len(f"a{c}b".splitlines()) > 1}
    assert breaks == set(LINE_BREAKS)
    assert all(line_problem(f"a{c}b") for c in [*LINE_BREAKS, "\0", "\udcff"])
    assert line_problem("Björk/雨 #1\t.mp3") is None
    assert split_lines("a\r\nb\u2028c\n") == ["a", "b\u2028c", ""]
    name = os.fsdecode(b"/m/a\xff") + "\n\\b\u2028\xe9"
    assert readable(name) == "/m/a\\xff\\n\\\\b\\u2028\xe9"
