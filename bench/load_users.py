"""Simulated CRM users for `bench/bench_load.py`: one thread and one signed-in `requests.Session` each.

Each user repeats a short piece of real work, with think time between the pages they read:

- clerk: find a customer by mobile, resident ID or name (the quick-search box, then the 360 page or the
  filtered list), and edit a customer (GET the form, POST it back with its CSRF token and version);
- agent: the ticket queue, open a ticket of their own, add a note or change its status (ask the customer
  and wait / record the customer's reply);
- sales: the lead list, open a lead and log a contact with a call-back date (which makes a follow-up task);
  the opportunity board;
- care: "My follow-ups" (today / overdue / next 7 days) and complete a task with an outcome.

Two sessions of one account never touch the same record (`slot`/`slots`: record id modulo the sessions
of that account), so a 409 means a real lost-update guard firing, not the benchmark racing itself.
A POST's success is judged on the page it redirects to: a red flash ("alert-danger") is an error.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlparse
from zoneinfo import ZoneInfo

import requests
from load_stats import CONFLICT, ERROR, OK, Stats

CSRF_RE = (re.compile(r'name="csrf_token"[^>]*?value="([^"]*)"'), re.compile(r'value="([^"]*)"[^>]*?name="csrf_token"'))
ALERT_RE = re.compile(r'class="alert alert-danger">(.*?)<', re.S)
TIMEOUT = 60  # seconds: gunicorn's own worker timeout; longer would only hide a hung worker


@dataclass
class Customer:
    id: int
    name: str
    mobile: str
    id_number: str


@dataclass
class Pool:
    """What the users search for and edit (sampled from the database by bench_load)."""

    customers: list[Customer]
    edit_ids: dict[str, list[int]] = field(default_factory=dict)  # per clerk session: its own customers


def business_today(zone: str = "Asia/Shanghai") -> dt.date:
    """The app's business day (CRM_TIMEZONE): a call-back date before it is refused as past."""
    return dt.datetime.now(ZoneInfo(zone)).date()


def csrf_of(html: str) -> str:
    for rx in CSRF_RE:
        m = rx.search(html)
        if m:
            return m.group(1)
    return ""  # CSRF disabled (the test app): nothing to send


def ids_in(html: str, pattern: str) -> list[int]:
    """Distinct record ids in links or form actions matching `pattern` (one group), in page order."""
    seen: dict[int, None] = {}
    for m in re.finditer(pattern, html):
        seen.setdefault(int(m.group(1)), None)
    return list(seen)


