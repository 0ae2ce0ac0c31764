"""Dashboard figures: recompute the manager, customer-analysis and churn-factor snapshots."""

from __future__ import annotations

import datetime as dt

from app.services import kpi_refresh


def run(now: dt.datetime) -> dict:
    took = kpi_refresh.refresh(now=now)
    return {f"{kind}_ms": ms for kind, ms in took.items()}
