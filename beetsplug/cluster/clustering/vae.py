"""A small variational autoencoder (Kingma & Welling 2014) trained on the library's own vectors;
KMeans then runs on the means of its codes, as the seed reports' VAE-before-KMeans did.

Beside the plain autoencoder (autoencoder.py): the KL term pulls the codes towards one
Gaussian, so the code space has no empty stretches between the tracks KMeans has to split.
CPU, float32, seeded: the weights, the batch order and the sampling noise all come from the
seed, so the same vectors give the same codes.
"""

from __future__ import annotations

import numpy as np

from .autoencoder import batches, prepared, seeded_init


def encode(X: np.ndarray, seed: int = 0, code_dim: int = 8, hidden: int = 64,
           epochs: int = 60, batch_size: int = 64, lr: float = 1e-3,
           beta: float = 1.0) -> np.ndarray:
    """Train on X (scaled_as_one); return each row's code mean (n, code_dim) as float64."""
    torch, data, dim, code_dim, gen = prepared(X, seed, code_dim)
    nn = torch.nn
    with seeded_init(torch, seed):
        body = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU())
        to_mean, to_logvar = nn.Linear(hidden, code_dim), nn.Linear(hidden, code_dim)
        decoder = nn.Sequential(nn.Linear(code_dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))
    parts = nn.ModuleList([body, to_mean, to_logvar, decoder])
    opt = torch.optim.Adam(parts.parameters(), lr=lr)
    for batch in batches(torch, data, epochs=epochs, batch_size=batch_size, gen=gen):
        h = body(batch)
        mean, logvar = to_mean(h), to_logvar(h).clamp(-8.0, 8.0)
        noise = torch.randn(mean.shape, generator=gen)
        code = mean + noise * torch.exp(0.5 * logvar)
        # per track: squared error summed over the columns, KL summed over the code
        recon = ((decoder(code) - batch) ** 2).sum(dim=1).mean()
        kl = (-0.5 * (1 + logvar - mean**2 - logvar.exp()).sum(dim=1)).mean()
        opt.zero_grad()
        (recon + beta * kl).backward()
        opt.step()
    with torch.no_grad():
        return to_mean(body(data)).double().numpy()
