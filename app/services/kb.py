"""Knowledge base (知识库): articles, their life cycle and history, feedback, search and suggestions.

- Writers (Managers, Admins: `access.is_kb_writer`) create, edit, publish, archive and restore;
  everyone else reads published articles only (`access.scope_kb_articles`).
- Status moves only along `TRANSITIONS`. Every create, edit, status change and restore saves a
  `KbArticleVersion` snapshot with the next `revision`; old versions can be viewed, compared with
  `diff()` and restored (a restore is itself a new revision).
- Search and `suggest()` use the token index of `app.services.kb_search` and see published
  articles only.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models.base import utcnow
from app.models.kb import ARTICLE_STATUSES, CATEGORY_KINDS, KbArticle, KbArticleVersion, KbCategory, KbFeedback
from app.security.access import is_kb_writer, scope_kb_articles
from app.services import audit, kb_search
from app.services.actor import SYSTEM, Actor
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.validation import FieldError, check_bool, check_id, check_int, check_text, check_version

STATUS_LABELS = {"draft": _l("Draft"), "published": _l("Published"), "archived": _l("Archived")}
STATUS_CHOICES = [(k, v) for k, v in STATUS_LABELS.items()]
# Legal status moves: publish a draft, take an article back to draft, archive, revive an archived one.
TRANSITIONS = {
    "draft": ("published", "archived"),
    "published": ("draft", "archived"),
    "archived": ("draft",),
}
CHANGE_LABELS = {"created": _l("Created"), "edited": _l("Edited"), "status": _l("Status changed"),
                 "restored": _l("Restored")}
CONTENT_FIELDS = ("title", "body", "category_id", "tags")
TAG_SPLIT = re.compile(r"[,，;；、\s]+")
MAX_TAG = 32


def status_label(status: str | None) -> str:
    return str(STATUS_LABELS.get(status or "", status or ""))


# --- categories -------------------------------------------------------------------------------

# Business types (业务类型) × problem types (问题类型): each business type gets every problem type.
BUSINESS_TYPES = (
    ("plans", _l("Plans and tariffs")),
    ("broadband", _l("Broadband")),
    ("billing", _l("Bills and charges")),
    ("network", _l("Mobile network")),
    ("vas", _l("Value-added services")),
    ("numbers", _l("Numbers and SIM cards")),
)
PROBLEM_TYPES = (
    ("consultation", _l("Consultations")),
    ("fault", _l("Faults")),
    ("complaint", _l("Complaints")),
    ("request", _l("Service requests")),
)


def ensure_defaults() -> int:
    """Create the shipped categories that do not exist yet (by code); never changes existing ones."""
    existing = {c.code: c for c in db.session.execute(select(KbCategory)).scalars()}
    created = 0
    with force_locale("en"):
        business = [(code, str(name)) for code, name in BUSINESS_TYPES]
        problems = [(code, str(name)) for code, name in PROBLEM_TYPES]
    for b_order, (b_code, b_name) in enumerate(business):
        parent = existing.get(b_code)
        if parent is None:
            parent = KbCategory(code=b_code, name=b_name, kind="business", sort_order=b_order * 10)
            db.session.add(parent)
            db.session.flush()
            created += 1
        for p_order, (p_code, p_name) in enumerate(problems):
            code = f"{b_code}.{p_code}"
            if code not in existing:
                db.session.add(KbCategory(code=code, name=p_name, kind="problem", parent_id=parent.id,
                                          sort_order=p_order * 10))
                created += 1
    db.session.commit()
    return created


def categories() -> list[KbCategory]:
    """Every category in tree order (parents before their children)."""
    rows = list(db.session.execute(select(KbCategory).order_by(KbCategory.sort_order, KbCategory.id)).scalars())
    by_parent: dict[int | None, list[KbCategory]] = {}
    for c in rows:
        by_parent.setdefault(c.parent_id, []).append(c)
    out: list[KbCategory] = []

    def walk(parent: int | None) -> None:
        for c in by_parent.get(parent, []):
            if c not in out:
                out.append(c)
                walk(c.id)

    walk(None)
    return out


def category_choices() -> list[tuple[str, str]]:
    return [(str(c.id), c.path_label()) for c in categories()]


def descendant_ids(category_id: int) -> list[int]:
    """The category and every category below it."""
    pairs = db.session.execute(select(KbCategory.id, KbCategory.parent_id)).all()
    children: dict[int | None, list[int]] = {}
    for cid, parent in pairs:
        children.setdefault(parent, []).append(cid)
    if category_id not in {cid for cid, _p in pairs}:
        return []
    out, todo = [], [category_id]
    while todo:
        cid = todo.pop()
        if cid in out:
            continue
        out.append(cid)
        todo.extend(children.get(cid, []))
    return out


def _category_id(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if hasattr(value, "id"):
        value = value.id
    cid = check_id(value)
    if cid is None or db.session.get(KbCategory, cid) is None:
        raise FieldError(_("Unknown category."))
    return cid


def _require_writer(actor: Actor) -> None:
    if not is_kb_writer(actor):
        raise Forbidden()


CATEGORY_FIELDS = ("code", "name", "kind", "parent_id", "sort_order")


def _clean_category(data: dict[str, Any], existing: KbCategory | None) -> dict[str, Any]:
    data = dict(data)
    if "parent" in data and "parent_id" not in data:
        data["parent_id"] = data.pop("parent")
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    spec = {
        "code": lambda v: check_text(v, 48, required=True),
        "name": lambda v: check_text(v, 64, required=True),
        "kind": lambda v: _choice(v or "business", CATEGORY_KINDS),
        "parent_id": _category_id,
        "sort_order": lambda v: check_int(0 if v in (None, "") else v, minimum=0, maximum=100000),
    }
    if existing is None:
        for required in ("code", "name"):
            if data.get(required) in (None, ""):
                errors[required] = _("This field is required.")
    for name, fn in spec.items():
        if name in data and name not in errors:
            try:
                out[name] = fn(data[name])
            except FieldError as exc:
                errors[name] = str(exc)
    if (existing is not None and out.get("parent_id") is not None and "parent_id" not in errors
            and out["parent_id"] in descendant_ids(existing.id)):
        errors["parent"] = _("A category cannot be placed below itself.")
    if "code" in out and "code" not in errors:
        other = db.session.execute(select(KbCategory.id).where(KbCategory.code == out["code"])).scalar()
        if other is not None and (existing is None or other != existing.id):
            errors["code"] = _("Code %(code)s is already used.", code=out["code"])
    if errors:
        raise Invalid(errors)
    return out


def _choice(value: Any, allowed: tuple[str, ...]) -> str:
    raw = str(value).strip() if value is not None else ""
    if raw not in allowed:
        raise FieldError(_("Not a valid choice: %(value)s.", value=raw))
    return raw


def create_category(data: dict[str, Any], actor: Actor) -> KbCategory:
    _require_writer(actor)
    values = _clean_category(data, None)
    category = KbCategory(**values)
    db.session.add(category)
    db.session.flush()
    audit.record(actor, "create", "kb_category", category.id, {"after": values})
    db.session.commit()
    return category


def update_category(category_id: int, data: dict[str, Any], actor: Actor, version: Any = None) -> KbCategory:
    _require_writer(actor)
    category = db.session.get(KbCategory, category_id)
    if category is None:
        raise NotFound()
    if check_version(version) not in (None, category.version):  # another writer saved it meanwhile
        raise Conflict(current={k: str(getattr(category, k)) for k in CATEGORY_FIELDS if k in data})
    values = _clean_category({k: v for k, v in data.items() if k in (*CATEGORY_FIELDS, "parent")}, category)
    changed = {k: v for k, v in values.items() if getattr(category, k) != v}
    if changed:
        before = {k: getattr(category, k) for k in changed}
        for key, value in changed.items():
            setattr(category, key, value)
        audit.record(actor, "update", "kb_category", category.id, {"before": before, "after": changed})
        db.session.commit()
    return category


def delete_category(category_id: int, actor: Actor) -> None:
    _require_writer(actor)
    category = db.session.get(KbCategory, category_id)
    if category is None:
        raise NotFound()
    used = db.session.execute(select(func.count()).select_from(KbArticle)
                              .where(KbArticle.category_id == category_id)).scalar()
    if used or category.children:
        raise Invalid({"category": _("This category still has articles or sub-categories.")})
    audit.record(actor, "delete", "kb_category", category.id, {"before": {"code": category.code}})
    db.session.delete(category)
    db.session.commit()


# --- articles ---------------------------------------------------------------------------------

def check_tags(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, (list, tuple)):
        parts = [str(v) for v in value]
    elif isinstance(value, str):
        parts = TAG_SPLIT.split(value)
    else:
        raise FieldError(_("Must be text."))
    tags = list(dict.fromkeys(p.strip().lower() for p in parts if p and p.strip()))
    for tag in tags:
        if len(tag) > MAX_TAG:
            raise FieldError(_("A tag may have at most %(n)d characters.", n=MAX_TAG))
    joined = ",".join(tags)
    if len(joined) > 255:
        raise FieldError(_("At most %(n)d characters.", n=255))
    return joined or None


ARTICLE_SPEC = {
    "title": lambda v: check_text(v, 200, required=True),
    "body": lambda v: check_text(v, 100_000, required=True),
    "category_id": _category_id,
    "tags": check_tags,
}


def _clean_article(data: dict[str, Any], creating: bool) -> dict[str, Any]:
    data = dict(data)
    if "category" in data and "category_id" not in data:
        data["category_id"] = data.pop("category")
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if creating:
        for required in ("title", "body"):
            if data.get(required) in (None, ""):
                errors[required] = _("This field is required.")
    for name, fn in ARTICLE_SPEC.items():
        if name in data and name not in errors:
            try:
                out[name] = fn(data[name])
            except FieldError as exc:
                errors["category" if name == "category_id" else name] = str(exc)
    if "status" in data:
        raw = data["status"]
        if raw not in ARTICLE_STATUSES:
            errors["status"] = _("Not a valid choice: %(value)s.", value=raw)
        else:
            out["status"] = raw
    if errors:
        raise Invalid(errors)
    return out


def _save_version(article: KbArticle, actor: Actor, change: str, note: str | None = None) -> KbArticleVersion:
    snap = KbArticleVersion(article_id=article.id, revision=article.revision, title=article.title,
                            body=article.body, category_id=article.category_id, tags=article.tags,
                            status=article.status, change=change, note=note, editor_id=actor.id,
                            created_at=utcnow())
    db.session.add(snap)
    return snap


def _check_transition(old: str, new: str) -> None:
    if new != old and new not in TRANSITIONS.get(old, ()):
        raise Invalid({"status": _("An article cannot go from %(old)s to %(new)s.",
                                   old=status_label(old), new=status_label(new))})


def create(data: dict[str, Any], actor: Actor, source_ticket_id: int | None = None) -> KbArticle:
    """A new article (a draft unless `status` says otherwise), revision 1."""
    _require_writer(actor)
    values = _clean_article({k: v for k, v in data.items() if k in (*CONTENT_FIELDS, "category", "status")},
                            creating=True)
    status = values.pop("status", "draft")
    if status not in ("draft", "published"):
        raise Invalid({"status": _("A new article is a draft or published.")})
    now = utcnow()
    article = KbArticle(**values, status=status, author_id=actor.id, updated_by_id=actor.id, revision=1,
                        source_ticket_id=source_ticket_id, created_at=now, updated_at=now,
                        published_at=now if status == "published" else None)
    db.session.add(article)
    db.session.flush()
    _save_version(article, actor, "created")
    kb_search.reindex(article)
    audit.record(actor, "create", "kb_article", article.id,
                 {"after": {"title": article.title, "status": status, "category_id": article.category_id,
                            "tags": article.tags, "source_ticket_id": source_ticket_id}})
    db.session.commit()
    return article


def get(article_id: int, actor: Actor) -> KbArticle:
    """The article if the actor may read it, else NotFound."""
    aid = check_id(article_id)
    if aid is None:
        raise NotFound()
    stmt = scope_kb_articles(select(KbArticle).where(KbArticle.id == aid), actor)
    article = db.session.execute(stmt).scalar()
    if article is None:
        raise NotFound()
    return article


def _check_version(article: KbArticle, version: Any) -> None:
    if version in (None, ""):
        return
    try:
        stale = int(version) != article.version
    except (TypeError, ValueError):
        raise Invalid({"version": _("Not a valid version: %(value)s.", value=version)}) from None
    if stale:
        raise Conflict(current={"title": article.title, "status": status_label(article.status),
                                "revision": article.revision})


def update(article_id: int, data: dict[str, Any], actor: Actor, version: Any = None) -> KbArticle:
    """Edit content and/or status; any change is saved as the next revision."""
    _require_writer(actor)
    article = get(article_id, actor)
    _check_version(article, version)
    values = _clean_article({k: v for k, v in data.items() if k in (*CONTENT_FIELDS, "category", "status")},
                            creating=False)
    return _apply(article, values, actor, "edited")


def _apply(article: KbArticle, values: dict[str, Any], actor: Actor, change: str,
           note: str | None = None) -> KbArticle:
    changed = {k: v for k, v in values.items() if getattr(article, k) != v}
    if not changed:
        return article
    if "status" in changed:
        _check_transition(article.status, changed["status"])
        if len(changed) == 1 and change == "edited":
            change = "status"
    before = {k: getattr(article, k) for k in changed if k != "body"}
    for key, value in changed.items():
        setattr(article, key, value)
    now = utcnow()
    if changed.get("status") == "published":
        article.published_at = now
    article.revision = (article.revision or 0) + 1
    article.updated_by_id = actor.id
    article.updated_at = now
    _save_version(article, actor, change, note)
    if set(changed) & set(CONTENT_FIELDS):
        kb_search.reindex(article)
    after = {k: v for k, v in changed.items() if k != "body"}
    if "body" in changed:
        after["body"] = _("(changed)")
    audit.record(actor, "update", "kb_article", article.id,
                 {"before": before, "after": after, "revision": article.revision, "change": change})
    db.session.commit()
    return article


def transition(article_id: int, status: str, actor: Actor) -> KbArticle:
    _require_writer(actor)
    article = get(article_id, actor)
    if status not in ARTICLE_STATUSES:
        raise Invalid({"status": _("Not a valid choice: %(value)s.", value=status)})
    _check_transition(article.status, status)
    return _apply(article, {"status": status}, actor, "status")


def versions(article_id: int, actor: Actor) -> list[KbArticleVersion]:
    article = get(article_id, actor)
    return list(db.session.execute(select(KbArticleVersion).where(KbArticleVersion.article_id == article.id)
                                   .order_by(KbArticleVersion.revision.desc())).scalars())


def get_version(article_id: int, revision: int, actor: Actor) -> KbArticleVersion:
    article = get(article_id, actor)
    snap = db.session.execute(select(KbArticleVersion).where(KbArticleVersion.article_id == article.id,
                                                             KbArticleVersion.revision == revision)).scalar()
    if snap is None:
        raise NotFound()
    return snap


def restore(article_id: int, revision: int, actor: Actor) -> KbArticle:
    """Bring back an old revision's title, body, category and tags as a new revision (status stays)."""
    _require_writer(actor)
    snap = get_version(article_id, revision, actor)
    article = snap.article
    values = {k: getattr(snap, k) for k in CONTENT_FIELDS}
    return _apply(article, values, actor, "restored", note=f"r{revision}")


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "add", "del"
    text: str


