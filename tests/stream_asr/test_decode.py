from __future__ import annotations

import numpy as np

from stream_asr.decode import Decoder, DecodeRequest
from tests.data.clips import Clip


def test_audio_too_short_to_hold_a_word_gets_an_empty_hypothesis_and_spares_its_batch(
    decoder: Decoder, clip: Clip
) -> None:
    # A client's last partial frame can be a few milliseconds: it must not fail the whole batch.
    tiny = DecodeRequest(audio=np.zeros(80, dtype=np.float32), offset_s=0.0, prompt_text="")
    speech = DecodeRequest(audio=clip.audio[7 * 16000 : 11 * 16000], offset_s=7.0, prompt_text="")
    empty, spoken = decoder.decode([tiny, speech])
    assert empty.words == ()
    assert len(spoken.words) >= 3
    assert all(7.0 <= w.start_s <= w.end_s <= 11.5 for w in spoken.words)
