"""A small MLP autoencoder trained on the library's own vectors; KMeans then runs on its codes.

The seed reports clustered autoencoder/VAE bottlenecks; this is the plain, deterministic
version of that: CPU, seeded, a few epochs, no weights kept between runs.
"""

from __future__ import annotations

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
    torch = _torch()
    nn = torch.nn
    Xs = scaled_as_one(X)
    n, dim = Xs.shape
    code_dim = max(1, min(code_dim, dim))
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):  # leave the caller's global torch RNG untouched
        torch.manual_seed(seed)
        encoder = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, code_dim))
        decoder = nn.Sequential(nn.Linear(code_dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))
    model = nn.Sequential(encoder, decoder)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    data = torch.from_numpy(Xs)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            batch = data[perm[start : start + batch_size]]
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(batch), batch)
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        return encoder(data).double().numpy()
