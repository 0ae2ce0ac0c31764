"""Building valid identity values (demo data, tests, import previews)."""

from __future__ import annotations

import datetime as dt

from stdnum.cn import ric

# A few real administrative region codes (GB/T 2260) with their city, for demo data.
REGIONS = (
    ("110105", "北京"), ("310104", "上海"), ("440106", "广州"), ("440305", "深圳"),
    ("330106", "杭州"), ("320102", "南京"), ("510107", "成都"), ("420111", "武汉"),
    ("610113", "西安"), ("500103", "重庆"), ("120101", "天津"), ("370102", "济南"),
)


def make_id_number(region: str, birth: dt.date, sequence: int, gender: str) -> str:
    """An 18-character resident ID whose check character is right (GB 11643-1999).

    `sequence` 0–499 picks the 3-digit order code; its last digit is odd for men, even for women.
    """
    order = (sequence % 500) * 2 + (1 if gender == "M" else 0)
    body = f"{region}{birth:%Y%m%d}{order:03d}"
    # stdnum expects a placeholder check character on the end.
    return body + ric.calc_check_digit(body + "0")
