"""Follow-up email drafts from a template, one per lead."""

from __future__ import annotations

from agents.schema import EmailDraft, Lead


def draft_email(lead: Lead, sender: str | None = None, company: str | None = None) -> EmailDraft:
    first_name = (lead.person or "").split(" ")[0] or "there"
    subject = "Following up on our call" + (f" — {lead.company}" if lead.company else "")
    lines = [f"Hi {first_name},", "", "Thank you for taking the time to talk today."]
    if lead.intent:
        lines.append(f'You mentioned: "{lead.intent}"')
    details = []
    if lead.budget:
        details.append(f"a budget of {lead.budget}")
    if lead.timeline:
        details.append(f"a timeline of {lead.timeline}")
    if details:
        lines.append("I've noted " + " and ".join(details) + ", and we'll shape our proposal around that.")
    if lead.next_step:
        lines += ["", f"As agreed, the next step: {lead.next_step}"]
    lines += ["", "Please reply to this email if anything has changed or if you have questions.", ""]
    lines += ["Best regards,", sender or "", company or ""]
    return EmailDraft(subject=subject, body="\n".join(lines).rstrip() + "\n")
