"""Churn model on the CRM's own tables: training on hand-made history, versions with metrics,
scores for every open customer and reasons that follow the model (big arrears → an arrears reason)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.analytics import ChurnModelVersion, ChurnScore
from app.services import churn
from app.services.errors import Invalid

TODAY = dt.date(2026, 7, 15)
NOW = dt.datetime(2026, 7, 14, 20, 0)  # 04:00 on the 15th in Asia/Shanghai


@pytest.fixture
def history(build):  # noqa: ANN001, ANN201
    """30 customers who stay and pay; 10 who fall into arrears, use less, and close in May 2026."""
    stayers, churners = [], []
    for i in range(30):
        c, s = build.customer(dt.date(2024, 1, 1), fee="99.00")
        build.months(c, s, dt.date(2025, 1, 1), dt.date(2026, 6, 1), 99, data_mb=10240 + 97 * i)
        stayers.append(c)
    for i in range(10):
        c, s = build.customer(dt.date(2024, 1, 1), fee="99.00")
        build.months(c, s, dt.date(2025, 1, 1), dt.date(2025, 11, 1), 99, data_mb=10240 + 131 * i)
        build.months(c, s, dt.date(2025, 12, 1), dt.date(2026, 3, 1), 99, data_mb=2048, voice=40, paid=False)
        build.close(c, s, dt.date(2026, 5, 10))
        churners.append(c)
    return stayers, churners


def _scoring_pair(build):  # noqa: ANN001, ANN202
    debtor, s = build.customer(dt.date(2024, 1, 1), fee="99.00")
    build.months(debtor, s, dt.date(2025, 1, 1), dt.date(2026, 2, 1), 99)
    build.months(debtor, s, dt.date(2026, 3, 1), dt.date(2026, 6, 1), 99, data_mb=2048, voice=40, paid=False)
    clean, s = build.customer(dt.date(2024, 1, 1), fee="99.00")
    build.months(clean, s, dt.date(2025, 1, 1), dt.date(2026, 6, 1), 99)
    return debtor, clean


def test_training_stores_a_version_with_metrics_and_scores_every_open_customer(history, build):  # noqa: ANN001
    debtor, clean = _scoring_pair(build)
    result = churn.train_and_score(now=NOW, trained_by="test")
    version = db.session.execute(select(ChurnModelVersion)).scalar_one()
    assert version.version == 1 and version.active and version.trained_by == "test"
    assert version.algorithm in ("logistic", "gradient_boosting")
    assert version.positives == 10
    assert version.samples == (30 + 10 + 2) * 4  # customers open at each of the 4 cut-offs
    metrics = json.loads(version.metrics)
    assert set(metrics["candidates"]) == {"logistic", "gradient_boosting"}
    chosen = metrics["candidates"][version.algorithm]
    assert version.roc_auc == pytest.approx(chosen["roc_auc"])
    assert version.roc_auc == max(c["roc_auc"] for c in metrics["candidates"].values())
    assert version.roc_auc > 0.9  # arrears and falling use separate the churners cleanly
    # Every open customer scored (30 stayers + 2), none of the closed ones.
    assert result["scored"] == 32
    assert db.session.execute(select(func.count()).select_from(ChurnScore)).scalar() == 32
    risk_debtor, risk_clean = churn.for_customer(debtor.id), churn.for_customer(clean.id)
    assert risk_debtor.score > 0.5 > risk_clean.score
    assert risk_debtor.high and not risk_clean.high
    # The debtor's reasons name the arrears, in plain words with the amount.
    assert {"arrears_amount", "overdue_bills"} & set(risk_debtor.reason_codes[:2])
    assert len(risk_debtor.reasons) <= 3
    assert any(r in ("欠费 ¥297.00", "3 张逾期账单") for r in risk_debtor.reasons), risk_debtor.reasons


def test_reasons_are_the_features_with_the_largest_contributions(history, build):  # noqa: ANN001
    from app.services.churn_pipeline import FittedModel

    debtor, _ = _scoring_pair(build)
    churn.train_and_score(now=NOW)
    model = FittedModel.loads(churn.active_version().artifact)
    frame = churn.features(TODAY, customer_ids=[debtor.id])
    contrib = model.contributions(frame).iloc[0].sort_values(ascending=False)
    expected = [f for f, v in contrib.items() if v > 1e-6][:3]
    codes = churn.for_customer(debtor.id).reason_codes
    # The same three features (ties, e.g. arrears amount and bill count here, may come in either order)…
    assert set(codes) == set(expected)
    # … largest first, and nothing left out is larger than what was kept.
    values = [contrib[c] for c in codes]
    assert all(a >= b - 1e-9 for a, b in zip(values, values[1:], strict=False))
    assert min(values) >= contrib.drop(codes).max() - 1e-9
    assert contrib.index[0] in ("arrears_amount", "overdue_bills", "data_trend", "data_gb_avg")


def test_a_second_training_makes_a_new_active_version(history):  # noqa: ANN001
    churn.train(now=NOW)
    churn.train(now=NOW)
    rows = db.session.execute(select(ChurnModelVersion.version, ChurnModelVersion.active)
                              .order_by(ChurnModelVersion.version)).all()
    assert [tuple(r) for r in rows] == [(1, False), (2, True)]
    assert churn.active_version().version == 2


def test_training_without_churn_history_is_refused_clearly(build):  # noqa: ANN001
    c, s = build.customer(dt.date(2024, 1, 1))
    build.months(c, s, dt.date(2025, 1, 1), dt.date(2026, 6, 1), 99)
    with pytest.raises(Invalid) as err:
        churn.train(now=NOW)
    assert "data" in err.value.errors
    assert churn.score_all(now=NOW) == {"scored": 0, "model": None}


def test_high_risk_high_value_list_follows_row_rules_and_care_can_target_it(history, build, actor):  # noqa: ANN001
    debtor, clean = _scoring_pair(build)
    other, s = build.customer(dt.date(2024, 1, 1), fee="99.00", owner="sales2")
    build.months(other, s, dt.date(2025, 1, 1), dt.date(2026, 2, 1), 99)
    build.months(other, s, dt.date(2026, 3, 1), dt.date(2026, 6, 1), 99, data_mb=2048, voice=40, paid=False)
    from app.extensions import appbuilder
    from app.models.customer import Customer

    db.session.query(Customer).filter(Customer.id.in_([debtor.id, other.id, clean.id])).update(
        {"segment": "high_value"}, synchronize_session=False)
    db.session.query(Customer).filter_by(id=debtor.id).update(
        {"owner_id": appbuilder.sm.find_user(username="sales1").id}, synchronize_session=False)
    db.session.commit()
    churn.train_and_score(now=NOW)
    total, rows = churn.high_risk_high_value(actor("manager"))
    assert {c.id for c, _ in rows} == {debtor.id, other.id} and total == 2
    assert rows[0][1].score >= rows[1][1].score
    total, rows = churn.high_risk_high_value(actor("sales1"))
    assert [c.id for c, _ in rows] == [debtor.id] and total == 1
    targeted = db.session.execute(select(Customer.id).where(churn.high_risk_condition())).scalars().all()
    assert set(targeted) == {debtor.id, other.id}


def test_by_default_high_risk_is_the_riskiest_tenth(app, history, build):  # noqa: ANN001
    app.config.pop("CRM_CHURN_HIGH_RISK")
    debtor, clean = _scoring_pair(build)
    churn.train_and_score(now=NOW)
    scores = sorted(db.session.execute(select(ChurnScore.score)).scalars(), reverse=True)
    assert len(scores) == 32
    assert churn.high_risk_threshold() == scores[3]  # the 4th of 32: the top 10%, rounded up
    assert churn.for_customer(debtor.id).high
    assert sum(s >= churn.high_risk_threshold() for s in scores) >= 4


def test_large_histories_are_sampled_and_probabilities_corrected(history, build, monkeypatch):  # noqa: ANN001
    from app.services.churn_pipeline import FittedModel

    debtor, _ = _scoring_pair(build)
    monkeypatch.setattr(churn, "MAX_TRAIN_ROWS", 60)
    version = churn.train(now=NOW)
    metrics = json.loads(version.metrics)
    assert metrics["customer_snapshots"] == 168
    assert version.positives == 10 and version.samples == 60  # every churner, 50 of the 158 others
    share = metrics["non_churners_kept"]
    assert share == pytest.approx(50 / 158)
    model = FittedModel.loads(version.artifact)
    frame = churn.features(TODAY, customer_ids=[debtor.id])
    raw = model.pipeline.predict_proba(frame[model.numeric + model.categorical])[0, 1]
    odds = raw / (1 - raw) * share
    assert model.predict(frame)[0] == pytest.approx(odds / (1 + odds))
    assert model.predict(frame)[0] < raw
