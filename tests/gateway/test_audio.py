from __future__ import annotations

import io

import av
import numpy as np
import pytest

from gateway.audio import (
    FRAME_BYTES,
    ContainerDecoder,
    DecodeError,
    Encoding,
    Framer,
    RawDecoder,
    decode_file,
    make_decoder,
)


def tone(rate: int, seconds: float, hz: float = 440.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = (0.3 * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)
    return np.repeat(mono[:, None], channels, axis=1).reshape(-1)


def dominant_hz(pcm: bytes, rate: int = 16000) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.argmax(spectrum) * rate / len(samples))


@pytest.mark.parametrize(("rate", "channels"), [(16000, 1), (48000, 1), (44100, 2), (8000, 1), (22050, 2)])
def test_linear16_any_rate_and_channels_becomes_16k_mono(rate: int, channels: int) -> None:
    decoder = RawDecoder(Encoding.LINEAR16, rate, channels)
    data = tone(rate, 1.0, channels=channels).astype("<i2").tobytes()
    out = b""
    for i in range(0, len(data), 1001):  # odd chunk sizes split samples across frames
        out += decoder.feed(data[i : i + 1001])
    out += decoder.flush()
    assert abs(len(out) // 2 - 16000) <= 40
    assert abs(dominant_hz(out) - 440) < 5


@pytest.mark.parametrize(("encoding", "rate"), [(Encoding.LINEAR16, 48000), (Encoding.MULAW, 8000)])
def test_audio_after_a_mid_stream_flush_still_decodes(encoding: Encoding, rate: int) -> None:
    # A Finalize flushes the resampler and the stream goes on; FFmpeg's resampler refuses input after
    # its end-of-stream flush, which used to end the client's connection on the next frame.
    decoder = RawDecoder(encoding, rate, 1)
    second = tone(rate, 0.5).astype("<i2").tobytes() if encoding is Encoding.LINEAR16 else bytes(rate // 2)
    out = decoder.feed(second) + decoder.flush()
    out += decoder.feed(second) + decoder.flush()
    assert abs(len(out) // 2 - 16000) <= 80


def test_mulaw_decodes_to_the_same_tone() -> None:
    pcm = tone(8000, 1.0)
    # encode mu-law with the standard formula, then check our table decodes it back
    x = pcm.astype(np.float64) / 32768
    mu = np.sign(x) * np.log1p(255 * np.abs(x)) / np.log1p(255)
    codes = (~((mu + 1) / 2 * 255).astype(np.uint8)).astype(np.uint8)
    decoder = RawDecoder(Encoding.MULAW, 8000, 1)
    out = decoder.feed(codes.tobytes()) + decoder.flush()
    assert abs(len(out) // 2 - 16000) <= 40
    assert abs(dominant_hz(out) - 440) < 10


def _ogg_opus(seconds: float, container_format: str = "ogg", hz: float = 440.0) -> bytes:
    """A tone encoded with Opus and muxed by PyAV (``ogg`` or ``webm``, as MediaRecorder writes)."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container_format) as container:
        stream = container.add_stream("libopus", rate=48000)
        samples = tone(48000, seconds, hz=hz)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def test_ogg_opus_streamed_in_chunks_decodes() -> None:
    data = _ogg_opus(1.0)
    decoder = ContainerDecoder(Encoding.OPUS)
    out = b""
    for i in range(0, len(data), 500):
        out += decoder.feed(data[i : i + 500])
    out += decoder.flush()
    assert 15000 <= len(out) // 2 <= 17000
    assert abs(dominant_hz(out) - 440) < 10


@pytest.mark.parametrize(
    ("container_format", "encoding"),
    [
        ("webm", Encoding.WEBM),
        ("ogg", Encoding.OGG),
        ("webm", Encoding.CONTAINER),
        ("ogg", Encoding.CONTAINER),
    ],
)
def test_opus_in_webm_and_ogg_decodes_to_the_same_tone_and_length(
    container_format: str, encoding: Encoding
) -> None:
    data = _ogg_opus(2.0, container_format, hz=880.0)
    decoder = ContainerDecoder(encoding)
    out = b""
    for i in range(0, len(data), 700):  # as a browser's MediaRecorder delivers it: small pieces
        out += decoder.feed(data[i : i + 700])
    out += decoder.flush()
    assert abs(len(out) / 2 / 16000 - 2.0) < 0.05
    assert abs(dominant_hz(out) - 880) < 5


def test_webm_announced_as_ogg_is_a_decode_error() -> None:
    decoder = ContainerDecoder(Encoding.OGG)
    with pytest.raises(DecodeError, match="ogg"):
        decoder.feed(_ogg_opus(1.0, "webm"))
        decoder.flush()
        decoder.feed(b"")


def test_garbage_in_a_container_stream_is_a_decode_error() -> None:
    decoder = ContainerDecoder(Encoding.WEBM)
    with pytest.raises(DecodeError):
        decoder.feed(b"this is not webm at all" * 100)
        decoder.flush()


def test_raw_encoding_without_sample_rate_is_refused() -> None:
    with pytest.raises(DecodeError):
        make_decoder(Encoding.LINEAR16, None, 1)


def test_framer_cuts_100ms_frames_and_keeps_the_rest() -> None:
    framer = Framer()
    frames = framer.push(b"\x01" * (FRAME_BYTES * 2 + 10))
    assert [len(f) for f in frames] == [FRAME_BYTES, FRAME_BYTES]
    assert framer.push(b"\x01" * (FRAME_BYTES - 10)) == [b"\x01" * FRAME_BYTES]
    assert framer.flush() == []


def test_decode_file_reads_a_wav(tmp_path: object) -> None:
    import soundfile

    path = f"{tmp_path}/x.wav"
    soundfile.write(path, tone(44100, 2.0), 44100, subtype="PCM_16")
    pcm = b"".join(decode_file(path))
    assert abs(len(pcm) // 2 - 32000) <= 60


def test_decode_file_refuses_a_non_audio_file(tmp_path: object) -> None:
    path = f"{tmp_path}/x.wav"
    with open(path, "wb") as fh:
        fh.write(b"not audio" * 50)
    with pytest.raises(DecodeError):
        list(decode_file(path))
