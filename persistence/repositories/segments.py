"""Final transcript segments. ``(session_id, idx)`` is the key, so re-applying a final is an upsert."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from persistence.db import Db
from persistence.repositories._common import columns, to_rows


@dataclass(frozen=True, slots=True)
class Segment:
    session_id: str
    idx: int
    start_s: float
    end_s: float
    text: str
    words: list[dict[str, Any]]  # [{word, punctuated_word, start_s, end_s, confidence, speaker}]
    speaker: int | None


@dataclass(frozen=True, slots=True)
class Relabel:
    """Post-call diarization result for one segment."""

    idx: int
    speaker: int | None
    words: list[dict[str, Any]]


_COLS = columns(Segment)
_COLS_G = columns(Segment, "g")


async def apply_final(
    db: Db,
    session_id: str,
    idx: int,
    start_s: float,
    end_s: float,
    text: str,
    words: list[dict[str, Any]],
    speaker: int | None = None,
) -> None:
    """Internal (final consumer): insert or replace segment ``idx``. Idempotent, so a final redelivered
    by JetStream changes nothing; a speaker already assigned is kept when the new one is None."""
    await db.execute(
        """INSERT INTO segments (session_id, idx, start_s, end_s, text, words, speaker)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (session_id, idx) DO UPDATE SET
               start_s = EXCLUDED.start_s, end_s = EXCLUDED.end_s, text = EXCLUDED.text,
               words = EXCLUDED.words, speaker = coalesce(EXCLUDED.speaker, segments.speaker)""",
        session_id,
        idx,
        start_s,
        end_s,
        text,
        words,
        speaker,
    )


async def list_for_session(db: Db, owner_id: str, session_id: str) -> list[Segment]:
    """The transcript in order; empty when the session is not this owner's."""
    rows = await db.fetch(
        f"""SELECT {_COLS_G} FROM segments g JOIN sessions s ON s.id = g.session_id
            WHERE g.session_id = $1 AND s.owner_id = $2 ORDER BY g.idx""",
        session_id,
        owner_id,
    )
    return to_rows(Segment, rows)


async def list_for_worker(db: Db, session_id: str) -> list[Segment]:
    """Internal (diarize, agents)."""
    rows = await db.fetch(f"SELECT {_COLS} FROM segments WHERE session_id = $1 ORDER BY idx", session_id)
    return to_rows(Segment, rows)


async def set_speaker(db: Db, session_id: str, idx: int, speaker: int | None) -> bool:
    """Internal (live diarization): label one segment and the words in it."""
    done = await db.fetchval(
        """UPDATE segments SET speaker = $3,
               words = coalesce((SELECT jsonb_agg(w || jsonb_build_object('speaker', $3::int) ORDER BY n)
                                 FROM jsonb_array_elements(words) WITH ORDINALITY AS e(w, n)), '[]'::jsonb)
           WHERE session_id = $1 AND idx = $2 RETURNING true""",
        session_id,
        idx,
        speaker,
    )
    return bool(done)


async def relabel(db: Db, session_id: str, changes: Sequence[Relabel]) -> None:
    """Internal (post-call diarization): new speakers for segments and their words, in one batch."""
    await db.executemany(
        "UPDATE segments SET speaker = $3, words = $4 WHERE session_id = $1 AND idx = $2",
        [(session_id, change.idx, change.speaker, change.words) for change in changes],
    )