def _as_lines(title: str, category: str, tags: str | None, body: str) -> list[str]:
    return [f"# {title}", f"[{category}] {tags or ''}".rstrip(), "", *(body or "").splitlines()]


def diff(article_id: int, old_revision: int, new_revision: int | None, actor: Actor) -> list[DiffLine]:
    """Line diff from one revision to another (`None`: the current article)."""
    old = get_version(article_id, old_revision, actor)
    new = get_version(article_id, new_revision, actor) if new_revision is not None else get(article_id, actor)
    names = {c.id: c.path_label() for c in categories()}
    a = _as_lines(old.title, names.get(old.category_id, ""), old.tags, old.body)
    b = _as_lines(new.title, names.get(new.category_id, ""), new.tags, new.body)
    out: list[DiffLine] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out += [DiffLine("same", line) for line in a[i1:i2]]
        else:
            out += [DiffLine("del", line) for line in a[i1:i2]]
            out += [DiffLine("add", line) for line in b[j1:j2]]
    return out


# --- feedback ---------------------------------------------------------------------------------

def feedback(article_id: int, helpful: Any, comment: Any, actor: Actor) -> KbArticle:
    """Record the actor's "was this helpful?" vote (one per person; a new vote replaces the old)."""
    if actor.id is None:
        raise Forbidden()
    article = get(article_id, actor)
    if article.status != "published":
        raise Invalid({"helpful": _("Only published articles take feedback.")})
    if helpful in (None, ""):
        raise Invalid({"helpful": _("This field is required.")})
    vote = check_bool(helpful)
    try:
        note = check_text(comment, 2000)
    except FieldError as exc:
        raise Invalid({"comment": str(exc)}) from None
    previous = db.session.execute(select(KbFeedback).where(KbFeedback.article_id == article.id,
                                                           KbFeedback.user_id == actor.id)).scalar()
    delta = {"helpful_count": 0, "not_helpful_count": 0}
    if previous is None:
        db.session.add(KbFeedback(article_id=article.id, user_id=actor.id, helpful=vote, comment=note))
        delta["helpful_count" if vote else "not_helpful_count"] += 1
    else:
        if previous.helpful != vote:
            delta["not_helpful_count" if vote else "helpful_count"] -= 1
            delta["helpful_count" if vote else "not_helpful_count"] += 1
        previous.helpful = vote
        previous.comment = note if note is not None else previous.comment
    # Counted in SQL, not read-modify-write: two votes at once both count; editors see no conflict.
    db.session.execute(sql_update(KbArticle).where(KbArticle.id == article.id).values(
        helpful_count=KbArticle.helpful_count + delta["helpful_count"],
        not_helpful_count=KbArticle.not_helpful_count + delta["not_helpful_count"],
    ).execution_options(synchronize_session=False))
    audit.record(actor, "feedback", "kb_article", article.id, {"helpful": vote, "comment": note})
    db.session.commit()
    db.session.refresh(article)
    return article


