"""A local pyannote.audio pipeline folder with RANDOMLY INITIALIZED weights.

No pretrained pyannote weights can be downloaded here, so the test builds a folder in the layout of
pyannote's speaker-diarization-community-1 (config.yaml, segmentation/, embedding/, plda/) from fresh
models. It proves that our loading and calling of the pipeline works, not diarization quality.
Small models (a one-layer PyanNet, a 64-d MFCC x-vector) keep it fast on CPU.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

CONFIG = """\
dependencies:
  pyannote.audio: 4.0.0
pipeline:
  name: pyannote.audio.pipelines.SpeakerDiarization
  params:
    clustering: VBxClustering
    embedding: $model/embedding
    embedding_batch_size: 32
    embedding_exclude_overlap: true
    segmentation: $model/segmentation
    segmentation_batch_size: 8
    segmentation_step: 0.5
    plda: $model/plda
params:
  clustering:
    threshold: 0.6
    Fa: 0.07
    Fb: 0.8
  segmentation:
    min_duration_off: 0.0
"""


def _save(model: Any, folder: Path) -> None:
    import lightning
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    checkpoint = {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        "pytorch-lightning_version": lightning.__version__,
    }
    model.on_save_checkpoint(checkpoint)  # adds pyannote's architecture and specifications
    torch.save(checkpoint, folder / "pytorch_model.bin")


def build_random_pipeline(root: Path, embedding_dim: int = 64, lda_dim: int = 32) -> Path:
    import torch

    from diarize.torchaudio_compat import ensure_torchaudio

    ensure_torchaudio()
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import XVectorMFCC
    from pyannote.audio.models.segmentation import PyanNet

    torch.manual_seed(0)
    segmentation = PyanNet(
        sincnet={"stride": 10},
        lstm={"hidden_size": 32, "num_layers": 1, "bidirectional": True, "monolithic": True, "dropout": 0.0},
        linear={"hidden_size": 32, "num_layers": 1},
    )
    segmentation.specifications = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION,
        resolution=Resolution.FRAME,
        duration=10.0,
        min_duration=10.0,
        warm_up=(0.0, 0.0),
        classes=["speaker#1", "speaker#2", "speaker#3"],
        powerset_max_classes=2,
        permutation_invariant=True,
    )
    segmentation.build()  # type: ignore[no-untyped-call]
    _save(segmentation, root / "segmentation")

    embedding = XVectorMFCC(dimension=embedding_dim)
    embedding.specifications = Specifications(
        problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=5.0
    )
    _save(embedding, root / "embedding")

    rng = np.random.default_rng(0)
    (root / "plda").mkdir(parents=True, exist_ok=True)
    lda = np.linalg.qr(rng.normal(size=(embedding_dim, embedding_dim)))[0][:, :lda_dim]
    np.savez(
        root / "plda" / "xvec_transform.npz", mean1=np.zeros(embedding_dim), mean2=np.zeros(lda_dim), lda=lda
    )
    np.savez(
        root / "plda" / "plda.npz",
        mu=np.zeros(lda_dim),
        tr=np.eye(lda_dim),
        psi=np.linspace(2.0, 0.1, lda_dim),
    )
    (root / "config.yaml").write_text(CONFIG)
    return root
