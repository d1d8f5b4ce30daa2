"""The store's schema, one migration per version (append only: the schema version stored in
`PRAGMA user_version` is the number of migrations run)."""

from __future__ import annotations

import os

import sqlite_utils


def _v1(db: sqlite_utils.Database) -> None:
    db["tracks"].create(
        {"path": str, "backend": str, "version": str, "size": int, "mtime": float,
         "duration": float, "item_id": int, "n_windows": int, "dim": int, "vector": bytes,
         "windows": bytes, "tags": bytes, "error": str, "analysed_at": float},
        pk=("path", "backend"),
    )
    db["tracks"].create_index(["backend", "version"])
    db["tracks"].create_index(["size", "mtime"])
    db["runs"].create(
        {"id": int, "created": float, "backend": str, "version": str, "k": int, "method": str,
         "aggregate": str, "params": str, "model": bytes},
        pk="id",
    )
    db["assignments"].create(
        {"run_id": int, "path": str, "cluster": int, "distance": float, "playlist": str},
        pk=("run_id", "path"), foreign_keys=[("run_id", "runs", "id")],
    )
    db["backend_tags"].create({"backend": str, "version": str, "names": str},
                              pk=("backend", "version"))


def _v2(db: sqlite_utils.Database) -> None:
    """Audio fingerprints: a retagged file keeps its vector."""
    db["tracks"].add_column("fingerprint", str)


def _v3(db: sqlite_utils.Database) -> None:
    """Paths as bytes: TEXT can't hold a name that is not UTF-8 (surrogate escapes)."""
    db.conn.create_function("fsencode", 1, _enc_any, deterministic=True)
    for table in ("tracks", "assignments"):
        db[table].transform(types={"path": bytes})
        db.execute(f"UPDATE {table} SET path = fsencode(path) WHERE typeof(path) = 'text'")


def _v4(db: sqlite_utils.Database) -> None:
    """Files the old ffmpeg subprocess decoded (M4A, Opus, WMA, ...: what libsndfile did not
    read, so their rows have no fingerprint) were mixed down to (L+R)/sqrt(2), 3 dB louder than
    every other format; the in-process decoder mixes (L+R)/2. Their rows are marked as another
    version, so they are analysed again (failures get another try) and never sit beside
    vectors of the new decoding. MP3/FLAC/WAV/AIFF/Ogg rows were libsndfile's and stay."""
    db.conn.create_function("ffmpeg_cli_decoded", 1, _ffmpeg_cli_decoded, deterministic=True)
    db.execute("UPDATE tracks SET version = version || '+ffmpeg-cli' "
               "WHERE fingerprint IS NULL AND ffmpeg_cli_decoded(path)")


# what libsndfile 1.2 cannot read (or, Opus, read after a seek), so the subprocess decoded it
FFMPEG_CLI_SUFFIXES = (b".m4a", b".m4b", b".mp4", b".aac", b".alac", b".wma", b".opus", b".webm",
                       b".mka", b".ape", b".wv", b".mpc", b".ac3", b".3gp", b".amr")


def _ffmpeg_cli_decoded(path: bytes | str) -> bool:
    return _enc_any(path).lower().endswith(FFMPEG_CLI_SUFFIXES)


MIGRATIONS = [_v1, _v2, _v3, _v4]  # append only: the store's schema version is len(MIGRATIONS)


def _enc_any(path: str | bytes | None) -> bytes | None:
    return None if path is None else os.fsencode(path)