def my_feedback(article_id: int, actor: Actor) -> KbFeedback | None:
    if actor.id is None:
        return None
    return db.session.execute(select(KbFeedback).where(KbFeedback.article_id == article_id,
                                                       KbFeedback.user_id == actor.id)).scalar()


def recent_feedback(article_id: int, actor: Actor, limit: int = 20) -> list[KbFeedback]:
    article = get(article_id, actor)
    return list(db.session.execute(select(KbFeedback).where(KbFeedback.article_id == article.id)
                                   .order_by(KbFeedback.updated_at.desc(), KbFeedback.id.desc())
                                   .limit(limit)).scalars())


# --- search and suggestions -------------------------------------------------------------------

def recent(actor: Actor, category_id: Any = None, limit: int = 20) -> list[KbArticle]:
    """The most recently updated published articles (the search page before a query)."""
    stmt = select(KbArticle).where(KbArticle.status == "published").options(selectinload(KbArticle.category))
    if category_id not in (None, ""):
        cid = check_id(category_id)
        ids = descendant_ids(cid) if cid else []
        stmt = stmt.where(KbArticle.category_id.in_(ids or [-1]))
    stmt = scope_kb_articles(stmt, actor).order_by(KbArticle.updated_at.desc(), KbArticle.id.desc()).limit(limit)
    return list(db.session.execute(stmt).scalars())


