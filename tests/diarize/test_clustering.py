from __future__ import annotations

import numpy as np

from diarize.clustering import ClusteringConfig, cluster_embeddings

EIGENGAP = ClusteringConfig(distance_threshold=None)
THRESHOLD = ClusteringConfig(distance_threshold=0.3)


def _voices(counts: list[int], seed: int = 0, spread: float = 0.05) -> np.ndarray:
    """Noisy unit vectors around orthogonal centres: one group per voice, in order."""
    rng = np.random.default_rng(seed)
    rows = []
    for voice, count in enumerate(counts):
        centre = np.zeros(16, dtype=np.float32)
        centre[voice] = 1.0
        rows.append(centre + rng.normal(0, spread, (count, 16)).astype(np.float32))
    return np.concatenate(rows)


def test_eigengap_finds_the_count_and_labels_by_first_appearance() -> None:
    labels = cluster_embeddings(_voices([12, 10, 14]), EIGENGAP)
    assert labels.tolist() == [0] * 12 + [1] * 10 + [2] * 14


def test_the_count_does_not_depend_on_the_scale_of_the_distances() -> None:
    # a fixed threshold that separates tight voices merges loose ones; the eigengap does not care
    for spread in (0.05, 0.2, 0.35):
        emb = _voices([15, 15], seed=1, spread=spread)
        assert len(set(cluster_embeddings(emb, EIGENGAP).tolist())) == 2, spread
    loose = _voices([15, 15], seed=1, spread=0.35)
    assert len(set(cluster_embeddings(loose, THRESHOLD).tolist())) != 2


def test_one_voice_is_one_speaker() -> None:
    assert set(cluster_embeddings(_voices([40], spread=0.2), EIGENGAP).tolist()) == {0}


def test_a_speaker_needs_enough_windows() -> None:
    # on a handful of windows the eigengap is noise (uncapped, 8 windows come out as 6 "speakers"):
    # windows_per_speaker caps the count, so 8 windows hold one speaker and 10 may hold two
    assert set(cluster_embeddings(_voices([4, 4]), EIGENGAP).tolist()) == {0}
    assert set(cluster_embeddings(_voices([5, 5]), EIGENGAP).tolist()) == {0, 1}


def test_the_threshold_finds_the_count() -> None:
    assert cluster_embeddings(_voices([6, 5, 7]), THRESHOLD).tolist() == [0] * 6 + [1] * 5 + [2] * 7


def test_bounds_override_the_estimate() -> None:
    emb = _voices([12, 10, 14])
    for config in (EIGENGAP, THRESHOLD):
        assert len(set(cluster_embeddings(emb, config, max_speakers=2).tolist())) == 2
        assert len(set(cluster_embeddings(_voices([20]), config, min_speakers=2).tolist())) == 2


def test_a_cluster_with_too_little_speech_joins_its_nearest() -> None:
    emb = _voices([30, 1])
    assert set(cluster_embeddings(emb, THRESHOLD).tolist()) == {0}
    kept = ClusteringConfig(distance_threshold=0.3, min_share=0.0)
    assert set(cluster_embeddings(emb, kept).tolist()) == {0, 1}


def test_large_sets_cluster_a_subset_and_assign_the_rest() -> None:
    emb = _voices([400, 300, 200])
    labels = cluster_embeddings(emb, ClusteringConfig(distance_threshold=None, max_windows=120))
    assert labels.tolist() == [0] * 400 + [1] * 300 + [2] * 200


def test_degenerate_inputs() -> None:
    for config in (EIGENGAP, THRESHOLD):
        assert cluster_embeddings(np.zeros((0, 16), dtype=np.float32), config).tolist() == []
        assert cluster_embeddings(_voices([1]), config).tolist() == [0]
        assert cluster_embeddings(_voices([1, 1]), config, min_speakers=2).tolist() == [0, 1]
