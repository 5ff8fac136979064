"""Make ``import torchaudio`` work without its compiled extension (pyannote.audio imports it).

PyPI has no torchaudio built for torch 2.13, and the newest one (2.11) fails to load its C++
extension against it. pyannote.audio only needs torchaudio's pure-PyTorch parts (resampling,
Kaldi fbank), so when the extension cannot load we register an extension-less stand-in for
``torchaudio._extension`` before torchaudio imports it.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable


def ensure_torchaudio() -> None:
    """Import torchaudio, without its C++ extension when that cannot load. Idempotent."""
    if "torchaudio" in sys.modules:
        return
    try:
        import torchaudio

        return
    except (OSError, ImportError):
        for name in [n for n in sys.modules if n == "torchaudio" or n.startswith("torchaudio.")]:
            del sys.modules[name]

    def fail_if_no_align(func: Callable[..., object]) -> Callable[..., object]:
        def unavailable(*_args: object, **_kwargs: object) -> object:
            raise RuntimeError(f"torchaudio.{func.__name__} needs torchaudio's C++ extension")

        return unavailable

    stub = types.ModuleType("torchaudio._extension")
    stub.__dict__.update(
        _IS_TORCHAUDIO_EXT_AVAILABLE=False,
        _IS_ALIGN_AVAILABLE=False,
        fail_if_no_align=fail_if_no_align,
        _check_cuda_version=lambda: None,
        _load_lib=lambda _lib: False,
    )
    sys.modules["torchaudio._extension"] = stub
    import torchaudio  # noqa: F401
