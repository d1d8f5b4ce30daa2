"""The noise-resistant rule scripts/quality.py applies: two tests of one option set against
another on the same clips, and what the rule makes of them.

- paired over seeds: the Wilcoxon signed-rank test (two-sided, exact for 10 seeds) on the
  per-seed NMI differences; each seed is the same KMeans start for both option sets;
- bootstrap over clips: the clips resampled with replacement (2,000 times, seeded), each run's
  clustering held as it is, the NMI difference (mean over the seeds) and the P@10 difference
  recomputed on each resample; a percentile 95 % interval.

Both at the 5 % level. A difference is significant when the test says so: p < 0.05 for the
Wilcoxon test, 0 outside the 95 % interval for the bootstrap. P@10 has no seed (the neighbour
space is deterministic), so only the bootstrap judges it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import wilcoxon

ALPHA = 0.05
RESAMPLES = 2000
BOOT_SEED = 20261205  # one fixed draw of resamples: every comparison meets the same clips


@dataclass(frozen=True)
class Scored:
    """One option set on one set of clips: its runs' labels and the neighbour hits."""

    runs: np.ndarray  # (seeds, n) cluster labels, one row per KMeans seed
    nmi: np.ndarray  # (seeds,) NMI of each run against the true labels
    hits: np.ndarray  # (n,) each clip's share of its 10 nearest neighbours with its label

    @property
    def p10(self) -> float:
        return float(self.hits.mean())


@dataclass(frozen=True)
class Comparison:
    """Option set A against B on one set of clips (A - B)."""

    d_nmi: float  # mean over seeds
    p_seeds: float  # Wilcoxon signed-rank, two-sided
    ci_nmi: tuple[float, float]  # bootstrap over clips, 95 %
    d_p10: float
    ci_p10: tuple[float, float]

    @property
    def better(self) -> bool:
        """A's NMI higher, and both tests call it significant."""
        return self.d_nmi > 0 and self.p_seeds < ALPHA and self.ci_nmi[0] > 0

    @property
    def nmi_loss(self) -> bool:
        """A's NMI lower, and either test calls it significant (the careful side: a cheaper
        option must not lose what one of the two tests can see)."""
        return self.d_nmi < 0 and (self.p_seeds < ALPHA or self.ci_nmi[1] < 0)

    @property
    def p10_loss(self) -> bool:
        return self.ci_p10[1] < 0

    @property
    def within_noise(self) -> bool:
        """No significant loss of either measure."""
        return not (self.nmi_loss or self.p10_loss)

    def text(self) -> str:
        return (f"NMI {self.d_nmi:+.3f} [{self.ci_nmi[0]:+.3f}, {self.ci_nmi[1]:+.3f}] "
                f"p={self.p_seeds:.3f}; P@10 {self.d_p10:+.3f} "
                f"[{self.ci_p10[0]:+.3f}, {self.ci_p10[1]:+.3f}]")


def codes(labels: np.ndarray) -> np.ndarray:
    return np.unique(np.asarray(labels), return_inverse=True)[1]


def resample_weights(n: int, resamples: int = RESAMPLES, seed: int = BOOT_SEED) -> np.ndarray:
    """(resamples, n) how often each clip is drawn in each resample."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(np.float64)


def weighted_nmi(true: np.ndarray, pred: np.ndarray, W: np.ndarray) -> np.ndarray:
    """NMI (arithmetic mean of the entropies, scikit-learn's default) of each row of clip
    weights W (resamples, n): one contingency table per row, all in one product."""
    t, p = codes(true), codes(pred)
    kt, kp = t.max() + 1, p.max() + 1
    onehot = np.zeros((len(t), kt * kp))
    onehot[np.arange(len(t)), t * kp + p] = 1.0
    C = (W @ onehot).reshape(len(W), kt, kp)
    N = C.sum(axis=(1, 2))[:, None, None]
    Pij = C / N
    Pi, Pj = Pij.sum(2, keepdims=True), Pij.sum(1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        mi = np.where(Pij > 0, Pij * np.log(Pij / (Pi * Pj)), 0.0).sum(axis=(1, 2))
        ht = -np.where(Pi > 0, Pi * np.log(Pi), 0.0).sum(axis=(1, 2))
        hp = -np.where(Pj > 0, Pj * np.log(Pj), 0.0).sum(axis=(1, 2))
    denom = (ht + hp) / 2
    # one cluster or one label in a resample: no information either way
    return np.where(denom > 1e-12, np.clip(mi / np.maximum(denom, 1e-300), 0.0, 1.0),
                    np.where((ht < 1e-12) & (hp < 1e-12), 1.0, 0.0))


def compare(a: Scored, b: Scored, y: np.ndarray, W: np.ndarray) -> Comparison:
    """A against B on the same clips `y`, W from resample_weights(len(y))."""
    diff = a.nmi - b.nmi
    if np.allclose(diff, 0.0, atol=1e-12):
        p = 1.0  # the same clusterings: nothing to test
    else:
        p = float(wilcoxon(a.nmi, b.nmi, alternative="two-sided").pvalue)
    boot = np.mean([weighted_nmi(y, ra, W) - weighted_nmi(y, rb, W)
                    for ra, rb in zip(a.runs, b.runs)], axis=0)
    boot_p10 = W @ (a.hits - b.hits) / W.sum(axis=1)
    q = [100 * ALPHA / 2, 100 * (1 - ALPHA / 2)]
    lo, hi = np.percentile(boot, q)
    plo, phi = np.percentile(boot_p10, q)
    return Comparison(float(diff.mean()), p, (float(lo), float(hi)),
                      float(a.p10 - b.p10), (float(plo), float(phi)))


def neighbour_hits(U: np.ndarray, labels: np.ndarray, k: int = 10) -> np.ndarray:
    """Per clip: the share of its k nearest (cosine on unit rows U, itself left out) that
    share its label. The mean is scripts/neighbours.py's P@10."""
    sims = U @ U.T
    np.fill_diagonal(sims, -np.inf)
    top = np.argpartition(-sims, k, axis=1)[:, :k]
    return (labels[top] == labels[:, None]).mean(axis=1)
