"""Files written whole or not at all: a synced temp file beside the target, then a rename, so a
reader (a player, the daemon) sees the old file or the new one; and the --output JSON export."""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from ..log import log
from .paths import PlaylistError

if TYPE_CHECKING:
    from .playlists import Entry


def write_json(playlists: dict[str, list[Entry]], out: Path) -> None:
    """`--output FILE.json`: name -> [{path, seconds, title}], absolute paths."""
    check_export_target(out)
    data = {
        name: [{"path": str(e.path), "seconds": e.seconds, "title": e.title} for e in entries]
        for name, entries in playlists.items()
    }
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    # A name that is not UTF-8 holds surrogate escapes: as JSON escapes they are valid JSON,
    # and json.loads + os.fsencode give back the file system's bytes.
    text = re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m[0]):04x}", text)
    make_folder(out.parent)
    atomic_write(out, text)



def make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PlaylistError(f"cannot create playlist folder {folder}: {e.strerror}") from e


def unchanged(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False  # missing or unreadable: write it


def write_if_changed(path: Path, text: str) -> None:
    if not unchanged(path, text):
        atomic_write(path, text)


def atomic_write(path: Path, text: str) -> None:
    """Temp file in the same folder, fsync, rename: readers see the old file or the new one."""
    tmp = write_temp(path, text)
    try:
        replace(tmp, path)
    except PlaylistError:
        discard(tmp)
        raise


def write_temp(path: Path, text: str) -> Path:
    """`text` in a synced temp file beside `path`; nothing is left behind when that fails."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        # os.open with 0o666 lets the umask decide, so a player running as another user can
        # read the list (tempfile would make it 0600).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:
        raise PlaylistError(f"cannot write playlist {path}: {e.strerror or e}") from e
    try:
        with open(fd, "w", encoding="utf-8", newline="\n") as f:
            _keep_owner_and_mode(f.fileno(), path)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        discard(tmp)
        raise PlaylistError(f"cannot write playlist {path}: {e.strerror or e}") from e
    return tmp


def _keep_owner_and_mode(fd: int, path: Path) -> None:
    """A rewritten file keeps the mode and group (and, where we may, the owner) of the file it
    replaces: a user who made a playlist readable to a player's group keeps that."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return  # a new file: the umask decides
    os.fchmod(fd, st.st_mode & 0o7777)
    for owner in (st.st_uid, -1):  # only root may give a file to another user
        try:
            os.fchown(fd, owner, st.st_gid)
            return
        except PermissionError:
            continue
    log.debug("cannot keep the group of {}", path)  # not a group of ours: the file stays ours


def is_export(path: Path) -> bool:
    """Whether `path` holds a JSON export of ours (name -> [{path, seconds, title}])."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and all(
        isinstance(v, list) and all(isinstance(e, dict) and set(e) == {"path", "seconds",
                                                                       "title"} for e in v)
        for v in data.values())


def check_export_target(out: Path) -> None:
    """`-o FILE.json` replaces an earlier export of ours, never someone else's file (as
    `beet similar -o` never replaces a playlist it did not write). Checked before the run."""
    if out.is_dir():
        raise PlaylistError(f"-o {out}: that is a folder; name a .json file")
    if out.exists() and not is_export(out):
        raise PlaylistError(f"refusing to overwrite {out}: not a beets-cluster JSON export "
                            "(remove it or name another file)")


def replace(tmp: Path, path: Path) -> None:
    try:
        os.replace(tmp, path)
    except OSError as e:
        raise PlaylistError(f"cannot write playlist {path}: {e.strerror or e}") from e


def discard(tmp: Path) -> None:
    """Remove a temp file of ours if it is still there. Never raises: it runs while another
    error is on its way to the user, which must not be replaced by this one."""
    try:
        tmp.unlink(missing_ok=True)
    except OSError as e:
        log.warning("cannot remove temp file {}: {}", tmp, e.strerror or e)
