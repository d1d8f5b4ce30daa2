"""The M3U8 writer: path modes, atomic writes, stale removal, foreign files, incremental edits."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from beetsplug.cluster.output.files import write_json
from beetsplug.cluster.output.playlists import (
    MARKER,
    Entry,
    PathStyle,
    PlaylistError,
    add_entry,
    move_entries,
    read_playlist,
    remove_entries,
    write_playlists,
)


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    root = tmp_path / "Music"
    for rel in ("Björk/Homogenic/01 Hunter.mp3", "AC DC/Back #1/02 Shoot.flac", "雨/歌.ogg"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    return root


def entries(root: Path) -> list[Entry]:
    return [
        Entry(root / "Björk/Homogenic/01 Hunter.mp3", 255.6, "Björk - Hunter"),
        Entry(root / "AC DC/Back #1/02 Shoot.flac", None, "AC/DC - Shoot"),
        Entry(root / "雨/歌.ogg", 3.2, "歌"),
    ]


def test_playlist_mode_relative_to_the_file(lib: Path) -> None:
    folder = lib / "Playlists"
    [path] = write_playlists({"Cluster 01 ünï": entries(lib)}, folder)
    assert path == folder / "Cluster 01 ünï.m3u8"
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[:3] == ["#EXTM3U", "#PLAYLIST:Cluster 01 ünï", MARKER]
    assert "#EXTINF:256,Björk - Hunter" in text
    assert "#EXTINF:-1,AC/DC - Shoot" in text
    lines = read_playlist(path)
    assert lines == [
        "../Björk/Homogenic/01 Hunter.mp3",
        "../AC DC/Back #1/02 Shoot.flac",
        "../雨/歌.ogg",
    ]
    assert all((folder / ln).resolve().is_file() for ln in lines)


def test_library_mode_relative_to_root_with_m3u_names(lib: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mpd-playlists"
    [path] = write_playlists({"c1": entries(lib)}, folder, mode="library", library_root=lib)
    assert path.name == "c1.m3u"
    assert read_playlist(path) == [
        "Björk/Homogenic/01 Hunter.mp3",
        "AC DC/Back #1/02 Shoot.flac",
        "雨/歌.ogg",
    ]


def test_library_mode_file_outside_root_is_absolute(lib: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.mp3"
    [path] = write_playlists(
        {"c1": [Entry(outside, 1, "x")]}, tmp_path / "pl", mode="library", library_root=lib
    )
    assert read_playlist(path) == [str(outside)]


def test_absolute_mode(lib: Path, tmp_path: Path) -> None:
    [path] = write_playlists({"c1": entries(lib)}, tmp_path / "pl", mode="absolute")
    assert path.suffix == ".m3u8"
    assert read_playlist(path) == [str(e.path) for e in entries(lib)]


def test_prefix_mode_plain_and_url_encoded(lib: Path, tmp_path: Path) -> None:
    [plain] = write_playlists(
        {"c1": entries(lib)}, tmp_path / "a", mode="prefix", library_root=lib, prefix="/mnt/nas/"
    )
    assert read_playlist(plain)[0] == "/mnt/nas/Björk/Homogenic/01 Hunter.mp3"
    [url] = write_playlists(
        {"c1": entries(lib)},
        tmp_path / "b",
        mode="prefix",
        library_root=lib,
        prefix="http://nas:8000/music",
        url_encode=True,
    )
    assert read_playlist(url) == [
        "http://nas:8000/music/Bj%C3%B6rk/Homogenic/01%20Hunter.mp3",
        "http://nas:8000/music/AC%20DC/Back%20%231/02%20Shoot.flac",
        "http://nas:8000/music/%E9%9B%A8/%E6%AD%8C.ogg",
    ]


def test_prefix_mode_skips_files_outside_root(lib: Path, tmp_path: Path) -> None:
    inside = entries(lib)[0]
    outside = Entry(tmp_path / "x.mp3", 1, "x")
    [path] = write_playlists(
        {"c": [outside, inside]}, tmp_path / "p", mode="prefix", library_root=lib, prefix="/m"
    )
    assert read_playlist(path) == ["/m/Björk/Homogenic/01 Hunter.mp3"]


@pytest.mark.parametrize(
    "kwargs",
    [{"mode": "nope"}, {"mode": "library"}, {"mode": "prefix", "library_root": Path("/")}],
)
def test_bad_mode_options(tmp_path: Path, kwargs: dict) -> None:
    with pytest.raises(PlaylistError):
        write_playlists({"c": []}, tmp_path, **kwargs)


def test_file_starting_with_hash_is_not_a_comment(tmp_path: Path) -> None:
    track = tmp_path / "#1 hit.mp3"
    [path] = write_playlists({"c": [Entry(track, 1, "x")]}, tmp_path)
    assert read_playlist(path) == ["./#1 hit.mp3"]


def test_order_kept_and_no_temp_files_left(lib: Path) -> None:
    folder = lib / "Playlists"
    es = entries(lib)
    write_playlists({"a": es, "b": es[::-1]}, folder)
    assert sorted(p.name for p in folder.iterdir()) == ["a.m3u8", "b.m3u8"]
    assert read_playlist(folder / "b.m3u8")[0] == "../雨/歌.ogg"


def test_unchanged_playlist_is_not_rewritten(lib: Path) -> None:
    folder = lib / "Playlists"
    [path] = write_playlists({"a": entries(lib)}, folder)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    write_playlists({"a": entries(lib)}, folder)
    assert path.stat().st_mtime_ns == 1_000_000_000
    write_playlists({"a": entries(lib)[:1]}, folder)
    assert path.stat().st_mtime_ns != 1_000_000_000


def test_stale_removed_foreign_untouched(lib: Path) -> None:
    folder = lib / "Playlists"
    foreign = folder / "mine.m3u8"
    folder.mkdir()
    foreign.write_text("#EXTM3U\n../雨/歌.ogg\n", encoding="utf-8")
    other = folder / "notes.txt"
    other.write_text(MARKER + "\n")  # our marker, but not a playlist: left alone
    write_playlists({"c1": entries(lib), "c2": entries(lib)}, folder)
    write_playlists({"c1": entries(lib)}, folder, mode="library", library_root=lib)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["c1.m3u", "mine.m3u8", "notes.txt"]
    assert foreign.read_text(encoding="utf-8") == "#EXTM3U\n../雨/歌.ogg\n"


def test_foreign_file_with_our_name_is_refused(lib: Path) -> None:
    folder = lib / "Playlists"
    folder.mkdir()
    (folder / "c2.m3u8").write_text("#EXTM3U\nhand made\n")
    with pytest.raises(PlaylistError, match="not written by beets-cluster"):
        write_playlists({"c1": entries(lib), "c2": entries(lib)}, folder)
    assert not (folder / "c1.m3u8").exists()  # checked before anything was written
    assert (folder / "c2.m3u8").read_text() == "#EXTM3U\nhand made\n"


def test_folder_that_cannot_be_created(tmp_path: Path) -> None:
    # A path under a regular file fails even as root, where chmod would not stop a write.
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(PlaylistError, match="cannot create playlist folder"):
        write_playlists({"c": []}, blocker / "Playlists")
    with pytest.raises(PlaylistError):
        write_json({"c": []}, blocker / "out.json")


def test_unwritable_folder_leaves_no_temp(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as root: chmod does not stop writes (covered above)")
        with pytest.raises(PlaylistError, match="cannot write playlist"):
            write_playlists({"c": []}, folder)
    finally:
        folder.chmod(0o755)
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("name", ["", "a/b", "..", "   "])
def test_unusable_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(PlaylistError, match="unusable playlist name"):
        write_playlists({name: []}, tmp_path)


def test_add_remove_move(lib: Path) -> None:
    folder = lib / "Playlists"
    es = entries(lib)
    a, b = write_playlists({"a": es[:2], "b": es[2:]}, folder)
    new = Entry(lib / "new one.mp3", 60, "New")
    assert add_entry(b, new)
    assert not add_entry(b, new)  # already there
    assert read_playlist(b) == ["../雨/歌.ogg", "../new one.mp3"]
    assert "#EXTINF:60,New" in b.read_text(encoding="utf-8")

    moved = lib / "Björk" / "Hunter (moved).mp3"
    assert move_entries(folder, [(es[0].path, moved)]) == [a]
    assert read_playlist(a) == ["../Björk/Hunter (moved).mp3", "../AC DC/Back #1/02 Shoot.flac"]
    assert "#EXTINF:256,Björk - Hunter" in a.read_text(encoding="utf-8")  # title kept

    assert remove_entries(folder, [moved, new.path]) == [a, b]
    assert read_playlist(a) == ["../AC DC/Back #1/02 Shoot.flac"]
    assert read_playlist(b) == ["../雨/歌.ogg"]
    assert "New" not in b.read_text(encoding="utf-8")  # its #EXTINF went with it
    assert sorted(p.name for p in folder.iterdir()) == ["a.m3u8", "b.m3u8"]


def test_incremental_edits_leave_foreign_files_alone(lib: Path) -> None:
    folder = lib / "Playlists"
    es = entries(lib)
    write_playlists({"a": es}, folder)
    foreign = folder / "mine.m3u"
    foreign.write_text("#EXTM3U\n../雨/歌.ogg\n", encoding="utf-8")
    assert remove_entries(folder, [es[2].path]) == [folder / "a.m3u8"]
    assert foreign.read_text(encoding="utf-8") == "#EXTM3U\n../雨/歌.ogg\n"
    with pytest.raises(PlaylistError):
        add_entry(foreign, es[0])


def test_library_mode_incremental(lib: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mpd"
    opts = {"mode": "library", "library_root": lib}
    [c] = write_playlists({"c": entries(lib)[:1]}, folder, **opts)
    style = PathStyle(**opts)
    add_entry(c, entries(lib)[2], style=style)
    assert read_playlist(c) == ["Björk/Homogenic/01 Hunter.mp3", "雨/歌.ogg"]
    move_entries(folder, [(entries(lib)[2].path, lib / "rain.ogg")], style=style)
    assert read_playlist(c) == ["Björk/Homogenic/01 Hunter.mp3", "rain.ogg"]


def test_write_json(lib: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "clusters.json"
    write_json({"Cluster 1": entries(lib)}, out)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert list(data) == ["Cluster 1"]
    assert data["Cluster 1"][0] == {
        "path": str(lib / "Björk/Homogenic/01 Hunter.mp3"),
        "seconds": 255.6,
        "title": "Björk - Hunter",
    }
    assert data["Cluster 1"][1]["seconds"] is None
    assert [p.name for p in out.parent.iterdir()] == ["clusters.json"]
