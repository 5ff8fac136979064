"""``ayka stream``: a Deepgram-protocol client for the terminal. Streams a file (real-time pace, or
``--fast``) or the microphone through ``/v1/listen``, rewrites interim text in place, appends finals,
resumes the same session when the connection drops, and writes JSON, SRT and VTT at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import websockets
from websockets.asyncio.client import ClientConnection

FRAME_BYTES = 3200  # 100 ms of 16 kHz mono PCM16
RING_FRAMES = 600  # resend window: 60 s
TOO_FAR_BEHIND = 4004  # the server's transcription fell behind (we sent faster than real time): resume later
BEHIND_PAUSE_S = 5.0


@dataclass
class Transcript:
    session_id: str = ""
    finals: dict[int, dict[str, Any]] = field(default_factory=dict)
    interim: str = ""
    closing_metadata: dict[str, Any] | None = None

    def add(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "Metadata":
            self.session_id = message.get("session_id", self.session_id)
            if "finals" in message:
                self.closing_metadata = message
        elif kind == "Results":
            if message.get("is_final"):
                index = message.get("final_index")
                self.finals[index if index is not None else len(self.finals)] = message
                self.interim = ""
            else:
                self.interim = message["channel"]["alternatives"][0]["transcript"]
        elif kind == "SpeakerUpdate":
            final = self.finals.get(message.get("final_index", -1))
            if final is not None:
                for word, speaker in zip(
                    final["channel"]["alternatives"][0]["words"], message["speakers"], strict=False
                ):
                    word["speaker"] = speaker

    @property
    def text(self) -> str:
        return " ".join(
            m["channel"]["alternatives"][0]["transcript"]
            for _, m in sorted(self.finals.items())
            if m["channel"]["alternatives"][0]["transcript"]
        )

    def segments(self) -> list[Any]:
        from gateway.api.schemas.sessions import SegmentPublic

        out = []
        for index, message in sorted(self.finals.items()):
            alt = message["channel"]["alternatives"][0]
            if not alt["transcript"]:
                continue
            speakers = [w.get("speaker") for w in alt["words"] if w.get("speaker") is not None]
            speaker = max(set(speakers), key=speakers.count) if speakers else None
            out.append(
                SegmentPublic(
                    index=index,
                    start_s=message["start"],
                    end_s=message["start"] + message["duration"],
                    text=alt["transcript"],
                    speaker=speaker,
                    speaker_name=f"Speaker {speaker + 1}" if speaker is not None else None,
                    words=[
                        {
                            "word": w["word"],
                            "punctuated_word": w.get("punctuated_word", w["word"]),
                            "start_s": w["start"],
                            "end_s": w["end"],
                            "confidence": w.get("confidence", 0.0),
                            "speaker": w.get("speaker"),
                        }
                        for w in alt["words"]
                    ],
                )
            )
        return out


class Captions:
    """Interim text rewritten in place on one line; finals appended above it."""

    def __init__(self, quiet: bool, stream: Any = sys.stdout) -> None:
        self.quiet = quiet
        self.stream = stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def show(self, message: dict[str, Any]) -> None:
        if self.quiet or message.get("type") != "Results":
            if message.get("type") in {"Warning", "Error"} and not self.quiet:
                self._line(f"[{message['type'].lower()}] {message.get('message', '')}")
            return
        text = message["channel"]["alternatives"][0]["transcript"]
        if message.get("is_final"):
            if text:
                self._line(text)
        elif self.tty:
            width = os.get_terminal_size().columns if self.tty else 100
            self.stream.write("\r\x1b[2K\x1b[2m" + text[-(width - 1) :] + "\x1b[0m")
            self.stream.flush()

    def _line(self, text: str) -> None:
        self.stream.write(("\r\x1b[2K" if self.tty else "") + text + "\n")
        self.stream.flush()


async def file_frames(path: Path, realtime: bool) -> AsyncIterator[bytes]:
    from gateway.audio import decode_file

    started = time.monotonic()
    sent = 0
    pending = b""
    for chunk in await asyncio.to_thread(lambda: list(decode_file(path))):
        pending += chunk
        while len(pending) >= FRAME_BYTES:
            frame, pending = pending[:FRAME_BYTES], pending[FRAME_BYTES:]
            if realtime:
                delay = started + sent * 0.1 - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            yield frame
            sent += 1
    if pending:
        yield pending


def open_microphone() -> Any:
    """The default microphone as a PyAV input container: PulseAudio, then ALSA."""
    import av

    for fmt, device in (("pulse", "default"), ("alsa", "default")):
        with contextlib.suppress(Exception):
            return av.open(device, format=fmt)
    raise RuntimeError("no microphone found (tried PulseAudio and ALSA)")


async def mic_frames(open_input: Callable[[], Any] = open_microphone) -> AsyncIterator[bytes]:
    """100 ms frames from a capture device (``open_input`` returns a PyAV input container; the default
    microphone unless told otherwise). A capture that fails, at the start or mid-stream, raises here, so
    the stream can still be ended cleanly."""
    import av

    queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def put(item: bytes | BaseException | None) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, item)

    def capture() -> None:
        try:
            with open_input() as container:
                resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
                for frame in container.decode(audio=0):
                    for out in resampler.resample(frame):
                        put(bytes(out.planes[0])[: out.samples * 2])
        except Exception as exc:
            put(exc)
        finally:
            put(None)  # the end, however capture stopped: the reader must never wait forever

    capturing = loop.run_in_executor(None, capture)
    pending = b""
    while (chunk := await queue.get()) is not None:
        if isinstance(chunk, BaseException):
            raise chunk
        pending += chunk
        while len(pending) >= FRAME_BYTES:
            frame, pending = pending[:FRAME_BYTES], pending[FRAME_BYTES:]
            yield frame
    await capturing
    if pending:
        yield pending


@dataclass
class StreamResult:
    transcript: Transcript
    reconnects: int
    close_code: int | None
    close_reason: str
    source_error: str = ""  # the audio source failed mid-stream; the stream was still ended cleanly


async def stream_frames(
    base_url: str,
    key: str,
    frames: AsyncIterator[bytes],
    *,
    params: dict[str, str] | None = None,
    on_message: Callable[[dict[str, Any]], None] = lambda m: None,
    max_reconnects: int = 5,
) -> StreamResult:
    """Stream 100 ms frames; reconnect and resume the session (resending unacknowledged frames) when the
    connection drops, or after a pause when the server's transcription fell behind (4004); finish with
    Finalize + CloseStream, also when the frame source fails (``StreamResult.source_error`` says why)."""
    transcript = Transcript()
    ring: collections.deque[tuple[int, bytes]] = collections.deque(maxlen=RING_FRAMES)
    next_seq = 0
    reconnects = 0
    query = {"encoding": "linear16", "sample_rate": "16000", "channels": "1", "interim_results": "true"}
    query.update(params or {})
    ws_base = base_url.replace("http://", "ws://").replace("https://", "wss://").rstrip("/")
    exhausted = False
    source_error = ""
    frames_iter = frames.__aiter__()
    while True:
        q = dict(query)
        if transcript.session_id:
            first = ring[0][0] if ring else next_seq
            q.update(
                session_id=transcript.session_id,
                resume_seq=str(first),
                resume_final=str(len(transcript.finals)),
            )
        url = f"{ws_base}/v1/listen?{urlencode(q)}"
        try:
            async with websockets.connect(
                url, additional_headers={"Authorization": f"Token {key}"}, max_size=2**24
            ) as ws:
                reader = asyncio.create_task(_read(ws, transcript, on_message, ring))
                for seq, frame in list(ring):  # resend what was not acknowledged
                    await ws.send(frame)
                    del seq
                while not exhausted:
                    try:
                        frame = await anext(frames_iter)
                    except StopAsyncIteration:
                        exhausted = True
                        break
                    except Exception as exc:  # a microphone unplugged: end the session, keep what was said
                        source_error = f"{type(exc).__name__}: {exc}"
                        exhausted = True
                        break
                    ring.append((next_seq, frame))
                    next_seq += 1
                    await ws.send(frame)
                await ws.send(json.dumps({"type": "Finalize"}))
                await ws.send(json.dumps({"type": "CloseStream"}))
                await reader
                return StreamResult(
                    transcript, reconnects, ws.close_code, ws.close_reason or "", source_error
                )
        except (websockets.ConnectionClosedError, OSError) as exc:
            if (
                isinstance(exc, websockets.ConnectionClosedError)
                and exc.rcvd is not None
                and exc.rcvd.code not in (1001, 1006, 1011, 1012, TOO_FAR_BEHIND)
            ):
                return StreamResult(transcript, reconnects, exc.rcvd.code, exc.rcvd.reason, source_error)
            if not transcript.session_id or reconnects >= max_reconnects:
                raise
            reconnects += 1
            rcvd = exc.rcvd if isinstance(exc, websockets.ConnectionClosedError) else None
            behind = rcvd is not None and rcvd.code == TOO_FAR_BEHIND
            await asyncio.sleep(BEHIND_PAUSE_S if behind else min(0.5 * reconnects, 3))


async def _read(
    ws: ClientConnection,
    transcript: Transcript,
    on_message: Callable[[dict[str, Any]], None],
    ring: collections.deque[tuple[int, bytes]],
) -> None:
    async for raw in ws:
        message = json.loads(raw)
        transcript.add(message)
        if message.get("type") == "Results" and message.get("is_final"):
            acked = int(message.get("last_seq", -1))
            end_seq = int((message["start"] + message["duration"]) * 10)
            # Frames both covered by a final and seen by the worker need no resend.
            while ring and ring[0][0] < min(acked, end_seq):
                ring.popleft()
        on_message(message)


def run_stream_command(args: argparse.Namespace) -> int:
    if not args.mic and not args.file:
        print("ayka stream: give a FILE or --mic", file=sys.stderr)
        return 2
    key = args.key or os.environ.get("AYKA_API_KEY", "")
    if not key:
        print(
            "ayka stream: give --key or set AYKA_API_KEY (create one with `ayka keys create --name NAME`)",
            file=sys.stderr,
        )
        return 2
    base = (
        args.url or f"http://{os.environ.get('AYKA_HOST', '127.0.0.1')}:{os.environ.get('AYKA_PORT', '8000')}"
    )
    params: dict[str, str] = {}
    if args.language:
        params["language"] = args.language
    if args.diarize:
        params["diarize"] = "true"
    captions = Captions(args.quiet)
    frames = mic_frames() if args.mic else file_frames(Path(args.file), realtime=not args.fast)
    try:
        result = asyncio.run(stream_frames(base, key, frames, params=params, on_message=captions.show))
    except KeyboardInterrupt:
        return 130
    except (OSError, websockets.WebSocketException) as exc:
        print(f"ayka stream: {exc}", file=sys.stderr)
        return 1
    if result.source_error:
        print(f"ayka stream: the audio source failed: {result.source_error}", file=sys.stderr)
    if result.close_code not in (None, 1000):
        print(f"ayka stream: closed with {result.close_code}: {result.close_reason}", file=sys.stderr)
        return 1
    if args.quiet:
        print(result.transcript.text)
    if args.out:
        from gateway.api.formats import to_srt, to_vtt

        out = Path(args.out)
        segments = result.transcript.segments()
        out.with_suffix(".json").write_text(
            json.dumps(
                {"session_id": result.transcript.session_id, "segments": [s.model_dump() for s in segments]},
                indent=2,
            )
        )
        out.with_suffix(".srt").write_text(to_srt(segments))
        out.with_suffix(".vtt").write_text(to_vtt(segments))
        print(
            f"wrote {out.with_suffix('.json')}, .srt, .vtt (session {result.transcript.session_id})",
            file=sys.stderr,
        )
    return 1 if result.source_error else 0
