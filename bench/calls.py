"""How long one model call takes for each way of spending the CPU's cores: threads per call × calls at once.

A lone session decodes one call at a time, so it sees the threads of one call; several sessions fill the
parallel calls. Full-window (30 s encoder) calls on the first seconds of the sample clip, median of
``--runs`` after a warm-up::

    .venv/bin/python -m bench.calls                          # 1x1, 2x1, 1x2 on 8 and 16 s
    .venv/bin/python -m bench.calls --layouts 4x1,1x4,2x2     # on a 4-core machine
"""

from __future__ import annotations

import argparse
import statistics
import time

from stream_asr.decode import Decoder, DecodeRequest
from stream_asr.model import ModelConfig, ModelRuntime
from tests.data.clips import SAMPLE_RATE, sample_clip


def _layout(text: str) -> tuple[int, int]:
    threads, _, parallel = text.partition("x")
    return int(threads), int(parallel)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--layouts", default="1x1,2x1,1x2", help="threads x parallel calls, comma-separated")
    parser.add_argument("--seconds", default="8,16", help="buffer lengths to decode, comma-separated")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    audio = sample_clip().audio
    for threads, parallel in (_layout(t) for t in args.layouts.split(",")):
        decoder = Decoder(
            ModelRuntime(ModelConfig(name=args.model, cpu_threads=threads, parallel_calls=parallel))
        )
        for seconds in (float(s) for s in args.seconds.split(",")):
            request = DecodeRequest(
                audio=audio[: round(seconds * SAMPLE_RATE)].copy(), offset_s=0.0, prompt_text=""
            )
            decoder.decode([request])  # warm-up
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                decoder.decode([request])
                times.append(time.perf_counter() - started)
            print(
                f"{threads} thread(s) x {parallel} call(s), {seconds:g} s buffer: "
                f"median {statistics.median(times):.3f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