@dataclass(frozen=True)
class Result:
    article: KbArticle
    score: float
    matched: int
    snippet: tuple[str, str, str]


def search(query: Any, actor: Actor, category_id: Any = None, limit: int = 20, offset: int = 0) -> list[Result]:
    """Published articles matching the query text, best first; optionally within a category subtree."""
    try:
        text = check_text(query, 200, required=True)
    except FieldError as exc:
        raise Invalid({"q": str(exc)}) from None
    category_ids = None
    if category_id not in (None, ""):
        try:
            cid = _category_id(category_id)
        except FieldError as exc:
            raise Invalid({"category_id": str(exc)}) from None
        category_ids = descendant_ids(cid) if cid is not None else None
    toks = kb_search.query_tokens(text)
    hits = kb_search.find(toks, min_matches=kb_search.required_matches(len(toks)), category_ids=category_ids,
                          limit=max(1, min(int(limit), 100)), offset=max(0, int(offset)))
    return _results(hits, toks, actor)


def _results(hits: list[kb_search.Hit], toks: list[str], actor: Actor) -> list[Result]:
    if not hits:
        return []
    stmt = scope_kb_articles(select(KbArticle).where(KbArticle.id.in_([h.article_id for h in hits]))
                             .options(selectinload(KbArticle.category)), actor)
    articles = {a.id: a for a in db.session.execute(stmt).scalars()}
    return [Result(articles[h.article_id], h.score, h.matched, kb_search.snippet(articles[h.article_id].body, toks))
            for h in hits if h.article_id in articles]


