"""Where files become vectors: decoding and windows (audio), worker processes (workers)."""
