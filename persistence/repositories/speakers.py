"""Speaker names per session (label 0 is shown as ``Speaker 1`` until renamed)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from persistence.db import Db
from persistence.repositories._common import to_row, to_rows


@dataclass(frozen=True, slots=True)
class Speaker:
    session_id: str
    label: int
    name: str


def default_name(label: int) -> str:
    return f"Speaker {label + 1}"


async def ensure(db: Db, session_id: str, labels: Iterable[int]) -> None:
    """Internal (diarize): make sure each label has a row, named by default; existing names stay."""
    await db.executemany(
        """INSERT INTO speakers (session_id, label, name) VALUES ($1, $2, $3)
           ON CONFLICT (session_id, label) DO NOTHING""",
        [(session_id, label, default_name(label)) for label in sorted(set(labels))],
    )


async def list_for_session(db: Db, owner_id: str, session_id: str) -> list[Speaker]:
    """Every speaker with a row or a labeled segment, in label order; empty when not this owner's."""
    rows = await db.fetch(
        """SELECT $1::text AS session_id, l.label,
                  coalesce(sp.name, 'Speaker ' || (l.label + 1)) AS name
           FROM sessions s
           CROSS JOIN LATERAL (
               SELECT label FROM speakers WHERE session_id = s.id
               UNION SELECT speaker FROM segments WHERE session_id = s.id AND speaker IS NOT NULL
           ) l
           LEFT JOIN speakers sp ON sp.session_id = s.id AND sp.label = l.label
           WHERE s.id = $1 AND s.owner_id = $2
           ORDER BY l.label""",
        session_id,
        owner_id,
    )
    return to_rows(Speaker, rows)


async def rename(db: Db, owner_id: str, session_id: str, label: int, name: str) -> Speaker | None:
    """Name a speaker of this owner's session; None when the session is not theirs."""
    row = await db.fetchrow(
        """INSERT INTO speakers (session_id, label, name)
           SELECT id, $3, $4 FROM sessions WHERE id = $1 AND owner_id = $2
           ON CONFLICT (session_id, label) DO UPDATE SET name = EXCLUDED.name
           RETURNING session_id, label, name""",
        session_id,
        owner_id,
        label,
        name,
    )
    return to_row(Speaker, row)


async def names_for_worker(db: Db, session_id: str) -> dict[int, str]:
    """Internal (agents, transcripts): label → name for the labels that have a row."""
    rows = await db.fetch("SELECT label, name FROM speakers WHERE session_id = $1", session_id)
    return {row["label"]: row["name"] for row in rows}