def suggest(text: str, limit: int = 5) -> list[KbArticle]:
    """Published articles most relevant to a ticket's text (subject + description), best first.

    Greeting and filler bigrams are ignored; with two or more topic tokens, an article must share at
    least two of them, so one common word does not drag in unrelated articles.
    """
    toks = kb_search.query_tokens(text, drop_stop=True)
    if not toks:
        return []
    hits = kb_search.find(toks, min_matches=min(2, len(toks)), limit=max(1, min(int(limit), 50)))
    return [r.article for r in _results(hits, toks, SYSTEM)]


# --- from a resolved ticket -------------------------------------------------------------------

RESOLVED_TICKET_STATUSES = ("resolved", "closed")
# Ticket type → problem type of the shipped categories (the business type is the agent's choice).
_TICKET_PROBLEM = {"consultation": "consultation", "complaint": "complaint", "fault": "fault",
                   "billing_dispute": "complaint", "plan_change": "request"}


def ticket_prefill(ticket_id: int, actor: Actor) -> dict[str, Any]:
    """Draft fields from a resolved/closed ticket the actor may see: title from the subject, body
    from the description and resolution (and a complaint's process and result)."""
    _require_writer(actor)
    try:
        from app.models.ticket import Ticket
        from app.security.access import scope_tickets
    except ImportError:
        raise NotFound() from None
    tid = check_id(ticket_id)
    if tid is None:
        raise NotFound()
    ticket = db.session.execute(scope_tickets(select(Ticket).where(Ticket.id == tid), actor)).scalar()
    if ticket is None:
        raise NotFound()
    if ticket.status not in RESOLVED_TICKET_STATUSES:
        raise Invalid({"ticket": _("Only a resolved or closed ticket can become an article.")})
    sections = [
        (_("Problem"), ticket.description),
        (_("Complaint process"), getattr(ticket, "complaint_process", None)),
        (_("Complaint result"), getattr(ticket, "complaint_result", None)),
        (_("Solution"), getattr(ticket, "resolution", None)),
    ]
    body = "\n\n".join(f"{title}\n{text.strip()}" for title, text in sections if text and text.strip())
    category_id = None
    problem = _TICKET_PROBLEM.get(getattr(ticket, "ticket_type", "") or "")
    if problem:
        business = _guess_business(" ".join(filter(None, [ticket.subject, ticket.description,
                                                           getattr(ticket, "category", None)])))
        if business:
            category_id = db.session.execute(select(KbCategory.id)
                                             .where(KbCategory.code == f"{business}.{problem}")).scalar()
    return {"title": (ticket.subject or "")[:200], "body": body, "category_id": category_id,
            "tags": getattr(ticket, "category", None) or "", "source_ticket_id": ticket.id,
            "ticket_no": getattr(ticket, "ticket_no", str(ticket.id))}


