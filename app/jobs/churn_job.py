"""Churn model: retrain weekly (a new version with its metrics) and score every open customer."""

from __future__ import annotations

import datetime as dt

from app.services import churn


def train(now: dt.datetime) -> dict:
    return churn.train_and_score(now=now, trained_by="scheduler")


def score(now: dt.datetime) -> dict:
    return churn.score_all(now=now)
