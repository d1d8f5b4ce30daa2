"""Cut-off files that a decoder reads without complaint: an Ogg stream whose last page is not
its end, a WAV whose header promises more audio than the file holds (libsndfile clamps both to
what is there). A look at the container's own bookkeeping, a few KB read."""

from __future__ import annotations

import os
import struct

TAIL_BYTES = 65_536 + 282  # an Ogg page is at most 65,307 bytes: the last one starts in here
TOLERANCE = 0.98  # the share of the promised audio a file must hold


def truncation(path: str | os.PathLike) -> str | None:
    """Why the file looks cut off, or None. Never raises for an unreadable or odd file."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            size = os.fstat(f.fileno()).st_size
            if head[:4] == b"OggS":
                f.seek(max(0, size - TAIL_BYTES))
                return _ogg(f.read())
            if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
                return _wav(f, size)
    except OSError:
        return None
    return None


def _ogg(tail: bytes) -> str | None:
    last = tail.rfind(b"OggS")
    if last < 0 or last + 6 > len(tail):
        return None
    if not tail[last + 5] & 0x04:  # header_type: 0x04 marks the stream's last page
        return "truncated: the Ogg stream ends without its last page (the file is cut off)"
    return None


def _wav(f, size: int) -> str | None:
    offset = 12
    while offset + 8 <= size:
        f.seek(offset)
        chunk, length = struct.unpack("<4sI", f.read(8))
        if chunk == b"data":
            held = size - offset - 8
            # 0 and 0xFFFFFFFF: a writer that never filled in the length (streamed WAV)
            if length not in (0, 0xFFFFFFFF) and held < TOLERANCE * length:
                return (f"truncated: the WAV header promises {length:,} bytes of audio, the "
                        f"file holds {held:,}")
            return None
        offset += 8 + length + (length & 1)  # chunks are padded to an even size
    return None