_BUSINESS_WORDS = {
    "broadband": ("宽带", "光猫", "路由", "网速", "断网", "broadband", "wifi"),
    "billing": ("账单", "欠费", "扣费", "话费", "缴费", "退费", "bill"),
    "plans": ("套餐", "资费", "plan"),
    "network": ("信号", "基站", "通话", "5g", "4g"),
    "vas": ("彩铃", "来电显示", "会员", "流量包", "增值"),
    "numbers": ("补卡", "过户", "携号转网", "销户", "sim"),
}


def _guess_business(text: str) -> str | None:
    low = kb_search.normalize(text)
    best = max(_BUSINESS_WORDS, key=lambda k: sum(low.count(w) for w in _BUSINESS_WORDS[k]))
    return best if any(w in low for w in _BUSINESS_WORDS[best]) else None


def create_from_ticket(ticket_id: int, data: dict[str, Any], actor: Actor) -> KbArticle:
    """A draft written from a resolved ticket (the form may have edited the pre-filled fields)."""
    prefill = ticket_prefill(ticket_id, actor)
    values = {k: data.get(k, prefill.get(k)) for k in ("title", "body", "category_id", "tags")}
    return create({**values, "status": "draft"}, actor, source_ticket_id=prefill["source_ticket_id"])


# --- demo content -----------------------------------------------------------------------------

