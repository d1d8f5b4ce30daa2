"""The pure-Python TensorBundle reader: a checkpoint written here byte by byte, and snappy."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

import numpy as np
import pytest

from beetsplug.cluster.embedders.tf_checkpoint import (
    CheckpointError,
    read_checkpoint,
    snappy_decompress,
)


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value


def snappy_literal(data: bytes) -> bytes:
    """A valid snappy stream made of literals only (the reader must also take copies)."""
    out = bytearray(varint(len(data)))
    for i in range(0, len(data), 60):
        chunk = data[i : i + 60]
        out += bytes([(len(chunk) - 1) << 2]) + chunk
    return bytes(out)


def write_checkpoint(prefix: Path, tensors: dict[str, np.ndarray], snappy: bool) -> None:
    """A TensorBundle the way TF lays it out: SSTable index + one data shard."""
    dtypes = {np.dtype(np.float32): 1, np.dtype(np.int64): 9, np.dtype(np.float16): 19}
    data, entries = bytearray(), [(b"", field(1, 1))]  # header: num_shards = 1
    for name in sorted(tensors):
        array = tensors[name]
        shape = b"".join(field(2, field(1, d)) for d in array.shape)
        entry = field(1, dtypes[array.dtype]) + field(2, shape)
        entry += field(4, len(data)) + field(5, array.nbytes)
        data += array.astype(array.dtype.newbyteorder("<")).tobytes()
        entries.append((name.encode(), entry))
    table = bytearray()

    def block(items: list[tuple[bytes, bytes]]) -> bytes:
        body = b"".join(varint(0) + varint(len(k)) + varint(len(v)) + k + v for k, v in items)
        body += struct.pack("<II", 0, 1)  # one restart point, at 0
        stored = snappy_literal(body) if snappy else body
        handle = varint(len(table)) + varint(len(stored))
        table.extend(stored + bytes([1 if snappy else 0]) + b"\0\0\0\0")  # crc unchecked
        return handle

    # two data blocks, to exercise the index block
    half = len(entries) // 2
    index = [(entries[half - 1][0], block(entries[:half])), (entries[-1][0], block(entries[half:]))]
    meta_handle = block([])
    index_handle = block(index)
    footer = (meta_handle + index_handle).ljust(40, b"\0") + struct.pack("<Q", 0xDB4775248B80FB57)
    Path(f"{prefix}.index").write_bytes(bytes(table) + footer)
    Path(f"{prefix}.data-00000-of-00001").write_bytes(bytes(data))


@pytest.mark.parametrize("snappy", [False, True])
def test_reads_what_was_written(tmp_path, snappy):
    rng = np.random.default_rng(0)
    tensors = {
        "conv2d/kernel": rng.standard_normal((7, 38, 1, 4)).astype(np.float32),
        "conv2d/bias": rng.standard_normal(4).astype(np.float32),
        "global_step": np.array(1234567, dtype=np.int64),
        "half": rng.standard_normal((3, 2)).astype(np.float16),
        "zz/empty": np.zeros((0, 5), np.float32),
    }
    write_checkpoint(tmp_path / "model", tensors, snappy)
    got = read_checkpoint(tmp_path / "model")
    assert sorted(got) == sorted(tensors)
    for name, want in tensors.items():
        assert got[name].dtype == want.dtype and got[name].shape == want.shape
        np.testing.assert_array_equal(got[name], want)


def test_snappy_back_references_overlap():
    # "abc", then copy 8 bytes from 3 back (overlapping itself), then a 2-byte-offset copy
    stream = varint(16) + b"\x08abc" + bytes([(8 - 4) << 2 | 1, 3]) + bytes([4 << 2 | 2, 11, 0])
    assert snappy_decompress(stream) == b"abcabcabcab" + b"abcab"
    with pytest.raises(CheckpointError):
        snappy_decompress(varint(5) + bytes([(4 - 4) << 2 | 1, 9]))  # reference before start


def test_rejects_a_file_that_is_not_a_table(tmp_path):
    (tmp_path / "x.index").write_bytes(b"\0" * 100)
    with pytest.raises(CheckpointError, match="magic"):
        read_checkpoint(tmp_path / "x")


@pytest.mark.skipif(importlib.util.find_spec("musicnn") is None,
                    reason="musicnn weights absent: pip install --no-deps musicnn==0.1.0")
def test_reads_the_musicnn_wheel_checkpoint():
    folder = Path(next(iter(importlib.util.find_spec("musicnn").submodule_search_locations)))
    tensors = read_checkpoint(f"{folder / 'MSD_musicnn'}/")
    assert len(tensors) == 150  # the model variables, their Adam slots, two beta powers
    assert tensors["conv2d/kernel"].shape == (7, 38, 1, 204)
    assert tensors["dense/kernel"].shape == (1506, 200)
    assert np.all(tensors["batch_normalization_10/moving_variance"] > 0)
