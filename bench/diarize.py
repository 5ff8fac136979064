"""Diarization benchmark: DER (collar 0 and 0.25 s) and real-time factor per clip, post-call and live.

    .venv/bin/python -m bench.diarize                  # pyannote's sample clip
    .venv/bin/python -m bench.diarize --synth 12       # + 12 synthetic conversations (needs espeak-ng)
    .venv/bin/python -m bench.diarize --threshold 0.32 # the count from another fixed threshold
    .venv/bin/python -m bench.diarize --eigengap --no-resegment  # the count from the eigengap (NME-SC)
    .venv/bin/python -m bench.diarize --synth 24 --tune  # grid + leave-one-out on synthetic clips only

Live is scored as the worker runs it: each reference utterance (STM line for the sample, a synthetic
turn otherwise) arrives as one final, in order; "emitted" scores the label each final got when it
arrived, "final" the labels after later relabels. Label time is the time to label one final.
The synthetic conversations are the tuning material (see bench/README.md, "Diarization"): ``--tune``
scores a grid of clustering settings on them (never loading the sample clip) and reports, for each
clip, the DER of the setting that wins on the other clips (leave-one-out).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from diarize.clustering import ClusteringConfig
from diarize.evaluation import Clip, Utterance, der, sample_clip
from diarize.types import SAMPLE_RATE, SpeakerEmbedder, Turn, Waveform

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


def run_post_call(
    clip: Clip,
    clustering: ClusteringConfig,
    resegment: bool | None = None,  # None: the default
    embedder: SpeakerEmbedder | None = None,
) -> dict[str, float]:
    from diarize.embedding import shared_embedder
    from diarize.offline import ClusteringDiarizer, OfflineConfig

    config = OfflineConfig(clustering=clustering)
    if resegment is not None:
        config = dataclasses.replace(config, resegment=resegment)
    diarizer = ClusteringDiarizer(embedder or shared_embedder(), config)
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


def run_live(
    clip: Clip, clustering: ClusteringConfig, embedder: SpeakerEmbedder | None = None
) -> dict[str, float]:
    from diarize.embedding import shared_embedder
    from diarize.online import CentroidTracker, OnlineConfig

    # the tracker keeps its own small-cluster share (it differs from the offline one)
    live_share = OnlineConfig().clustering.min_share
    config = OnlineConfig(clustering=dataclasses.replace(clustering, min_share=live_share))
    tracker = CentroidTracker(embedder or shared_embedder(), config)
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


class _MemoEmbedder:
    """Embeds each distinct window once: the windows do not depend on the clustering settings."""

    def __init__(self, inner: SpeakerEmbedder) -> None:
        self._inner = inner
        self._seen: dict[bytes, npt.NDArray[np.float32]] = {}

    @property
    def dim(self) -> int:
        return self._inner.dim

    def embed(self, waveform: Waveform) -> npt.NDArray[np.float32]:
        first: npt.NDArray[np.float32] = self.embed_batch([waveform])[0]
        return first

    def embed_batch(self, windows: Sequence[Waveform]) -> npt.NDArray[np.float32]:
        keys = [hashlib.sha1(np.ascontiguousarray(w).tobytes()).digest() for w in windows]
        missing = {k: w for k, w in zip(keys, windows, strict=True) if k not in self._seen}
        if missing:
            embedded = self._inner.embed_batch(list(missing.values()))
            self._seen.update(zip(missing, embedded, strict=True))
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._seen[k] for k in keys])


@dataclass(frozen=True, slots=True)
class _Setting:
    family: str  # "eigengap" or "threshold": leave-one-out picks within a family
    name: str
    clustering: ClusteringConfig
    resegment: bool


def tuning_grid() -> list[_Setting]:
    grid = [
        _Setting(
            "eigengap",
            f"prune {lo:.2f}-{hi:.2f}{' +reseg' if reseg else ''}",
            ClusteringConfig(distance_threshold=None, min_neighbor_share=lo, max_neighbor_share=hi),
            reseg,
        )
        for lo in (0.0, 0.05, 0.1)
        for hi in (0.1, 0.15, 0.25)
        for reseg in (True, False)
    ]
    grid += [
        _Setting(
            "threshold",
            f"threshold {t:.2f}{' +reseg' if reseg else ''}",
            ClusteringConfig(distance_threshold=t),
            reseg,
        )
        for t in (0.26, 0.28, 0.30, 0.32, 0.34)
        for reseg in (True, False)
    ]
    return grid


def tune(clips: list[Clip]) -> None:
    """Scores every setting on every clip; then leave-one-out: each clip is scored with the setting
    (of its family) that has the lowest mean objective on the other clips. The objective is the mean
    of post-call DER and live DER as emitted, both at collar 0.25 s."""
    from diarize.embedding import shared_embedder

    embedder = _MemoEmbedder(shared_embedder())
    grid = tuning_grid()
    post: dict[str, list[float]] = {}
    live: dict[str, list[float]] = {}
    relabelled: dict[str, list[float]] = {}
    right: dict[str, list[bool]] = {}
    live_cache: dict[tuple[ClusteringConfig, str], dict[str, float]] = {}
    for number, setting in enumerate(grid, 1):
        print(f"[{number}/{len(grid)}] {setting.name}", file=sys.stderr, flush=True)
        for clip in clips:
            p = run_post_call(clip, setting.clustering, setting.resegment, embedder)
            key = (setting.clustering, clip.name)  # live does not resegment
            if key not in live_cache:
                live_cache[key] = run_live(clip, setting.clustering, embedder)
            lv = live_cache[key]
            post.setdefault(setting.name, []).append(p["der25"])
            live.setdefault(setting.name, []).append(lv["der25"])
            relabelled.setdefault(setting.name, []).append(lv["final25"])
            right.setdefault(setting.name, []).append(
                p["speakers"] == clip.speaker_count and lv["speakers"] == clip.speaker_count
            )
    print(f"{len(clips)} synthetic clips; mean DER at collar 0.25; 'count' = clips where post-call and")
    print("live both find the true speaker count\n")
    print(f"{'setting':28} {'post-call':>9} {'live':>6} {'(after relabel)':>15} {'count':>6}")
    for setting in grid:
        n = setting.name
        print(
            f"{n:28} {np.mean(post[n]):9.1%} {np.mean(live[n]):6.1%} {np.mean(relabelled[n]):15.1%} "
            f"{np.mean(right[n]):6.0%}"
        )
    objective = {n: (np.array(post[n]) + np.array(live[n])) / 2 for n in post}
    print("\nleave-one-out (the setting chosen on the other clips, scored on the held-out clip):")
    for family in ("eigengap", "threshold"):
        names = [s.name for s in grid if s.family == family]
        held_post, held_live, chosen = [], [], []
        for i in range(len(clips)):
            rest = [j for j in range(len(clips)) if j != i]
            best = min(names, key=lambda n: float(objective[n][rest].mean()))
            chosen.append(best)
            held_post.append(post[best][i])
            held_live.append(live[best][i])
        on_all = min(names, key=lambda n: float(objective[n].mean()))
        picks = ", ".join(f"{n} ×{chosen.count(n)}" for n in sorted(set(chosen)))
        print(
            f"  {family:9}: post-call {np.mean(held_post):5.1%}, live {np.mean(held_live):5.1%}; "
            f"picks: {picks}; on all clips: {on_all}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--synth", type=int, default=0, help="add N synthetic conversations (espeak-ng)")
    parser.add_argument("--no-sample", action="store_true", help="synthetic clips only")
    parser.add_argument("--threshold", type=float, default=None, help="count by this distance threshold")
    parser.add_argument("--eigengap", action="store_true", help="count by the eigengap (NME-SC)")
    parser.add_argument(
        "--resegment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="relabel frames with short windows (default: the library's)",
    )
    parser.add_argument(
        "--tune", action="store_true", help="grid + leave-one-out over the synthetic clips only"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the target is 2 cores)")
    args = parser.parse_args()
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
    import torch

    torch.set_num_threads(args.threads)
    if args.synth and not shutil.which("espeak-ng"):
        raise SystemExit("--synth needs espeak-ng (apt-get install espeak-ng)")
    synthetic = [synth_conversation(100 + i) for i in range(args.synth)]
    if args.tune:
        if len(synthetic) < 3:
            raise SystemExit("--tune needs --synth 3 or more")
        tune(synthetic)  # the sample clip stays out of tuning
        return
    clips = ([] if args.no_sample else [sample_clip()]) + synthetic
    clustering = ClusteringConfig()
    if args.eigengap or args.threshold is not None:
        clustering = ClusteringConfig(distance_threshold=None if args.eigengap else args.threshold)
    print(f"{clustering}, resegment={args.resegment}")
    run_post_call(clips[0], clustering, args.resegment)  # warm-up: model load, numba compilation
    print(
        f"{'clip':10} {'dur s':>6} {'spk':>3} | post-call DER c0 / c.25  RTF wall/cpu  spk"
        f" | live DER c0 / c.25 (after relabel)  label p50 / max ms  spk"
    )
    totals: list[tuple[dict[str, float], dict[str, float]]] = []
    for clip in clips:
        post = run_post_call(clip, clustering, args.resegment)
        live = run_live(clip, clustering)
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
