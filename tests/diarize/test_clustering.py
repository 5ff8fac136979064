from __future__ import annotations

import numpy as np

from diarize.clustering import cluster_embeddings


def _voices(counts: list[int], seed: int = 0) -> np.ndarray:
    """Noisy unit vectors around orthogonal centres: one group per voice, in order."""
    rng = np.random.default_rng(seed)
    rows = []
    for voice, count in enumerate(counts):
        centre = np.zeros(16, dtype=np.float32)
        centre[voice] = 1.0
        rows.append(centre + rng.normal(0, 0.05, (count, 16)).astype(np.float32))
    return np.concatenate(rows)


def test_threshold_finds_the_count_and_labels_by_first_appearance() -> None:
    labels = cluster_embeddings(_voices([6, 5, 7]), distance_threshold=0.3)
    assert labels.tolist() == [0] * 6 + [1] * 5 + [2] * 7


def test_bounds_override_the_threshold() -> None:
    emb = _voices([6, 5, 7])
    assert len(set(cluster_embeddings(emb, 0.3, max_speakers=2).tolist())) == 2
    assert len(set(cluster_embeddings(_voices([10]), 0.3, min_speakers=2).tolist())) == 2


def test_a_cluster_with_too_little_speech_joins_its_nearest() -> None:
    emb = _voices([30, 1])
    assert set(cluster_embeddings(emb, 0.3).tolist()) == {0}
    assert set(cluster_embeddings(emb, 0.3, min_share=0.0).tolist()) == {0, 1}


def test_degenerate_inputs() -> None:
    assert cluster_embeddings(np.zeros((0, 16), dtype=np.float32), 0.3).tolist() == []
    assert cluster_embeddings(_voices([1]), 0.3).tolist() == [0]
