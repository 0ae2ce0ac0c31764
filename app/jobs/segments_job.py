"""Nightly value segmentation: score, segment and at-risk flag of every open customer, set-based."""

from __future__ import annotations

import datetime as dt

from app.services import segments


def run(now: dt.datetime) -> dict:
    return segments.recompute(now).as_dict()
