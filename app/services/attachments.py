"""Ticket attachments, stored safely.

- Size limit (`CRM_ATTACHMENT_MAX_BYTES`, default 5 MB) and a type allow-list by extension; images
  and PDFs must also start with their format's magic bytes, so a renamed executable is refused.
- Stored under `<instance>/attachments/` (or `CRM_ATTACHMENT_DIR`) by a random name
  (`uuid4().hex` + the allowed extension). The uploaded name is only metadata for display and
  download; it never becomes part of a path, so `../` and absolute names cannot escape.
- Reading goes through `open_for_download`, which checks the ticket's row rules first and that the
  resolved path stays inside the storage directory.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.ticket import TicketAttachment, TicketEvent
from app.services import audit, tickets
from app.services.actor import Actor
from app.services.errors import Invalid, NotFound

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# extension → content type served on download
ALLOWED = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "txt": "text/plain",
    "csv": "text/csv",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
}
MAGIC = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "wav": (b"RIFF",),
}
STORED_NAME = re.compile(r"^[0-9a-f]{32}\.[a-z0-9]{1,5}$")
MAX_PER_TICKET = 20


def max_bytes() -> int:
    return int(current_app.config.get("CRM_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def storage_dir() -> Path:
    configured = current_app.config.get("CRM_ATTACHMENT_DIR")
    if configured:
        base = Path(configured)
    else:
        from config import INSTANCE_DIR

        base = Path(INSTANCE_DIR) / "attachments"
    base.mkdir(parents=True, exist_ok=True)
    return base.resolve()


def clean_name(name: str | None) -> str:
    """A display name: the last path component, no control characters, at most 200 characters."""
    raw = (name or "").replace("\\", "/").split("/")[-1]
    raw = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    return raw[-200:] or "file"


def extension_of(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def save(ticket_id: Any, stream: BinaryIO, filename: str | None, actor: Actor,
         *, at: dt.datetime | None = None) -> TicketAttachment:
    """Check and store one uploaded file for a ticket the actor may see."""
    at = at or utcnow()
    ticket = tickets.get(ticket_id, actor)
    name = clean_name(filename)
    ext = extension_of(name)
    if not filename:
        raise Invalid({"file": _("Choose a file to upload.")})
    if ext not in ALLOWED:
        raise Invalid({"file": _("This file type is not allowed. Allowed: %(types)s.",
                                 types=", ".join(sorted(ALLOWED)))})
    limit = max_bytes()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise Invalid({"file": _("The file is larger than %(mb).1f MB.", mb=limit / 1024 / 1024)})
    if not data:
        raise Invalid({"file": _("The file is empty.")})
    if ext in MAGIC and not data.startswith(MAGIC[ext]):
        raise Invalid({"file": _("The file's content does not match its type.")})
    count = len(db.session.execute(
        select(TicketAttachment.id).where(TicketAttachment.ticket_id == ticket.id)).all())
    if count >= MAX_PER_TICKET:
        raise Invalid({"file": _("A ticket can have at most %(n)d attachments.", n=MAX_PER_TICKET)})
    stored = f"{uuid.uuid4().hex}.{ext}"
    path = storage_dir() / stored
    row = TicketAttachment(ticket_id=ticket.id, original_name=name, stored_name=stored,
                           content_type=ALLOWED[ext], size=len(data), uploaded_at=at, uploaded_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    db.session.add(TicketEvent(ticket_id=ticket.id, kind="attachment", at=at, actor_id=actor.id,
                               body=f"{name} ({len(data)} B)"))
    audit.record(actor, "attach", "ticket", ticket.id, {"attachment_id": row.id, "size": len(data)})
    path.write_bytes(data)
    try:
        db.session.commit()
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return row


def list_for(ticket_id: int) -> list[TicketAttachment]:
    return list(db.session.execute(
        select(TicketAttachment).where(TicketAttachment.ticket_id == ticket_id).order_by(TicketAttachment.id)
    ).scalars())


def open_for_download(ticket_id: Any, attachment_id: Any, actor: Actor) -> tuple[TicketAttachment, Path]:
    """The attachment and its file, if the actor may see the ticket; NotFound otherwise."""
    ticket = tickets.get(ticket_id, actor)
    row = db.session.execute(
        select(TicketAttachment).where(TicketAttachment.id == (tickets.check_id(attachment_id) or -1),
                                       TicketAttachment.ticket_id == ticket.id)
    ).scalar()
    if row is None or not STORED_NAME.fullmatch(row.stored_name):
        raise NotFound()
    base = storage_dir()
    path = (base / row.stored_name).resolve()
    if path.parent != base or not path.is_file():
        raise NotFound()
    return row, path
