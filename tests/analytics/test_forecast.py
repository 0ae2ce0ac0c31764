"""Sales forecast: a seasonal regression, back-tested on a synthetic series with a known pattern,
and the page built from the CRM's bills."""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest

from app.services import forecast

START = dt.date(2022, 1, 1)


def seasonal_series(months: int, seed: int = 3, noise: float = 0.02) -> list[float]:
    """Revenue with a 1%/month trend, a December peak and a February dip, ±2% noise."""
    r = random.Random(seed)
    out = []
    for k in range(months):
        month = (START.month - 1 + k) % 12 + 1
        season = 1 + 0.25 * math.cos(2 * math.pi * (month - 12) / 12) + (0.15 if month == 12 else 0)
        out.append(100_000 * (1.01 ** k) * season * (1 + r.gauss(0, noise)))
    return out


def test_backtest_on_a_synthetic_seasonal_series_is_accurate():
    values = seasonal_series(48)
    f = forecast.forecast_series(values, START)
    assert f.seasonal is True
    assert f.backtest_mape is not None and f.backtest_mape < 5.0
    # The back-test forecast sits on the last 6 known months.
    assert [v is not None for v in f.backtest] == [False] * 42 + [True] * 6 + [False] * 6
    assert f.months[-1] == dt.date(2026, 6, 1) and len(f.predicted) == 54
    # The forecast follows the season (January above February, as every year) and the noise-free
    # pattern of the next 6 months lies inside the 95% interval.
    pred = f.predicted[48:]
    assert pred[0] > pred[1]
    truth = seasonal_series(54, noise=0.0)[48:]
    for t, lo, hi in zip(truth, f.lower[48:], f.upper[48:], strict=True):
        assert lo < t < hi
    assert forecast.mape(truth, pred) < 5.0
    assert all(lo < p < hi for p, lo, hi in zip(pred, f.lower[48:], f.upper[48:], strict=True))


def test_a_seasonal_model_beats_a_trend_line_on_seasonal_data():
    values = seasonal_series(48)
    with_season = forecast.forecast_series(values, START).backtest_mape
    trend_only = forecast.mape(values[42:], forecast.fit_predict(values[19:42], forecast.add_months(START, 19))[0])
    assert with_season < trend_only / 2


def test_short_history_falls_back_to_the_trend_and_says_so():
    f = forecast.forecast_series(seasonal_series(12), START)
    assert f.seasonal is False
    assert len([v for v in f.predicted if v is not None]) == 6
    assert forecast.forecast_series([], START).predicted == [0.0] * 6


@pytest.mark.parametrize("values", [[0.0] * 14, [5.0, 0.0, 7.0, 0.0] * 4])
def test_zero_months_do_not_break_the_model(values):  # noqa: ANN001
    f = forecast.forecast_series(values, START)
    assert all(v is not None and v >= 0 for v in f.predicted[len(values):])


def test_forecast_page_uses_billed_revenue_per_plan_type(build, as_user, monkeypatch):  # noqa: ANN001
    from app.services import care

    monkeypatch.setattr(care, "business_date", lambda now: dt.date(2026, 7, 15))
    for fee in (99, 199):
        c, s = build.customer(dt.date(2023, 1, 1), fee=f"{fee}.00")
        build.months(c, s, dt.date(2024, 1, 1), dt.date(2026, 6, 1), fee)
    revenue = forecast.monthly_revenue(dt.date(2026, 7, 15))
    first, values = revenue["mobile"]
    assert first == dt.date(2024, 1, 1) and len(values) == 30 and set(values) == {298.0}
    assert revenue["broadband"] == (None, [])
    html = as_user("manager").get("/analytics/forecast/").get_data(as_text=True)
    panel = html.split('id="crm-forecast-mobile"')[1]
    assert "回测 MAPE" in panel and "<strong>0.0%</strong>" in panel  # a flat series is forecast exactly
    assert "2026-12" in panel and 'id="crm-forecast-broadband"' not in html
    # New lines per plan type, over the last 36 months: the 2023 lines are older than that.
    build.customer(dt.date(2026, 2, 10), fee="99.00")
    build.customer(dt.date(2026, 4, 3), fee="99.00")
    build.customer(dt.date(2026, 4, 28), fee="99.00")
    subs = forecast.monthly_new_subscriptions(dt.date(2026, 7, 15))
    assert subs["mobile"] == (dt.date(2026, 2, 1), [1.0, 0.0, 2.0, 0.0, 0.0])
    page = as_user("manager").get("/analytics/forecast/?measure=subscriptions")
    assert page.status_code == 200
    assert as_user("clerk1").get("/analytics/forecast/").status_code in (302, 403)
