"""Simplified Chinese (default) and English ship complete, through Babel.

Catalogues: translations/{zh,en}/LC_MESSAGES/messages.po, refreshed with `make extract`
(source → messages.pot → both catalogues; English msgstr filled from the msgid), then translate the
new zh entries and `make translations` (compiles the .mo files, which are build output).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
LOCALES = ("zh", "en")

# %(name)s, %(n)d, %s, %.2f … (python-format) and {name} (str.format); "%%" is a literal percent.
_PERCENT = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])"
)
_BRACES = re.compile(r"(?<!\{)\{(?P<name>[A-Za-z_][\w.]*|\d*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")


def _po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _key(msg: Message) -> tuple[str | None, str]:
    msgid = msg.id[0] if isinstance(msg.id, (list, tuple)) else msg.id
    return msg.context, msgid


def _entries(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id]


def _strings(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value or ""]


def _placeholders(text: str) -> Counter[str]:
    found: Counter[str] = Counter()
    for m in _PERCENT.finditer(text):
        name, conv = m.group("name"), m.group("conv")
        if conv != "%":
            found[f"%({name}){conv}" if name is not None else f"%{conv}"] += 1
    for m in _BRACES.finditer(text):
        found["{" + m.group("name") + "}"] += 1
    return found


def _makefile_keywords() -> dict:
    """The extraction keywords: Babel's defaults plus the Makefile's BABEL_KEYWORDS (-k …)."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    line = re.search(r"^BABEL_KEYWORDS\s*:?=(.*)$", makefile, re.MULTILINE)
    assert line, "Makefile defines BABEL_KEYWORDS for `make extract`"
    specs = re.findall(r"-k\s+(\S+)", line.group(1))
    return {**DEFAULT_KEYWORDS, **parse_keywords(specs)}


