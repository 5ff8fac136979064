from __future__ import annotations

import numpy as np
import pytest

from stream_asr.audio import SampleBuffer, float_to_pcm16, pcm16_to_float


def test_pcm_round_trip_and_odd_bytes() -> None:
    samples = np.array([0.0, 0.5, -0.5, -1.0, 0.99997], dtype=np.float32)
    back = pcm16_to_float(float_to_pcm16(samples))
    assert np.allclose(back, samples, atol=1 / 32768)
    with pytest.raises(ValueError, match="even number"):
        pcm16_to_float(b"\x00\x01\x02")


def test_sample_buffer_absolute_positions() -> None:
    buffer = SampleBuffer(start=1000)
    for _ in range(100):
        buffer.append(np.arange(1000, dtype=np.float32))
    assert buffer.end == 101_000
    assert buffer.view(1500, 1503).tolist() == [500.0, 501.0, 502.0]
    buffer.drop_before(50_000)
    assert buffer.start == 50_000 and buffer.view(50_000, 50_001)[0] == 0.0
    with pytest.raises(IndexError):
        buffer.view(10, 20)