DEMO_ARTICLES = (
    ("broadband.fault", "宽带无法上网怎么办", "宽带,断网,光猫",
     "1. 重启光猫和路由器，等待两分钟。\n2. 查看光猫 LOS 灯：红灯或闪烁表示光纤中断，请登记故障工单安排上门。\n"
     "3. 电脑能上网而手机不能时，检查无线密码和路由器设置。\n4. 仍无法上网时，确认账户是否欠费停机。"),
    ("broadband.fault", "宽带网速慢的排查步骤", "宽带,网速,测速",
     "1. 用网线直连电脑测速，排除无线干扰。\n2. 核对套餐带宽与测速结果。\n3. 高峰时段偏慢属正常波动；"
     "持续低于套餐带宽 70% 时登记故障。"),
    ("billing.consultation", "欠费停机后如何复机", "欠费,停机,复机,缴费",
     "缴清欠费后系统自动复机，一般 30 分钟内恢复，最长不超过 2 小时。\n可通过营业厅、App、支付宝或微信缴费。"),
    ("billing.complaint", "对账单金额有异议的处理", "账单,争议,扣费",
     "1. 核对账单明细：套餐费、增值业务费、超出套餐的语音和流量费用。\n2. 对未订购的增值业务扣费，登记账单争议工单，"
     "核实后退费。\n3. 向客户说明处理时限：5 个工作日内答复。"),
    ("plans.consultation", "如何变更套餐", "套餐,变更,资费",
     "套餐变更次月生效。合约期内的套餐只能升档不能降档。办理渠道：营业厅、App、客服热线。"),
    ("plans.request", "融合套餐包含哪些业务", "融合,套餐,宽带,IPTV",
     "融合套餐把手机、宽带和 IPTV 合在一张账单上。任一业务欠费时，整张账单按欠费处理。"),
    ("network.fault", "手机信号差或无法通话", "信号,通话,基站",
     "1. 重启手机，检查是否开启飞行模式。\n2. 确认是否欠费停机。\n3. 固定地点长期信号差时，记录地址并登记网络故障工单，"
     "由网络优化部门勘察。"),
    ("vas.consultation", "如何退订增值业务", "增值业务,退订,彩铃",
     "发送短信“0000”到客服号码可查询并退订增值业务；也可在 App 的“已订业务”中退订。退订当月费用照常收取。"),
    ("numbers.request", "补办 SIM 卡需要什么材料", "补卡,SIM,身份证",
     "本人携带有效身份证件到营业厅办理；补卡后原卡失效，号码和套餐不变。"),
    ("numbers.consultation", "携号转网的条件", "携号转网,合约",
     "号码需实名登记、无欠费、不在合约期内，并且入网满 120 天。发送短信“CXXZ#姓名#证件号码”查询是否符合条件。"),
)


def seed_demo_articles(actor: Actor = SYSTEM) -> int:
    """Published demo articles for a demo install (skips titles that exist); returns how many were added."""
    existing = set(db.session.execute(select(KbArticle.title)).scalars())
    codes = {c.code: c.id for c in db.session.execute(select(KbCategory)).scalars()}
    added = 0
    for code, title, tags, body in DEMO_ARTICLES:
        if title in existing:
            continue
        create({"title": title, "body": body, "tags": tags, "category_id": codes.get(code), "status": "published"},
               actor)
        added += 1
    return added