def _extract_source() -> dict[tuple[str | None, str], list[str]]:
    """What `make extract` would find today: (context, msgid) → where it is used."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, filename="babel.cfg")
    found: dict[tuple[str | None, str], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=_makefile_keywords(),
    ):
        msgid = message[0] if isinstance(message, (list, tuple)) else message
        if msgid:
            found.setdefault((context, msgid), []).append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def catalogues() -> dict[str, Catalog]:
    return {locale: _read(_po_path(locale), locale) for locale in LOCALES}


@pytest.fixture(scope="module")
def extracted() -> dict[tuple[str | None, str], list[str]]:
    return _extract_source()


# --- (a) every entry translated, nothing fuzzy -------------------------------------------------------

@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_is_complete(catalogues: dict[str, Catalog], locale: str) -> None:
    catalog = catalogues[locale]
    assert _entries(catalog), f"{_po_path(locale)} has no messages"
    assert not catalog.fuzzy, f"{_po_path(locale)}: the header is marked fuzzy (pybabel would skip it)"
    untranslated = [m.id for m in _entries(catalog) if not all(s.strip() for s in _strings(m.string))]
    fuzzy = [m.id for m in _entries(catalog) if m.fuzzy]
    assert not untranslated, f"{locale}: untranslated entries (translate, then `make translations`): {untranslated}"
    assert not fuzzy, f"{locale}: fuzzy entries (check the wording and drop the fuzzy flag): {fuzzy}"


def test_chinese_catalogue_is_chinese(catalogues: dict[str, Catalog]) -> None:
    """A zh msgstr copied from the English msgid is a forgotten translation (short codes excepted)."""
    allowed = {"SMS", "IP", "ID", "Email", "CRM", "VAS", "ROC AUC", "PR AUC"}
    copied = [m.id for m in _entries(catalogues["zh"])
              if _strings(m.string) == _strings(m.id) and m.id not in allowed]
    assert not copied, f"zh entries still in English: {copied}"


# --- (b) the catalogues are up to date with the source -----------------------------------------------

def test_every_source_string_is_in_the_catalogues(extracted: dict, catalogues: dict[str, Catalog]) -> None:
    assert extracted, "extraction found no strings: is babel.cfg right?"
    pot = _read(TRANSLATIONS / "messages.pot")
    pot_keys = {_key(m) for m in _entries(pot)}
    for name, catalog in (("messages.pot", None), *catalogues.items()):
        keys = pot_keys if catalog is None else {_key(m) for m in _entries(catalog)}
        missing = {f"{msgid!r} ({', '.join(where[:2])})" for (ctx, msgid), where in extracted.items()
                   if (ctx, msgid) not in keys}
        assert not missing, (
            f"{name} lacks strings used in the source; run `make extract`, translate the new zh entries, "
            f"then `make translations`: {sorted(missing)}"
        )


# --- (c) placeholders survive translation -------------------------------------------------------------

@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_match(catalogues: dict[str, Catalog], locale: str) -> None:
    wrong = []
    for msg in _entries(catalogues[locale]):
        expected = _placeholders(_strings(msg.id)[-1])
        for text in _strings(msg.string):
            if text and _placeholders(text) != expected:
                wrong.append(f"{msg.id!r} → {text!r}")
    assert not wrong, f"{locale}: placeholders differ from the msgid: {wrong}"


def test_placeholder_helper() -> None:
    assert _placeholders("Must be at least %(n)d.") == Counter({"%(n)d": 1})
    assert _placeholders("客户 %(name)s（#%(id)d）, 100%% ") == Counter({"%(name)s": 1, "%(id)d": 1})
    assert _placeholders("{count} items, {{literal}}") == Counter({"{count}": 1})


# --- (d) pages render in Chinese by default and switch to English -------------------------------------

@pytest.fixture(scope="module")
def compiled(app):  # noqa: ANN001, ANN201
    """Compile stale or missing .mo files (normally `make translations` did) and reload them."""
    from flask_babel import get_domain

    changed = False
    for locale in LOCALES:
        po, mo = _po_path(locale), _po_path(locale).with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with mo.open("wb") as fh:
                write_mo(fh, _read(po, locale), use_fuzzy=True)
            changed = True
    if changed:
        with app.app_context():
            get_domain().cache.clear()
    return app


@pytest.fixture
def customer(compiled):  # noqa: ANN001, ANN201
    """One customer, so the list shows its columns (an empty list shows only "No records found")."""
    from tests.conftest import actor_for
    from tests.factories import make_customer

    with compiled.app_context():
        return make_customer(actor_for("manager")).id


MENU_ZH = ("客户", "业务", "账务")
LIST_ZH = ("手机号", "身份证号", "运营商", "客户编号", "客户分层")
LIST_EN = ("Mobile", "Resident ID number", "Carrier", "Customer No.", "Segment")
FAB_ZH = ("搜索", "添加过滤条件", "新增记录", "退出登录")


def _page(client, url: str) -> str:  # noqa: ANN001
    resp = client.get(url)
    assert resp.status_code == 200, f"GET {url}: {resp.status_code}"
    return resp.get_data(as_text=True)


def test_login_page_is_chinese_by_default(compiled, client) -> None:  # noqa: ANN001
    body = _page(client, "/login/")
    for text in ("用户名", "密码", "登录", "请在下面输入您的用户名和密码"):
        assert text in body, f"login page lacks {text!r}"


def test_pages_default_to_chinese(customer, as_user) -> None:  # noqa: ANN001
    client = as_user("clerk1")
    body = _page(client, "/customers/list/")
    for text in MENU_ZH + LIST_ZH + FAB_ZH + ("搜索客户：姓名、手机号或身份证号",):
        assert text in body, f"customers list (zh) lacks {text!r}"
    for text in ("Resident ID number", "Add a new record", "Search customers"):
        assert text not in body, f"customers list (zh) still shows {text!r}"
    assert 'href="/lang/en"' in body, "the language menu offers English"


def test_language_switch_to_english_and_back(customer, as_user) -> None:  # noqa: ANN001
    client = as_user("clerk1")
    assert client.get("/lang/en").status_code == 302
    body = _page(client, "/customers/list/")
    for text in LIST_EN + ("Customers", "Billing", "Search customers: name, mobile or resident ID"):
        assert text in body, f"customers list (en) lacks {text!r}"
    for text in ("手机号", "身份证号", "账务"):
        assert text not in body, f"customers list (en) still shows {text!r}"

    assert client.get("/lang/zh").status_code == 302
    body = _page(client, "/customers/list/")
    for text in MENU_ZH + LIST_ZH:
        assert text in body, f"customers list (back to zh) lacks {text!r}"


def test_service_messages_follow_the_language(compiled) -> None:  # noqa: ANN001
    """Strings translated in Python code (services, flashes) use the request's language too."""
    from flask_babel import gettext

    app = compiled
    with app.test_request_context("/?_l_=zh"):
        assert gettext("Mobile number is required.") == "请填写手机号。"
        assert gettext("Must be at least %(n)d.", n=3) == "不能小于 3。"
    with app.test_request_context("/?_l_=en"):
        assert gettext("Mobile number is required.") == "Mobile number is required."
