"""A small MLP autoencoder trained on the library's own vectors; KMeans then runs on its codes.

The seed reports clustered autoencoder/VAE bottlenecks; this is the plain, deterministic
version of that: CPU, seeded, a few epochs, no weights kept between runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from ..errors import MethodError


def _torch():
    try:
        import torch
    except ImportError as exc:
        raise MethodError(
            "the autoencoder method needs torch: pip install 'beets-cluster[deep]'"
        ) from exc
    return torch


def scaled_as_one(X: np.ndarray) -> np.ndarray:
    """X centred and divided by one scale for all columns, as float32. Not one scale per
    column: X comes out of PCA, and whitening it gives the faint last components (mostly
    noise) as much say as the leading ones (KMeans on the codes fell to NMI ~0.05-0.10 on both
    dev sets, near chance; see README, Cluster quality)."""
    X = np.asarray(X, dtype=np.float64)
    return ((X - X.mean(axis=0)) / max(float(X.std()), 1e-12)).astype(np.float32)


def prepared(X: np.ndarray, seed: int, code_dim: int):
    """What every seeded encoder trains from: torch, X scaled_as_one as a tensor, its width,
    the code size (at most that width) and the seeded generator of batches and noise."""
    torch = _torch()
    data = torch.from_numpy(scaled_as_one(X))
    dim = data.shape[1]
    return torch, data, dim, max(1, min(code_dim, dim)), torch.Generator().manual_seed(seed)


@contextmanager
def seeded_init(torch, seed: int) -> Iterator[None]:
    """Layers made inside start from the seed's weights; the caller's global RNG is kept."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def batches(torch, data, *, epochs: int, batch_size: int, gen) -> Iterator:
    """Each epoch's rows in an order drawn from `gen`, `batch_size` at a time."""
    for _ in range(epochs):
        perm = torch.randperm(len(data), generator=gen)
        for start in range(0, len(data), batch_size):
            yield data[perm[start : start + batch_size]]


def encode(
    X: np.ndarray,
    seed: int = 0,
    code_dim: int = 16,
    hidden: int = 128,
    epochs: int = 40,
    batch_size: int = 128,
    lr: float = 1e-3,
) -> np.ndarray:
    """Train on X (scaled_as_one), return the bottleneck codes (n, code_dim) as float64.

    Deterministic for a given seed: torch's generator is seeded, batches are shuffled by a
    seeded permutation, and everything runs on the CPU in float32.
    """
    torch, data, dim, code_dim, gen = prepared(X, seed, code_dim)
    nn = torch.nn
    with seeded_init(torch, seed):
        encoder = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, code_dim))
        decoder = nn.Sequential(nn.Linear(code_dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))
    model = nn.Sequential(encoder, decoder)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for batch in batches(torch, data, epochs=epochs, batch_size=batch_size, gen=gen):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(batch), batch)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        return encoder(data).double().numpy()
