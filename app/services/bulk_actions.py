"""The actions a bulk job can apply, one class each, looked up by (target, key) (issue 8.2).

Each action validates its parameters once (`clean`, raising `Invalid` naming the field), then
changes a batch of records the caller may edit (`apply`), returning per record either None
(changed, with its audit entry) or the reason it was skipped. Nothing here commits: the job
commits each batch with its counters.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, ClassVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.business_change import BusinessChange
from app.models.care import CareTask
from app.models.customer import SEGMENTS, STATUSES
from app.models.user import CrmUser
from app.services import audit
from app.services.actor import Actor
from app.services.errors import CrmError, Invalid
from app.services.validation import FieldError, check_choice, check_date, check_id, check_text

MANAGER_ROLES = ("Admin", "Manager")


def _field(name: str, fn: Any) -> Any:
    """Run one validator; its FieldError becomes an `Invalid` naming `name`."""
    try:
        return fn()
    except FieldError as exc:
        raise Invalid({name: str(exc)}) from None


def _active_user(value: Any, field: str) -> int:
    user_id = check_id(value)
    active = user_id is not None and db.session.execute(
        select(CrmUser.id).where(CrmUser.id == user_id, CrmUser.active.is_(True))).first()
    if not active:
        raise Invalid({field: _("Choose an active user.")})
    return int(user_id)


class BulkAction:
    key: ClassVar[str]
    label: ClassVar[Any]
    managers_only: ClassVar[bool] = False
    inputs: ClassVar[tuple[str, ...]] = ()  # form inputs the page shows for this action

    def clean(self, params: dict[str, Any], actor: Actor) -> dict[str, Any]:
        return {}

    def apply(self, rows: list[Any], params: dict[str, Any], actor: Actor, job_id: int) -> list[str | None]:
        out: list[str | None] = []
        for row in rows:
            try:
                out.append(self.apply_one(row, params, actor, job_id))
            except CrmError as exc:  # the service's own rule (checked before it changes anything)
                out.append(exc.text())
        return out

    def apply_one(self, row: Any, params: dict[str, Any], actor: Actor, job_id: int) -> str | None:
        raise NotImplementedError

    def describe(self, params: dict[str, Any]) -> str:
        """One line for the confirmation and the progress page."""
        return str(self.label)


# --- customers -----------------------------------------------------------------------------------

class _CustomerField(BulkAction):
    """Set one customer column, with the same history as an edit (business change + audit)."""

    field: ClassVar[str]

    def apply_one(self, row: Any, params: dict[str, Any], actor: Actor, job_id: int) -> str | None:
        new = params[self.field]
        old = getattr(row, self.field)
        if old == new:
            return _("Already has this value.")
        setattr(row, self.field, new)
        before, after = {self.field: old}, {self.field: new}
        from app.services.care import business_date

        db.session.add(BusinessChange(
            customer_id=row.id, change_type="profile_update", before=json.dumps(before, ensure_ascii=False),
            after=json.dumps(after, ensure_ascii=False), effective_date=business_date(utcnow()), operator_id=actor.id))
        audit.record(actor, "update", "customer", row.id, {"before": before, "after": after, "bulk_job": job_id})
        return None

    def describe(self, params: dict[str, Any]) -> str:
        value = params.get(self.field + "_label", params.get(self.field))
        return f"{self.label}: {self.value_label(value)}"

    def value_label(self, value: Any) -> str:
        return str(value)


class CustomerReassign(_CustomerField):
    key = "reassign"
    label = _l("Reassign owner")
    managers_only = True
    inputs = ("owner_id",)
    field = "owner_id"

    def clean(self, params: dict[str, Any], actor: Actor) -> dict[str, Any]:
        owner_id = _active_user(params.get("owner_id"), "owner_id")
        return {"owner_id": owner_id, "owner_id_label": db.session.get(CrmUser, owner_id).username}


class CustomerStatus(_CustomerField):
    key = "status"
    label = _l("Change status")
    inputs = ("status",)
    field = "status"

    def clean(self, params: dict[str, Any], actor: Actor) -> dict[str, Any]:
        return {"status": _field("status", lambda: check_choice(params.get("status"), STATUSES))}

    def value_label(self, value: Any) -> str:
        from app.labels import STATUS_CHOICES, label_of

        return label_of(STATUS_CHOICES, value)


class CustomerSegment(_CustomerField):
    key = "segment"
    label = _l("Change segment")
    inputs = ("segment",)
    field = "segment"

    def clean(self, params: dict[str, Any], actor: Actor) -> dict[str, Any]:
        return {"segment": _field("segment", lambda: check_choice(params.get("segment"), SEGMENTS))}

    def value_label(self, value: Any) -> str:
        from app.labels import SEGMENT_CHOICES, label_of

        return label_of(SEGMENT_CHOICES, value)


class CustomerTag(BulkAction):
    key = "tag"
    label = _l("Add a tag")
    inputs = ("tag",)

    def clean(self, params: dict[str, Any], actor: Actor) -> dict[str, Any]:
        from app.services import tags

        return {"tag": tags.clean_name(params.get("tag"))}

    def apply(self, rows: list[Any], params: dict[str, Any], actor: Actor, job_id: int) -> list[str | None]:
        from app.services import tags

        tag = tags.get_or_create(params["tag"])
        already = tags.tagged_among(tag.id, [r.id for r in rows])
        tags.link(tag.id, [r.id for r in rows if r.id not in already])
        out: list[str | None] = []
        for row in rows:
            if row.id in already:
                out.append(_("Already has this tag."))
                continue
            audit.record(actor, "tag", "customer", row.id, {"tag": tag.name, "bulk_job": job_id})
            out.append(None)
        return out

    def describe(self, params: dict[str, Any]) -> str:
        return f"{self.label}: {params.get('tag')}"


class CustomerFollowUp(BulkAction):
    """A follow-up task per customer, for its owner (or the caller), shown in "My follow-ups"."""

    key = "follow_up"
    label = _l("Create follow-up tasks")
    inputs = ("title", "due_date", "assign_to")

    def clean(self, params: dict[str, Any], actor: Actor) -> dict[str, Any]:
        from app.services.care import business_date

        title = _field("title", lambda: check_text(params.get("title"), 200, required=True))
        due = _field("due_date", lambda: check_date(params.get("due_date"), required=True))
        if due < business_date(utcnow()):
            raise Invalid({"due_date": _("The due date cannot be in the past.")})
        assign_to = params.get("assign_to") or "owner"
        if assign_to not in ("owner", "me"):
            raise Invalid({"assign_to": _("Not a valid choice: %(value)s.", value=assign_to)})
        return {"title": title, "due_date": due.isoformat(), "assign_to": assign_to}

    def apply_one(self, row: Any, params: dict[str, Any], actor: Actor, job_id: int) -> str | None:
        if row.status == "closed":
            return _("The customer's account is closed.")
        assignee = row.owner_id if params["assign_to"] == "owner" and row.owner_id else actor.id
        now = utcnow()
        task = CareTask(rule_id=None, customer_id=row.id, source_type="customer", source_id=row.id,
                        title=params["title"][:255], occurrence_key=f"bulk:{job_id}",
                        due_date=dt.date.fromisoformat(params["due_date"]), assignee_id=assignee,
                        status="open", priority="normal", attempts=0, created_at=now, updated_at=now)
        db.session.add(task)
        db.session.flush()
        audit.record(actor, "create", "care_task", task.id, {"after": {
            "customer_id": row.id, "title": task.title, "due_date": params["due_date"], "assignee_id": assignee},
            "bulk_job": job_id})
        return None

    def describe(self, params: dict[str, Any]) -> str:
        return f"{self.label}: {params.get('title')} ({params.get('due_date')})"


# --- leads ---------------------------------------------------------------------------------------

class LeadReassign(BulkAction):
    key = "reassign"
    label = _l("Reassign owner")
    managers_only = True
    inputs = ("owner_id",)

    def clean(self, params: dict[str, Any], actor: Actor) -> dict[str, Any]:
        owner_id = _active_user(params.get("owner_id"), "owner_id")
        return {"owner_id": owner_id, "owner_id_label": db.session.get(CrmUser, owner_id).username}

    def apply_one(self, row: Any, params: dict[str, Any], actor: Actor, job_id: int) -> str | None:
        if row.owner_id == params["owner_id"]:
            return _("Already has this value.")
        if row.status == "converted":
            return _("A converted lead can no longer be changed.")
        before = row.owner_id
        row.owner_id = params["owner_id"]
        audit.record(actor, "reassign", "lead", row.id, {"before": {"owner_id": before},
                                                         "after": {"owner_id": row.owner_id}, "bulk_job": job_id})
        return None

    def describe(self, params: dict[str, Any]) -> str:
        return f"{self.label}: {params.get('owner_id_label')}"


class LeadStatus(BulkAction):
    """Through `leads.set_status`: the lead's status moves and its reason rule apply per record."""

    key = "status"
    label = _l("Change status")
    inputs = ("lead_status", "reason")

    def clean(self, params: dict[str, Any], actor: Actor) -> dict[str, Any]:
        from app.models.lead import LEAD_STATUSES

        status = _field("lead_status", lambda: check_choice(params.get("lead_status"), LEAD_STATUSES))
        if status == "converted":
            raise Invalid({"lead_status": _("Convert a lead from its own page.")})
        reason = _field("reason", lambda: check_text(params.get("reason"), 255))
        if status == "disqualified" and not reason:
            raise Invalid({"reason": _("Give the reason for disqualifying the lead.")})
        return {"lead_status": status, "reason": reason}

    def apply_one(self, row: Any, params: dict[str, Any], actor: Actor, job_id: int) -> str | None:
        from app.services import leads

        if row.status == params["lead_status"]:
            return _("Already has this value.")
        leads.set_status(row.id, params["lead_status"], params["reason"], actor, commit=False)
        return None

    def describe(self, params: dict[str, Any]) -> str:
        from app.services.sales import LEAD_STATUS_LABELS

        status = params.get("lead_status")
        return f"{self.label}: {LEAD_STATUS_LABELS.get(status, status)}"


# --- tickets -------------------------------------------------------------------------------------

class TicketReassign(BulkAction):
    """Through `tickets.assign`: the agent must belong to each ticket's department."""

    key = "reassign"
    label = _l("Reassign agent")
    managers_only = True
    inputs = ("assignee_id",)

    def clean(self, params: dict[str, Any], actor: Actor) -> dict[str, Any]:
        user_id = _active_user(params.get("assignee_id"), "assignee_id")
        return {"assignee_id": user_id, "assignee_id_label": db.session.get(CrmUser, user_id).username}

    def apply_one(self, row: Any, params: dict[str, Any], actor: Actor, job_id: int) -> str | None:
        from app.services import tickets

        if row.assignee_id == params["assignee_id"]:
            return _("Already has this value.")
        tickets.assign(row.id, params["assignee_id"], actor)
        return None

    def describe(self, params: dict[str, Any]) -> str:
        return f"{self.label}: {params.get('assignee_id_label')}"
