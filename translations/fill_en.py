"""Fill the English catalogue from the message ids and list what zh still needs.

Run by `make extract` after `pybabel update`. Message ids are English, so an empty English msgstr
takes its msgid (plural entries take msgid / msgid_plural). Existing English wording is kept.
Exits 0 either way; tests/test_i18n.py is what fails on an untranslated or fuzzy entry.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Message
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent


def _po(locale: str) -> Path:
    return HERE / locale / "LC_MESSAGES" / "messages.po"


def _is_empty(msg: Message) -> bool:
    strings = msg.string if isinstance(msg.string, (list, tuple)) else [msg.string]
    return not all(strings)


def fill_english() -> int:
    path = _po("en")
    with path.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    filled = 0
    for msg in catalog:
        if not msg.id:
            continue
        if "fuzzy" in msg.flags:
            msg.flags.discard("fuzzy")
        if _is_empty(msg):
            msg.string = tuple(msg.id) if msg.pluralizable else msg.id
            filled += 1
    with path.open("wb") as fh:
        write_po(fh, catalog, width=76)
    return filled


def missing_chinese() -> list[str]:
    with _po("zh").open("rb") as fh:
        catalog = read_po(fh, locale="zh")
    return [m.id if isinstance(m.id, str) else m.id[0] for m in catalog
            if m.id and (_is_empty(m) or "fuzzy" in m.flags)]


def main() -> int:
    print(f"en: filled {fill_english()} entries from their msgid")
    todo = missing_chinese()
    if todo:
        print(f"zh: {len(todo)} entries need a translation in {_po('zh').relative_to(HERE.parent)}:")
        for msgid in todo:
            print(f"  - {msgid}")
    else:
        print("zh: complete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
