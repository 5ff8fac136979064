"""Online speaker tracking for live sessions.

Each final's speech is cut into windows and embedded once. On every new final the recent windows are
clustered again with the offline clustering (same settings), and the clusters are matched to the
speaker labels already published (largest shared speech first), so labels stay stable. A cluster that
matches no label takes a known speaker that no cluster claims now, if any (a clustering that merged
two voices and splits them again must not mint a third label); otherwise it founds a new speaker only
once it is confirmed (enough speech): until then its
segments take the nearest confirmed speaker, and they are relabelled when it is confirmed
(``pop_relabels``). This keeps one voice from being split by a single odd segment, and lets early
mistakes be corrected while the segments are recent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from diarize.clustering import ClusteringConfig, cluster_embeddings
from diarize.types import SAMPLE_RATE, Embedding, SpeakerEmbedder, Waveform


@dataclass(frozen=True, slots=True)
class OnlineConfig:
    # as offline, but a cluster needs 10 % of the recent speech (5 % offline): chosen on the synthetic
    # set, where it beat 5, 15 and 20 % live (bench/README.md)
    clustering: ClusteringConfig = field(default_factory=lambda: ClusteringConfig(min_share=0.1))
    confirm_s: float = 3.0  # speech a new voice needs before it becomes a speaker
    window_s: float = 1.5
    hop_s: float = 0.75
    max_windows: int = 1200  # recluster at most this many recent windows (≈15 min of speech)
    relabel_segments: int = 32  # only this many most recent segments may change label (8: worse on synthetic)
    max_speakers: int = 20


@dataclass(eq=False)
class _Segment:
    key: int | None
    windows: npt.NDArray[np.float32]  # (n, dim) unit embeddings
    speech_s: float
    label: int = -1


class CentroidTracker:
    """One per live session; not thread-safe (the worker calls it from one task at a time)."""

    def __init__(self, embedder: SpeakerEmbedder, config: OnlineConfig | None = None) -> None:
        self._embedder = embedder
        self.config = config or OnlineConfig()
        self._segments: list[_Segment] = []
        self._centroids: dict[int, Embedding] = {}  # confirmed speakers, as last seen
        self._labels: dict[int, int] = {}
        self._relabels: dict[int, int] = {}

    @property
    def speaker_count(self) -> int:
        return len(self._centroids)

    def assign(self, segment_audio: Waveform, start_s: float, end_s: float, key: int | None = None) -> int:
        speech_s = max(end_s - start_s, 1e-3)
        segment = _Segment(key, self._embed_windows(segment_audio), speech_s)
        self._segments.append(segment)
        self._recluster()
        if key is not None:
            self._labels[key] = segment.label
            self._relabels.pop(key, None)  # the caller gets this segment's label now
        return segment.label

    def pop_relabels(self) -> dict[int, int]:
        out, self._relabels = self._relabels, {}
        return out

    def label_of(self, key: int) -> int | None:
        return self._labels.get(key)

    def _embed_windows(self, audio: Waveform) -> npt.NDArray[np.float32]:
        cfg = self.config
        size = int(cfg.window_s * SAMPLE_RATE)
        step = int(cfg.hop_s * SAMPLE_RATE)
        if len(audio) <= size + step // 2:
            windows = [audio]
        else:
            count = int(np.ceil((len(audio) - size) / step)) + 1
            starts = np.linspace(0, len(audio) - size, count).astype(int)
            windows = [audio[s : s + size] for s in starts]
        emb = self._embedder.embed_batch(windows)
        unit: npt.NDArray[np.float32] = (
            emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-9)
        ).astype(np.float32)
        return unit

    def _recent(self) -> list[_Segment]:
        recent: list[_Segment] = []
        count = 0
        for segment in reversed(self._segments):
            count += len(segment.windows)
            if recent and count > self.config.max_windows:
                break
            recent.append(segment)
        return recent[::-1]

    def _recluster(self) -> None:
        cfg = self.config
        recent = self._recent()
        stacked = np.concatenate([s.windows for s in recent])
        owner = np.concatenate([np.full(len(s.windows), i) for i, s in enumerate(recent)])
        weights = np.concatenate([np.full(len(s.windows), s.speech_s / len(s.windows)) for s in recent])
        window_labels = cluster_embeddings(stacked, cfg.clustering, weights=weights.astype(np.float32))
        # each segment's cluster: the one holding most of its speech
        clusters = []
        for i in range(len(recent)):
            mine = window_labels[owner == i]
            clusters.append(int(np.bincount(mine).argmax()))
        mapping = self._match(recent, clusters, stacked, window_labels)
        horizon = len(recent) - cfg.relabel_segments
        for i, (segment, cluster) in enumerate(zip(recent, clusters, strict=True)):
            label = mapping[cluster]
            if segment.label == label:
                continue
            if segment.label >= 0 and i < horizon:
                continue  # old segments keep their label
            if segment.label >= 0 and segment.key is not None:
                self._relabels[segment.key] = label
                self._labels[segment.key] = label
            segment.label = label

    def _match(
        self,
        recent: list[_Segment],
        clusters: list[int],
        stacked: npt.NDArray[np.float32],
        window_labels: npt.NDArray[np.int64],
    ) -> dict[int, int]:
        """Cluster -> speaker label: published labels first (most shared speech wins), then the
        nearest unclaimed known speaker, then new speakers for confirmed clusters, then the nearest
        speaker for unconfirmed ones."""
        ids = sorted(set(clusters))
        centroid = {c: _unit(stacked[window_labels == c].mean(axis=0)) for c in ids}
        speech = {c: sum(s.speech_s for s, k in zip(recent, clusters, strict=True) if k == c) for c in ids}
        votes: dict[tuple[int, int], float] = {}
        for segment, cluster in zip(recent, clusters, strict=True):
            if segment.label >= 0:
                votes[(cluster, segment.label)] = votes.get((cluster, segment.label), 0.0) + segment.speech_s
        mapping: dict[int, int] = {}
        used: set[int] = set()
        for (cluster, label), _ in sorted(votes.items(), key=lambda kv: -kv[1]):
            if cluster not in mapping and label not in used:
                mapping[cluster] = label
                used.add(label)
        for cluster in sorted(ids, key=lambda c: -speech[c]):
            if cluster in mapping:
                continue
            idle = [label for label in self._centroids if label not in used]
            if idle:  # a known speaker no cluster claims now (the clustering merged it): reuse it
                label = max(idle, key=lambda lab: float(centroid[cluster] @ self._centroids[lab]))
                mapping[cluster] = label
                used.add(label)
                continue
            confirmed = speech[cluster] >= self.config.confirm_s or not self._centroids
            if confirmed and len(self._centroids) < self.config.max_speakers:
                label = len(self._centroids)
                self._centroids[label] = centroid[cluster]
                mapping[cluster] = label
                used.add(label)
        for cluster in ids:
            if cluster in mapping:
                self._centroids[mapping[cluster]] = centroid[cluster]
        for cluster in ids:
            if cluster not in mapping:  # provisional: the nearest confirmed speaker
                mapping[cluster] = max(
                    self._centroids, key=lambda lab: float(centroid[cluster] @ self._centroids[lab])
                )
        return mapping


def _unit(v: npt.NDArray[np.float32]) -> Embedding:
    return (v / max(float(np.linalg.norm(v)), 1e-9)).astype(np.float32)
