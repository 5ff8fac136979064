"""Leads found in calls: list, read, edit (status pipeline, notes, fields), delete, CSV export."""

from __future__ import annotations

import csv
import dataclasses
import io
import smtplib
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from agents import email
from gateway.api.audit import write_audit
from gateway.api.deps import Db, Reader, State, Writer
from gateway.api.schemas.common import error_responses
from gateway.api.schemas.leads import (
    LeadEmailRequest,
    LeadEmailSent,
    LeadList,
    LeadPublic,
    LeadStatus,
    LeadUpdate,
)
from gateway.errors import ApiError, Conflict, NotFound
from persistence.repositories import leads

router = APIRouter(prefix="/v1/leads", tags=["leads"])

LeadId = Annotated[str, Path(min_length=1, max_length=64)]
CSV_COLUMNS = [
    "id", "session_id", "status", "score", "person", "company", "role", "email", "phone", "intent",
    "budget", "timeline", "next_step", "notes", "created_at", "updated_at",
]  # fmt: skip
EXPORT_LIMIT = 10_000


def lead_public(lead: leads.Lead) -> LeadPublic:
    data: dict[str, Any] = dataclasses.asdict(lead)
    data["score_reasons"] = [str(r) for r in data.get("score_reasons") or []]
    data["evidence"] = [e for e in data.get("evidence") or [] if isinstance(e, dict) and "quote" in e]
    if not isinstance(data.get("email_draft"), dict) or not {"subject", "body"} <= set(data["email_draft"]):
        data["email_draft"] = None
    return LeadPublic.model_validate(data)


def _cell(value: object) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: neutralize them."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


@router.get("", responses=error_responses(401, 403, 422, 429))
async def list_leads(
    who: Reader,
    db: Db,
    status: LeadStatus | None = None,
    session_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> LeadList:
    found = await leads.list_for_owner(
        db,
        who.owner_id,
        status=leads.LeadStatus(status.value) if status else None,
        session_id=session_id,
        limit=limit,
    )
    return LeadList(items=[lead_public(lead) for lead in found])


@router.get(
    "/export.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"},
        **error_responses(401, 403, 422, 429),
    },
)
async def export_csv(who: Reader, db: Db, status: LeadStatus | None = None) -> Response:
    found = await leads.list_for_owner(
        db, who.owner_id, status=leads.LeadStatus(status.value) if status else None, limit=EXPORT_LIMIT
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for lead in found:
        writer.writerow([_cell(getattr(lead, name)) for name in CSV_COLUMNS])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="leads.csv"'},
    )


@router.get("/{lead_id}", responses=error_responses(401, 403, 404, 422, 429))
async def get_lead(lead_id: LeadId, who: Reader, db: Db) -> LeadPublic:
    found = await leads.get(db, who.owner_id, lead_id)
    if found is None:
        raise NotFound("No such lead.")
    return lead_public(found)


@router.patch("/{lead_id}", responses=error_responses(401, 403, 404, 413, 422, 429))
async def update_lead(lead_id: LeadId, body: LeadUpdate, who: Writer, db: Db) -> LeadPublic:
    changes = body.model_dump(exclude_unset=True)
    if changes.get("status") is None:
        changes.pop("status", None)  # status cannot be cleared
    if "notes" in changes and changes["notes"] is None:
        changes["notes"] = ""
    if "status" in changes:
        changes["status"] = str(changes["status"])
    updated = await leads.update(db, who.owner_id, lead_id, changes)
    if updated is None:
        raise NotFound("No such lead.")
    return lead_public(updated)


@router.delete(
    "/{lead_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 403, 404, 429)
)
async def delete_lead(lead_id: LeadId, who: Writer, db: Db) -> Response:
    if not await leads.delete(db, who.owner_id, lead_id):
        raise NotFound("No such lead.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{lead_id}/email",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 404, 409, 413, 422, 429, 502),
)
async def send_email(lead_id: LeadId, body: LeadEmailRequest, who: Writer, state: State) -> LeadEmailSent:
    """Send the lead's follow-up draft to ``to`` over the configured SMTP server."""
    found = await leads.get(state.pool, who.owner_id, lead_id)
    if found is None:
        raise NotFound("No such lead.")
    try:
        message_id = await email.send_email_draft(state.settings, found, body.to)
    except email.SmtpNotConfigured as exc:
        raise Conflict(
            "Sending email needs AYKA_SMTP_HOST and AYKA_SMTP_FROM.", code="smtp_not_configured"
        ) from exc
    except email.NoDraft as exc:
        raise Conflict("This lead has no email draft.", code="no_email_draft") from exc
    except email.BadRecipient as exc:
        raise ApiError(str(exc), code="bad_recipient", status=422) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise ApiError(
            f"The mail server refused or could not be reached: {exc}", code="email_failed", status=502
        ) from exc
    await write_audit(
        state.pool,
        who.owner_id,
        actor=who.key_id or who.owner_id,
        action="lead.email",
        target=f"lead:{lead_id}",
    )
    return LeadEmailSent(message_id=message_id)
