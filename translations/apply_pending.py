"""Merge zh translations kept beside the code (translations/pending/*.json) into the zh catalogue.

Areas developed in parallel each keep {"English msgid": "中文"} in pending/<area>.json, so nobody edits
messages.po concurrently. After `make extract`, run this: every zh entry that is empty or fuzzy and has
a pending translation takes it; the JSON files can then be deleted. Prints what is still missing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent


def main() -> int:
    pending: dict[str, str] = {}
    for path in sorted((HERE / "pending").glob("*.json")):
        pending.update(json.loads(path.read_text(encoding="utf-8")))
    po = HERE / "zh" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale="zh")
    applied, missing = 0, []
    for msg in catalog:
        if not msg.id or msg.pluralizable:
            continue
        empty = not msg.string or "fuzzy" in msg.flags
        if empty and msg.id in pending:
            msg.string = pending[msg.id]
            msg.flags.discard("fuzzy")
            applied += 1
        elif empty:
            missing.append(msg.id)
    with po.open("wb") as fh:
        write_po(fh, catalog, width=76)
    print(f"zh: applied {applied} pending translations; {len(missing)} still missing")
    for msgid in missing:
        print(f"  - {msgid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
