"""Agglomerative clustering of speaker embeddings with an automatic count and optional bounds."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Labels = npt.NDArray[np.int64]


def cluster_embeddings(
    embeddings: npt.NDArray[np.float32],
    distance_threshold: float,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
    weights: npt.NDArray[np.float32] | None = None,
    min_share: float = 0.05,
) -> Labels:
    """Average-linkage cosine clustering; the threshold picks the count, the bounds clip it.

    Clusters holding under ``min_share`` of the (weighted) windows join their nearest cluster.
    Labels are renumbered by first appearance (the first window's speaker is 0).
    """
    n = embeddings.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    lo = max(1, min_speakers or 1)
    hi = max(lo, min(max_speakers or n, n))
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage

    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-9)
    tree = linkage(unit, method="average", metric="cosine")
    raw = fcluster(tree, t=distance_threshold, criterion="distance")
    count = len(set(raw.tolist()))
    if count < lo or count > hi:
        raw = fcluster(tree, t=min(max(count, lo), hi), criterion="maxclust")
    w = weights if weights is not None else np.ones(n, dtype=np.float32)
    labels = _absorb_small(unit, raw.astype(np.int64), w, keep_at_least=lo, min_share=min_share)
    return _renumber(labels)


def _absorb_small(
    unit: npt.NDArray[np.float32],
    labels: Labels,
    weights: npt.NDArray[np.float32],
    keep_at_least: int,
    min_share: float,
) -> Labels:
    total = float(weights.sum())
    while True:
        ids = sorted(set(labels.tolist()))
        if len(ids) <= keep_at_least:
            return labels
        shares = {c: float(weights[labels == c].sum()) / total for c in ids}
        smallest = min(ids, key=lambda c: shares[c])
        if shares[smallest] >= min_share:
            return labels
        centroids = {c: unit[labels == c].mean(axis=0) for c in ids if c != smallest}
        for i in np.flatnonzero(labels == smallest):
            labels[i] = max(centroids, key=lambda c: float(unit[i] @ centroids[c]))


def _renumber(labels: Labels) -> Labels:
    order: dict[int, int] = {}
    out = np.empty_like(labels)
    for i, label in enumerate(labels.tolist()):
        out[i] = order.setdefault(label, len(order))
    return out
