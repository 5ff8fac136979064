"""Diarization benchmark: DER (collar 0 and 0.25 s) and real-time factor per clip, post-call and live.

    .venv/bin/python -m bench.diarize                  # pyannote's sample clip
    .venv/bin/python -m bench.diarize --synth 12       # + 12 synthetic conversations (needs espeak-ng)
    .venv/bin/python -m bench.diarize --threshold 0.28 # another clustering threshold (tuning sweeps)

Live is scored as the worker runs it: each reference utterance (STM line for the sample, a synthetic
turn otherwise) arrives as one final, in order; "emitted" scores the label each final got when it
arrived, "final" the labels after later relabels. Label time is the time to label one final.
The synthetic conversations are the tuning material (see bench/README.md, "Diarization").
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import subprocess
import time

import numpy as np

from diarize.evaluation import Clip, Utterance, der, sample_clip
from diarize.types import SAMPLE_RATE, Turn

SENTENCES = (
    "Hello, can you hear me?",
    "Yes, I can hear you fine.",
    "We should talk about the budget for next quarter.",
    "I think the numbers look good so far.",
    "Did you send the contract to the client yesterday?",
    "Not yet, I am waiting for legal to approve it.",
    "Okay.",
    "Right, that makes sense.",
    "Let's schedule a follow up meeting on Thursday at ten.",
    "Thursday works for me.",
    "What about the new hire, when does she start?",
    "She starts on the first of next month.",
    "Great, I'll let the team know.",
    "Can you repeat that please?",
    "The shipment is delayed by two weeks because of the weather.",
    "That is going to be a problem for our customers in Texas.",
    "I agree, we need a plan.",
    "Maybe we can offer a discount.",
    "Sure.",
    "Honestly I don't know.",
    "The report is almost finished, I just need the final figures.",
    "Where did you grow up?",
    "I grew up in Chicago, but I moved to New Jersey ten years ago.",
    "Oh really, me too.",
    "Thanks for calling, have a nice day.",
    "Bye.",
)
VOICES = (
    "en-us+m1", "en-us+f2", "en+m3", "en-gb-x-rp+f4", "en-gb-scotland+m7",
    "en-us+f1", "en-029+m2", "en+f5", "en-us-nyc+m4", "en-gb-x-gbclan+f3",
)  # fmt: skip


def _say(voice: str, pitch: int, speed: int, text: str) -> np.ndarray:
    import soundfile
    from scipy.signal import resample_poly

    out = subprocess.run(
        ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "--stdout", text],
        capture_output=True,
        check=True,
    ).stdout
    wav, rate = soundfile.read(io.BytesIO(out), dtype="float32")
    wav = resample_poly(wav, SAMPLE_RATE, rate).astype(np.float32)
    loud = np.flatnonzero(np.abs(wav) > 0.02 * np.abs(wav).max())
    trimmed: np.ndarray = wav[loud[0] : loud[-1] + 1]
    return trimmed


def synth_conversation(seed: int) -> Clip:
    """A telephone-band conversation of 2-4 espeak-ng voices; each utterance varies its voice's pitch
    and speed (people do), gaps of -0.2..1 s (negative = overlap), a little noise."""
    from scipy.signal import butter, sosfilt

    rng = random.Random(seed)
    n_speakers = [2, 2, 3, 4][seed % 4]
    voices = [(v, rng.randint(30, 70), rng.randint(140, 190)) for v in rng.sample(VOICES, n_speakers)]
    pieces = [np.zeros(int(SAMPLE_RATE * rng.uniform(0.5, 3)), np.float32)]
    t = len(pieces[0]) / SAMPLE_RATE
    reference, utterances, prev = [], [], -1
    for _ in range(rng.randint(12, 24)):
        who = rng.choice([i for i in range(n_speakers) if i != prev])
        prev = who
        text = " ".join(rng.sample(SENTENCES, rng.choice([1, 1, 2, 3])))
        voice, pitch, speed = voices[who]
        wav = _say(voice, pitch + rng.randint(-10, 10), speed + rng.randint(-25, 25), text)
        wav = wav / (np.abs(wav).max() + 1e-6) * rng.uniform(0.2, 0.8)
        gap = rng.uniform(-0.2, 1.0)
        overlap = int(-gap * SAMPLE_RATE) if gap < 0 else 0
        if overlap and len(pieces[-1]) > overlap:
            tail = pieces[-1]
            pieces[-1] = tail[:-overlap]
            wav = wav.copy()
            wav[:overlap] += tail[-overlap:][: len(wav[:overlap])]
            t -= overlap / SAMPLE_RATE
        elif gap > 0:
            pieces.append(np.zeros(int(gap * SAMPLE_RATE), np.float32))
            t += gap
        end = t + len(wav) / SAMPLE_RATE
        reference.append((t, end, f"s{who}"))
        utterances.append(Utterance(t, end, f"s{who}", text))
        pieces.append(wav.astype(np.float32))
        t = end
    pieces.append(np.zeros(SAMPLE_RATE, np.float32))
    band = butter(4, [300, 3400], btype="band", fs=SAMPLE_RATE, output="sos")
    audio = sosfilt(band, np.concatenate(pieces)).astype(np.float32)
    audio += np.random.default_rng(seed).normal(0, 0.003, audio.size).astype(np.float32)
    return Clip(f"synth{seed}", audio, reference, utterances)


def run_post_call(clip: Clip, threshold: float | None) -> dict[str, float]:
    from diarize.embedding import shared_embedder
    from diarize.offline import ClusteringDiarizer, OfflineConfig

    config = OfflineConfig() if threshold is None else OfflineConfig(distance_threshold=threshold)
    diarizer = ClusteringDiarizer(shared_embedder(), config)
    started, cpu_started = time.perf_counter(), time.process_time()
    turns = diarizer.diarize(clip.waveform)
    elapsed, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "der0": der(clip.reference, turns, 0.0),
        "der25": der(clip.reference, turns, 0.25),
        "rtf": clip.duration_s / elapsed,
        # CPU seconds spread over 2 cores: the real-time factor an idle 2-core machine would see
        "rtf_cpu": clip.duration_s / max(cpu_s / 2, 1e-6),
        "speakers": len({t.speaker for t in turns}),
    }


def run_live(clip: Clip, threshold: float | None) -> dict[str, float]:
    from diarize.embedding import shared_embedder
    from diarize.online import CentroidTracker, OnlineConfig

    config = OnlineConfig() if threshold is None else OnlineConfig(distance_threshold=threshold)
    tracker = CentroidTracker(shared_embedder(), config)
    first: dict[int, int] = {}
    times = []
    utterances = sorted(clip.utterances, key=lambda u: u.start_s)
    for key, utt in enumerate(utterances):
        audio = clip.waveform[int(utt.start_s * SAMPLE_RATE) : int(utt.end_s * SAMPLE_RATE)]
        started = time.perf_counter()
        first[key] = tracker.assign(audio, utt.start_s, utt.end_s, key=key)
        tracker.pop_relabels()
        times.append(time.perf_counter() - started)
    emitted = [Turn(u.start_s, u.end_s, first[k]) for k, u in enumerate(utterances)]
    final = [Turn(u.start_s, u.end_s, tracker.label_of(k) or 0) for k, u in enumerate(utterances)]
    return {
        "der0": der(clip.reference, emitted, 0.0),
        "der25": der(clip.reference, emitted, 0.25),
        "final25": der(clip.reference, final, 0.25),
        "label_p50": float(np.percentile(times, 50)),
        "label_max": max(times),
        "speakers": len({t.speaker for t in final}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--synth", type=int, default=0, help="add N synthetic conversations (espeak-ng)")
    parser.add_argument("--no-sample", action="store_true", help="synthetic clips only")
    parser.add_argument("--threshold", type=float, default=None, help="clustering distance threshold")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the target is 2 cores)")
    args = parser.parse_args()
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
    import torch

    torch.set_num_threads(args.threads)
    clips = [] if args.no_sample else [sample_clip()]
    if args.synth and not shutil.which("espeak-ng"):
        raise SystemExit("--synth needs espeak-ng (apt-get install espeak-ng)")
    clips += [synth_conversation(100 + i) for i in range(args.synth)]
    run_post_call(clips[0], args.threshold)  # warm-up: model load, numba compilation
    print(
        f"{'clip':10} {'dur s':>6} {'spk':>3} | post-call DER c0 / c.25  RTF wall/cpu  spk"
        f" | live DER c0 / c.25 (after relabel)  label p50 / max ms  spk"
    )
    totals: list[tuple[dict[str, float], dict[str, float]]] = []
    for clip in clips:
        post = run_post_call(clip, args.threshold)
        live = run_live(clip, args.threshold)
        totals.append((post, live))
        print(
            f"{clip.name:10} {clip.duration_s:6.1f} {clip.speaker_count:3d} | "
            f"{post['der0']:6.1%} / {post['der25']:6.1%} "
            f"{post['rtf']:5.0f}x/{post['rtf_cpu']:4.0f}x {post['speakers']:3.0f} | "
            f"{live['der0']:6.1%} / {live['der25']:6.1%} ({live['final25']:6.1%})     "
            f"{live['label_p50'] * 1000:6.0f} / {live['label_max'] * 1000:5.0f}   {live['speakers']:3.0f}"
        )
    if len(totals) > 1:
        mean = {k: float(np.mean([p[k] for p, _ in totals])) for k in ("der0", "der25", "rtf", "rtf_cpu")}
        lmean = {k: float(np.mean([lv[k] for _, lv in totals])) for k in ("der0", "der25", "final25")}
        print(
            f"{'mean':10} {'':6} {'':3} | {mean['der0']:6.1%} / {mean['der25']:6.1%} "
            f"{mean['rtf']:5.0f}x/{mean['rtf_cpu']:4.0f}x     | "
            f"{lmean['der0']:6.1%} / {lmean['der25']:6.1%} ({lmean['final25']:6.1%})"
        )


if __name__ == "__main__":
    main()
