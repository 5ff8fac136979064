"""Speaker turns from post-call diarization (who spoke when), replaced as a whole on each run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from persistence.db import Db
from persistence.repositories._common import to_rows, transaction


@dataclass(frozen=True, slots=True)
class Turn:
    start_s: float
    end_s: float
    speaker: int


async def replace_turns(db: Db, session_id: str, turns: Sequence[Turn]) -> None:
    """Internal (diarize): the session's turns become exactly ``turns`` (atomically)."""

    async with transaction(db) as conn:
        await conn.execute("DELETE FROM diarization_turns WHERE session_id = $1", session_id)
        await conn.executemany(
            "INSERT INTO diarization_turns (session_id, start_s, end_s, speaker) VALUES ($1, $2, $3, $4)",
            [(session_id, t.start_s, t.end_s, t.speaker) for t in turns],
        )


async def list_turns(db: Db, owner_id: str, session_id: str) -> list[Turn]:
    """In time order; empty when the session is not this owner's."""
    rows = await db.fetch(
        """SELECT t.start_s, t.end_s, t.speaker FROM diarization_turns t
           JOIN sessions s ON s.id = t.session_id
           WHERE t.session_id = $1 AND s.owner_id = $2 ORDER BY t.start_s, t.end_s""",
        session_id,
        owner_id,
    )
    return to_rows(Turn, rows)
