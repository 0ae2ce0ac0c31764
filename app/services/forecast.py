"""Sales trend forecast (销售趋势预测): monthly revenue and new subscriptions per plan type, 6 months ahead.

Model: ordinary least squares on a linear trend plus month-of-year effects (a regression with month
dummies), fitted on the log of the series when it is strictly positive (multiplicative seasonality),
else on the raw values. With fewer than two full years of history the month effects cannot be told
apart from noise, so the model falls back to the trend alone (and says so). Prediction intervals
come from the regression's standard error (±1.96σ·√(1 + x₀ᵀ(XᵀX)⁻¹x₀)). The back-test refits on all
but the last 6 known months and reports the MAPE of its forecast of those 6 months.

numpy is imported inside functions so the app starts fast.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models.bill import Bill
from app.models.customer import Customer
from app.models.plan import PLAN_TYPES, Plan
from app.models.subscription import Subscription
from app.services.segments import add_months

HORIZON = 6
SEASON = 12
Z95 = 1.96


@dataclass
class Forecast:
    months: list[dt.date]  # known months, then forecast months
    actual: list[float | None]  # known values (None over the forecast months)
    predicted: list[float | None]  # forecast (None over the known months)
    lower: list[float | None]
    upper: list[float | None]
    seasonal: bool  # month effects used (≥ 2 full years of history)
    backtest_mape: float | None  # % error of a forecast of the last HORIZON known months, refitted without them
    backtest: list[float | None] = field(default_factory=list)  # that back-test forecast, aligned to `months`


def _design(t: Any, month_index: Any, seasonal: bool) -> Any:
    import numpy as np

    cols = [np.ones_like(t, dtype=float), t.astype(float)]
    if seasonal:
        for m in range(1, SEASON):  # month 0 is the reference level
            cols.append((month_index == m).astype(float))
    return np.column_stack(cols)


def fit_predict(values: list[float], first_month: dt.date, horizon: int = HORIZON
                ) -> tuple[list[float], list[float], list[float], bool]:
    """Forecast `horizon` months after `values` (monthly, starting at `first_month`): (mean, lower, upper, seasonal)."""
    import numpy as np

    y = np.asarray(values, dtype=float)
    n = len(y)
    if n == 0:
        return [0.0] * horizon, [0.0] * horizon, [0.0] * horizon, False
    if n < 3:
        level = float(y.mean())
        return [level] * horizon, [level] * horizon, [level] * horizon, False
    seasonal = n >= 2 * SEASON
    log = bool((y > 0).all())
    target = np.log(y) if log else y
    t = np.arange(n + horizon)
    month_index = (np.arange(n + horizon) + first_month.month - 1) % SEASON
    X = _design(t, month_index, seasonal)
    X_fit, X_new = X[:n], X[n:]
    beta, *_ = np.linalg.lstsq(X_fit, target, rcond=None)
    resid = target - X_fit @ beta
    dof = max(1, n - X.shape[1])
    sigma = float(np.sqrt((resid @ resid) / dof))
    xtx_inv = np.linalg.pinv(X_fit.T @ X_fit)
    se = sigma * np.sqrt(1 + np.einsum("ij,jk,ik->i", X_new, xtx_inv, X_new))
    mean = X_new @ beta
    lo, hi = mean - Z95 * se, mean + Z95 * se
    if log:
        # Median forecast on the original scale; the interval maps through exp unchanged.
        mean, lo, hi = np.exp(mean), np.exp(lo), np.exp(hi)
    else:
        lo = np.maximum(lo, 0)
        mean = np.maximum(mean, 0)
    return [float(v) for v in mean], [float(v) for v in lo], [float(v) for v in hi], seasonal


def mape(actual: list[float], predicted: list[float]) -> float | None:
    pairs = [(a, p) for a, p in zip(actual, predicted, strict=True) if a]
    if not pairs:
        return None
    return 100.0 * sum(abs(a - p) / abs(a) for a, p in pairs) / len(pairs)


def forecast_series(values: list[float], first_month: dt.date, horizon: int = HORIZON) -> Forecast:
    n = len(values)
    months = [add_months(first_month, k) for k in range(n + horizon)]
    mean, lo, hi, seasonal = fit_predict(values, first_month, horizon)
    backtest: list[float | None] = [None] * (n + horizon)
    score = None
    if n >= horizon + 3:
        past = values[: n - horizon]
        bt_mean, _lo, _hi, _s = fit_predict(past, first_month, horizon)
        score = mape(values[n - horizon:], bt_mean)
        backtest[n - horizon: n] = bt_mean
    return Forecast(
        months=months, actual=[*values, *([None] * horizon)], predicted=[*([None] * n), *mean],
        lower=[*([None] * n), *lo], upper=[*([None] * n), *hi], seasonal=seasonal, backtest_mape=score,
        backtest=backtest,
    )


# ---- data from the CRM ----------------------------------------------------------------------

def _as_date(value: Any) -> dt.date:
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _fill(points: dict[dt.date, float], last: dt.date) -> tuple[dt.date | None, list[float]]:
    """Monthly values from the first month with data through `last` (missing months are 0)."""
    if not points:
        return None, []
    first = min(points)
    out, month = [], first
    while month <= last:
        out.append(float(points.get(month, 0.0)))
        month = add_months(month, 1)
    return first, out


def monthly_revenue(today: dt.date) -> dict[str, tuple[dt.date | None, list[float]]]:
    """{plan type: (first month, billed revenue per month through last month)} — by the customer's plan."""
    last = add_months(today.replace(day=1), -1)
    rows = db.session.execute(
        select(Plan.plan_type, Bill.month, func.sum(Bill.total))
        .select_from(Bill).join(Customer, Customer.id == Bill.customer_id).join(Plan, Plan.id == Customer.plan_id)
        .where(Bill.month <= last).group_by(Plan.plan_type, Bill.month)
    ).all()
    by_type: dict[str, dict[dt.date, float]] = {t: {} for t in PLAN_TYPES}
    for plan_type, month, total in rows:
        by_type.setdefault(plan_type, {})[_as_date(month)] = float(total or 0)
    return {t: _fill(points, last) for t, points in by_type.items()}


def monthly_new_subscriptions(today: dt.date, since_months: int = 36) -> dict[str, tuple[dt.date | None, list[float]]]:
    """{plan type: (first month, new lines per month through last month)}."""
    last = add_months(today.replace(day=1), -1)
    start = add_months(last, -since_months + 1)
    rows = db.session.execute(
        select(Plan.plan_type, Subscription.effective_date, func.count())
        .join(Plan, Plan.id == Subscription.plan_id)
        .where(Subscription.effective_date >= start, Subscription.effective_date < add_months(last, 1))
        .group_by(Plan.plan_type, Subscription.effective_date)
    ).all()
    by_type: dict[str, dict[dt.date, float]] = {t: {} for t in PLAN_TYPES}
    for plan_type, day, n in rows:
        month = _as_date(day).replace(day=1)
        slot = by_type.setdefault(plan_type, {})
        slot[month] = slot.get(month, 0.0) + float(n)
    return {t: _fill(points, last) for t, points in by_type.items()}


def by_plan_type(today: dt.date, measure: str = "revenue") -> dict[str, Forecast | None]:
    series = monthly_revenue(today) if measure == "revenue" else monthly_new_subscriptions(today)
    return {t: (forecast_series(values, first) if first is not None else None) for t, (first, values) in series.items()}
