"""Read a TensorFlow 1 checkpoint (TensorBundle V2) without TensorFlow.

A checkpoint `<prefix>` is two files:
- `<prefix>.index`: a LevelDB-style SSTable whose keys are tensor names and whose values are
  serialized `BundleEntryProto` messages (dtype, shape, shard, offset, size, crc32c); the
  empty key holds a `BundleHeaderProto`.
- `<prefix>.data-00000-of-00001`: the raw tensors, little-endian, at those offsets.

The protobuf messages are parsed by hand (a few varint fields) so that no protobuf or
TensorFlow package is needed at run time. Blocks may be snappy-compressed; TF writes them
uncompressed, but the table format allows both, so both are read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER_LEN = 48
_NO_COMPRESSION, _SNAPPY = 0, 1

# tensorflow/core/framework/types.proto: the dtypes a checkpoint of this kind holds.
_DTYPES = {
    1: np.float32,
    2: np.float64,
    3: np.int32,
    4: np.uint8,
    5: np.int16,
    6: np.int8,
    9: np.int64,
    10: np.bool_,
    17: np.uint16,
    19: np.float16,
    22: np.uint32,
    23: np.uint64,
}


class CheckpointError(ValueError):
    """The files are not a TensorBundle this reader understands."""


@dataclass(frozen=True)
class _Entry:
    dtype: int
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise CheckpointError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(msg: bytes) -> list[tuple[int, int | bytes]]:
    """Top-level (field number, value) pairs of a protobuf message."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(msg):
        key, pos = _varint(msg, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(msg, pos)
        elif wire == 1:
            value, pos = struct.unpack_from("<Q", msg, pos)[0], pos + 8
        elif wire == 2:
            length, pos = _varint(msg, pos)
            value, pos = msg[pos : pos + length], pos + length
        elif wire == 5:
            value, pos = struct.unpack_from("<I", msg, pos)[0], pos + 4
        else:
            raise CheckpointError(f"unsupported protobuf wire type {wire}")
        out.append((number, value))
    return out


def _shape(msg: bytes) -> tuple[int, ...]:
    # TensorShapeProto: repeated Dim dim = 2 { int64 size = 1 }
    dims = []
    for number, dim in _fields(msg):
        if number == 2:
            sizes = [v for n, v in _fields(dim) if n == 1]
            dims.append(int(sizes[0]) if sizes else 0)
    return tuple(dims)


_ENTRY_FIELDS = {1: "dtype", 3: "shard", 4: "offset", 5: "size"}  # BundleEntryProto numbers


def _entry(msg: bytes) -> _Entry:
    fields: dict = {"dtype": 0, "shape": (), "shard": 0, "offset": 0, "size": 0}
    for number, value in _fields(msg):
        if number == 2:
            fields["shape"] = _shape(value)
        elif number == 7:
            raise CheckpointError("partitioned (sliced) tensors are not supported")
        elif number in _ENTRY_FIELDS:
            fields[_ENTRY_FIELDS[number]] = value
    return _Entry(**fields)


def snappy_decompress(data: bytes) -> bytes:
    """Raw snappy format: a varint length, then literals and back-references."""
    length, pos = _varint(data, 0)
    out = bytearray()
    while pos < len(data):
        tag = data[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:  # literal; lengths over 60 are stored in 1-4 extra bytes
            n = tag >> 2
            if n >= 60:
                extra = n - 59
                n = int.from_bytes(data[pos : pos + extra], "little")
                pos += extra
            n += 1
            out += data[pos : pos + n]
            pos += n
            continue
        if kind == 1:
            n = ((tag >> 2) & 7) + 4
            offset = ((tag >> 5) << 8) | data[pos]
            pos += 1
        elif kind == 2:
            n = (tag >> 2) + 1
            offset = int.from_bytes(data[pos : pos + 2], "little")
            pos += 2
        else:
            n = (tag >> 2) + 1
            offset = int.from_bytes(data[pos : pos + 4], "little")
            pos += 4
        if offset == 0 or offset > len(out):
            raise CheckpointError("corrupt snappy block")
        for _ in range(n):  # byte by byte: a copy may overlap its own output
            out.append(out[-offset])
    if len(out) != length:
        raise CheckpointError("snappy block has the wrong length")
    return bytes(out)


def _block(table: bytes, handle: bytes) -> bytes:
    offset, pos = _varint(handle, 0)
    size, _ = _varint(handle, pos)
    contents = table[offset : offset + size]
    compression = table[offset + size]
    if compression == _SNAPPY:
        return snappy_decompress(contents)
    if compression != _NO_COMPRESSION:
        raise CheckpointError(f"unknown block compression {compression}")
    return contents


def _block_items(block: bytes) -> list[tuple[bytes, bytes]]:
    """Key/value pairs of one block; keys are prefix-compressed against the previous key."""
    (num_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    end = len(block) - 4 - 4 * num_restarts
    items = []
    key = b""
    pos = 0
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        value_len, pos = _varint(block, pos)
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        items.append((key, block[pos : pos + value_len]))
        pos += value_len
    return items


def read_index(index_path: Path) -> dict[str, _Entry]:
    table = index_path.read_bytes()
    if len(table) < _FOOTER_LEN:
        raise CheckpointError(f"{index_path}: too short for an SSTable")
    footer = table[-_FOOTER_LEN:]
    if struct.unpack("<Q", footer[-8:])[0] != _TABLE_MAGIC:
        raise CheckpointError(f"{index_path}: not an SSTable (bad magic)")
    _, pos = _varint(footer, _varint(footer, 0)[1])  # skip the metaindex handle
    index_handle = footer[pos:]
    entries = {}
    for _, handle in _block_items(_block(table, index_handle)):
        for key, value in _block_items(_block(table, handle)):
            if key:  # the empty key is the BundleHeaderProto
                entries[key.decode()] = _entry(value)
    return entries


def read_checkpoint(prefix: Path | str) -> dict[str, np.ndarray]:
    """Every tensor of the checkpoint at `prefix` (the path without `.index`), by name."""
    prefix = str(prefix)
    entries = read_index(Path(prefix + ".index"))
    shards: dict[int, bytes] = {}
    n_shards = 1 + max((e.shard for e in entries.values()), default=0)
    tensors = {}
    for name, entry in entries.items():
        if entry.shard not in shards:
            shard_path = Path(f"{prefix}.data-{entry.shard:05d}-of-{n_shards:05d}")
            shards[entry.shard] = shard_path.read_bytes()
        if entry.dtype not in _DTYPES:
            raise CheckpointError(f"{name}: unsupported dtype {entry.dtype}")
        dtype = np.dtype(_DTYPES[entry.dtype]).newbyteorder("<")
        raw = shards[entry.shard][entry.offset : entry.offset + entry.size]
        count = int(np.prod(entry.shape)) if entry.shape else 1
        if len(raw) != count * dtype.itemsize:
            raise CheckpointError(f"{name}: {len(raw)} bytes for shape {entry.shape}")
        array = np.frombuffer(raw, dtype=dtype).reshape(entry.shape)
        tensors[name] = array.astype(dtype.newbyteorder("="))  # a native, writable copy
    return tensors