class FormParser(HTMLParser):
    """The fields of every form on a page, as a browser would submit them unchanged."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v if v is not None else "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}})
            return
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            fields[name] = a.get("value", "on" if kind == "checkbox" else "")
        elif tag == "select" and name:
            self._select, self._first_option = name, None
            fields[name] = None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                fields[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1]["fields"][self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            fields = self.forms[-1]["fields"]
            if fields.get(self._select) is None:  # no option selected: a browser sends the first
                fields[self._select] = self._first_option or ""
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_with(html: str, field_name: str) -> dict[str, str] | None:
    parser = FormParser()
    parser.feed(html)
    for form in parser.forms:
        if field_name in form["fields"]:
            return dict(form["fields"])
    return None


class User(threading.Thread):
    """One simulated person: signs in, then repeats their role's work until `deadline`."""

    def __init__(self, base_url: str, role: str, username: str, password: str, slot: int, slots: int,
                 pool: Pool, stats: Stats, deadline: float, think: tuple[float, float], seed: int,
                 start_delay: float = 0.0) -> None:
        super().__init__(name=f"{role}-{username}-{slot}", daemon=True)
        self.base, self.role, self.username, self.password = base_url.rstrip("/"), role, username, password
        self.slot, self.slots, self.pool, self.stats = slot, slots, pool, stats
        self.deadline, self.think_range, self.start_delay = deadline, think, start_delay
        self.rng = random.Random(seed)
        self.http = requests.Session()
        self.crashed: str | None = None

    # -- plumbing -------------------------------------------------------------------------------------
    def request(self, op: str, method: str, path: str, expect: tuple[int, ...] = (200,),
                data: dict[str, Any] | None = None) -> requests.Response | None:
        """One timed request (redirects not followed: each hop is its own operation). Returns the response
        when its status is expected, else records an error (409 → conflict) and returns None."""
        url = urljoin(self.base + "/", path.lstrip("/"))
        op = self.stats.name_for(op, time.monotonic())
        t0 = time.perf_counter()
        try:
            try:
                resp = self.http.request(method, url, data=data, allow_redirects=False, timeout=TIMEOUT)
            except requests.ConnectionError as exc:
                # The kept-alive connection was closed by the server (gunicorn's keepalive) just as the
                # request went out: a browser sends it again on a new connection, so do we — once, and
                # counted in the report. Anything else (refused, timeout, a second reset) is an error.
                if "Connection aborted" not in str(exc):
                    raise
                self.stats.note_retry(op)
                resp = self.http.request(method, url, data=data, allow_redirects=False, timeout=TIMEOUT)
        except requests.RequestException as exc:
            self.stats.record(op, (time.perf_counter() - t0) * 1000, ERROR, f"{type(exc).__name__}: {exc}")
            return None
        ms = (time.perf_counter() - t0) * 1000
        location = resp.headers.get("Location", "")
        if resp.status_code in expect and "/login" not in location:
            self.stats.record(op, ms, OK)
            return resp
        outcome = CONFLICT if resp.status_code == 409 else ERROR
        self.stats.record(op, ms, outcome, f"{method} {path} → {resp.status_code} {location} {resp.text[:120]!r}")
        return None

    def follow(self, op: str, post_op: str, resp: requests.Response) -> str | None:
        """GET where a POST redirected to, and fail the POST (not the page) if it shows a red flash."""
        page = self.request(op, "GET", resp.headers["Location"])
        if page is None:
            return None
        alert = ALERT_RE.search(page.text)
        if alert:
            self.stats.fail(post_op, ERROR, "red flash: " + alert.group(1).strip())
        return page.text

    def think(self) -> None:
        time.sleep(max(0.0, min(self.rng.uniform(*self.think_range), self.deadline - time.monotonic())))

    def mine(self, ids: list[int]) -> list[int]:
        return [i for i in ids if i % self.slots == self.slot]

    def login(self) -> bool:
        page = self.request("login", "GET", "/login/")
        if page is None:
            return False
        resp = self.request("login", "POST", "/login/", (302,), {
            "username": self.username, "password": self.password, "csrf_token": csrf_of(page.text)})
        return resp is not None

    def run(self) -> None:
        time.sleep(self.start_delay)
        try:
            if not self.login():
                return
            work = getattr(self, f"work_{self.role}")
            while time.monotonic() < self.deadline:
                work()
                self.think()
        except Exception as exc:  # noqa: BLE001 - a bug in the client must show in the report, not vanish
            self.crashed = f"{self.name}: {type(exc).__name__}: {exc}"
            self.stats.fail("client crash", ERROR, self.crashed)

    # -- clerk ----------------------------------------------------------------------------------------
    def work_clerk(self) -> None:
        c = self.rng.choice(self.pool.customers)
        kind = self.rng.choices(("mobile", "id", "name", "edit"), weights=(3, 2, 2, 2))[0]
        if kind == "edit" and self.pool.edit_ids.get(self.name):
            self.edit_customer(self.rng.choice(self.pool.edit_ids[self.name]))
            return
        query = {"mobile": c.mobile, "id": c.id_number}.get(kind, c.name)
        resp = self.request(f"search by {kind if kind != 'edit' else 'name'}", "GET",
                            f"/customer360/search?q={query}", (302,))
        if resp is None:
            return
        target = resp.headers["Location"]
        self.request("customer 360" if "/customer360/" in target else "customer list (name filter)", "GET", target)

    def edit_customer(self, pk: int) -> None:
        page = self.request("edit customer: form", "GET", f"/customers/edit/{pk}")
        if page is None:
            return
        fields = form_with(page.text, "version")
        if fields is None:
            self.stats.fail("edit customer: form", ERROR, f"no edit form with a version on /customers/edit/{pk}")
            return
        self.think()
        fields["address"] = f"上海市浦东新区压测路{self.rng.randint(1, 9999)}号"
        resp = self.request("edit customer: save", "POST", f"/customers/edit/{pk}", (302, 200), fields)
        if resp is None:
            return
        if resp.status_code == 200:  # the form came back: a conflict warning or a field error
            outcome = CONFLICT if "alert-warning" in resp.text else ERROR
            errors = re.findall(r'class="help-block[^"]*">\s*([^<]+)', resp.text)
            self.stats.fail("edit customer: save", outcome, f"form returned for {pk}: {errors[:3]}")
            return
        # FAB returns to the page before the form: the 360 page, the filtered list, or home for a fresh session
        path = urlparse(resp.headers["Location"]).path
        page = {"/customers/list/": "customer list (name filter)", "/": "home page"}.get(path, "customer 360")
        self.follow(page, "edit customer: save", resp)

    # -- agent ----------------------------------------------------------------------------------------
    def work_agent(self) -> None:
        queue = self.request("ticket queue", "GET", "/tickets/queue?tab=mine")
        if queue is None:
            return
        ids = self.mine(ids_in(queue.text, r'href="/tickets/(\d+)"'))
        if not ids:
            return
        self.think()
        pk = self.rng.choice(ids)
        page = self.request("open ticket", "GET", f"/tickets/{pk}")
        if page is None:
            return
        self.think()
        status = re.search(r'data-status="(\w+)"', page.text)
        status = status.group(1) if status else ""
        data = {"csrf_token": csrf_of(page.text), "action": "note", "body": "已电话联系客户（压测）"}
        op = "ticket status change"
        if status == "waiting_customer":  # the customer answered: back to work
            data.update(action="customer_reply", body="客户已补充信息（压测）")
        elif status == "in_progress" and self.rng.random() < 0.3:
            data.update(action="wait", body="请客户提供截图（压测）")
        elif status in ("new", "assigned", "transferred", "reopened") and self.rng.random() < 0.5:
            data.update(action="take")
        else:
            op = "ticket note"
        resp = self.request(op, "POST", f"/tickets/{pk}/act", (302,), data)
        if resp is not None:
            self.follow("open ticket", op, resp)

    # -- sales ----------------------------------------------------------------------------------------
    def work_sales(self) -> None:
        if self.rng.random() < 0.3:
            self.request("opportunity board", "GET", "/sales/board/")
            return
        leads = self.request("lead list", "GET", "/leads/list/")
        if leads is None:
            return
        ids = self.mine(ids_in(leads.text, r'href="/leads/show/(\d+)"'))
        if not ids:
            return
        self.think()
        pk = self.rng.choice(ids)
        page = self.request("open lead", "GET", f"/leads/show/{pk}")
        if page is None or "crm-sales-log-form" not in page.text:
            return
        self.think()
        resp = self.request("log a contact", "POST", f"/leads/{pk}/log", (302,), {
            "csrf_token": csrf_of(page.text), "method": self.rng.choice(("phone", "wechat", "sms")),
            "content": "介绍了新套餐，客户有兴趣（压测）", "next_step": "发送资费对比",
            # a call-back date makes a follow-up task: what the care users then find on their agenda
            "next_contact_date": (business_today() + dt.timedelta(days=self.rng.choice((0, 0, 1, 3)))).isoformat()})
        if resp is not None:
            self.follow("open lead", "log a contact", resp)

    # -- care -----------------------------------------------------------------------------------------
    def work_care(self) -> None:
        tab = self.rng.choices(("today", "overdue", "week"), weights=(3, 2, 1))[0]
        agenda = self.request(f"my follow-ups ({tab})", "GET", f"/care/?tab={tab}")
        if agenda is None:
            return
        ids = self.mine(ids_in(agenda.text, r'action="/care/tasks/(\d+)/complete"'))
        if not ids:
            return
        self.think()
        pk = self.rng.choice(ids)
        resp = self.request("complete a task", "POST", f"/care/tasks/{pk}/complete", (302,), {
            "csrf_token": csrf_of(agenda.text), "tab": tab,
            "outcome": self.rng.choice(("reached", "reached", "not_reached", "wants_offer")),
            "notes": "已回访（压测）"})
        if resp is not None:
            self.follow(f"my follow-ups ({tab})", "complete a task", resp)
