"""The churn model pipeline, shared by the CRM's own model and `crm churn evaluate` on a CSV file.

Two candidates, chosen by stratified k-fold cross-validated ROC AUC:
- `logistic`: numeric columns imputed (median) and expanded per column into a standardised value, a
  standardised signed log and a cubic spline basis; categorical columns one-hot; L2 logistic
  regression. Every transform acts on one column, so a feature's contribution to the log-odds is
  exactly Σ coef × (transformed value − transformed baseline) over that feature's own columns.
- `gradient_boosting`: the same imputation and one-hot, histogram gradient boosting.

Reasons (`contributions`) are computed the same way for both: the change in log-odds when one
feature is put back to its training baseline (median or most frequent value).

scikit-learn, pandas and numpy are imported inside functions so that the app starts fast.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RANDOM_STATE = 0
CANDIDATES = ("logistic", "gradient_boosting")
LABEL_NAMES = ("churn", "churned", "is_churn", "churn_flag", "exited", "attrition", "attrited",
               "label", "target", "left")
POSITIVE = {"yes", "y", "true", "t", "1", "1.0", "churn", "churned", "exited", "left", "attrited",
            "attrited customer", "是"}
NEGATIVE = {"no", "n", "false", "f", "0", "0.0", "stayed", "retained", "existing customer", "否"}


def _id_like_name(name: str) -> bool:
    """`id`, `customer_id`, `Customer No`, `customerID`, `customerId` — not `paid` or `valid`."""
    lower = name.lower()
    if re.search(r"^(id|uuid|key)$|[_\s.-](id|uuid|key|no|number)$", lower):
        return True
    return bool(re.search(r"[a-z0-9](ID|Id)$", name))


class UnusableData(ValueError):
    """A file or data set the pipeline cannot learn from; the message is one line for the user."""


@dataclass
class LabelledData:
    X: Any  # pandas DataFrame of features
    y: Any  # numpy array of 0/1
    numeric: list[str]
    categorical: list[str]
    label: str
    dropped: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.y)

    @property
    def positives(self) -> int:
        return int(self.y.sum())


@dataclass
class Evaluation:
    scores: dict[str, dict[str, float]]  # candidate → {"roc_auc", "pr_auc"} (means over folds)
    chosen: str
    folds: int

    @property
    def roc_auc(self) -> float:
        return self.scores[self.chosen]["roc_auc"]

    @property
    def pr_auc(self) -> float:
        return self.scores[self.chosen]["pr_auc"]


# ---- reading a labelled file -----------------------------------------------------------------

def read_labelled_csv(path: str | Path, label: str | None = None) -> LabelledData:
    """Read a labelled churn CSV; raise `UnusableData` with a one-line reason if it can't be used."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise UnusableData(f"{path}: no such file")
    raw = path.read_bytes()
    if not raw.strip():
        raise UnusableData(f"{path}: the file is empty")
    if b"\x00" in raw[:4096] or raw[:4] == b"PK\x03\x04":
        raise UnusableData(f"{path}: not a CSV text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise UnusableData(f"{path}: not a CSV text file (unknown encoding)") from None
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnusableData(f"{path}: not a readable CSV file ({first})") from None
    return prepare(frame, label, source=str(path))


def _find_label(columns: list[str], label: str | None, source: str) -> str:
    by_lower = {c.strip().lower(): c for c in columns}
    if label:
        found = by_lower.get(label.strip().lower())
        if found is None:
            raise UnusableData(f"{source}: no column named {label!r} (columns: {', '.join(columns[:12])})")
        return found
    for name in LABEL_NAMES:
        if name in by_lower:
            return by_lower[name]
    raise UnusableData(f"{source}: no label column found (looked for {', '.join(LABEL_NAMES)}); "
                       "name it with --label")


def _label_values(series: Any, name: str, source: str) -> Any:
    import numpy as np

    values = series.astype(str).str.strip().str.lower()
    present = values[values != ""]
    distinct = set(present.unique())
    if len(distinct) < 2:
        raise UnusableData(f"{source}: label column {name!r} has only one class")
    if len(distinct) > 2:
        raise UnusableData(f"{source}: label column {name!r} has {len(distinct)} different values, "
                           "expected two (e.g. Yes/No)")
    pos = distinct & POSITIVE
    neg = distinct & NEGATIVE
    if len(pos) == 1:
        positive = pos.pop()
    elif len(neg) == 1:
        positive = (distinct - neg).pop()
    else:
        try:
            positive = max(distinct, key=float)
        except ValueError:
            raise UnusableData(f"{source}: cannot tell which value of {name!r} means churn "
                               f"({', '.join(sorted(distinct))})") from None
    y = np.where(values == positive, 1, np.where(values == "", -1, 0))
    return y


def prepare(frame: Any, label: str | None = None, source: str = "data") -> LabelledData:
    """Choose the label, drop id-like and unusable columns, infer numeric vs categorical columns."""
    import numpy as np
    import pandas as pd

    frame = frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty or len(frame.columns) < 2:
        raise UnusableData(f"{source}: no data rows, or fewer than two columns")
    label_col = _find_label(list(frame.columns), label, source)
    y = _label_values(frame[label_col], label_col, source)
    keep = y >= 0
    frame, y = frame.loc[keep].reset_index(drop=True), y[keep]
    counts = np.bincount(y, minlength=2)
    if counts.min() < 5:
        raise UnusableData(f"{source}: too few rows of one class ({counts[1]} churned, {counts[0]} not) "
                           "for 5-fold cross-validation")
    features = frame.drop(columns=[label_col])
    numeric, categorical, dropped = [], [], []
    n = len(features)
    for col in features.columns:
        text = features[col].astype(str).str.strip()
        blank = text.isin(["", "na", "n/a", "nan", "null", "none", "NaN", "NA", "NULL", "?"])
        non_blank = int((~blank).sum())
        if non_blank == 0:
            dropped.append(col)
            continue
        as_number = pd.to_numeric(text.where(~blank), errors="coerce")
        is_numeric = as_number.notna().sum() >= 0.95 * non_blank
        unique = text[~blank].nunique()
        if unique <= 1:
            dropped.append(col)
            continue
        looks_like_id = unique >= 0.95 * non_blank and (_id_like_name(col) or not is_numeric)
        if looks_like_id:
            dropped.append(col)
            continue
        if is_numeric:
            features[col] = as_number.astype(float)
            numeric.append(col)
        elif unique > max(50, 0.5 * n):
            dropped.append(col)  # free text: too many distinct values to learn from
        else:
            features[col] = text.where(~blank, "missing")
            categorical.append(col)
    if not numeric and not categorical:
        raise UnusableData(f"{source}: no usable feature columns besides the label")
    return LabelledData(X=features[numeric + categorical], y=y, numeric=numeric, categorical=categorical,
                        label=label_col, dropped=dropped)


# ---- the pipeline --------------------------------------------------------------------------

def _signed_log(values: Any) -> Any:
    import numpy as np

    return np.sign(values) * np.log1p(np.abs(values))


def build(kind: str, numeric: list[str], categorical: list[str]) -> Any:
    """An unfitted scikit-learn Pipeline for `kind` ("logistic" or "gradient_boosting")."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, SplineTransformer, StandardScaler

    onehot = Pipeline([
        ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
        ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
    ])
    if kind == "logistic":
        num = Pipeline([
            ("impute", SimpleImputer(strategy="median")),
            ("expand", FeatureUnion([
                ("scaled", StandardScaler()),
                ("log", Pipeline([("f", FunctionTransformer(_signed_log)), ("s", StandardScaler())])),
                ("spline", SplineTransformer(n_knots=5, degree=3)),
            ])),
        ])
        model = LogisticRegression(C=0.3, max_iter=5000)
    elif kind == "gradient_boosting":
        num = SimpleImputer(strategy="median")
        model = HistGradientBoostingClassifier(learning_rate=0.05, max_iter=200, max_depth=3,
                                               min_samples_leaf=20, l2_regularization=1.0,
                                               random_state=RANDOM_STATE)
    else:
        raise ValueError(kind)
    transformers = []
    if numeric:
        transformers.append(("num", num, list(numeric)))
    if categorical:
        transformers.append(("cat", onehot, list(categorical)))
    return Pipeline([("features", ColumnTransformer(transformers)), ("model", model)])


def cross_validate(X: Any, y: Any, numeric: list[str], categorical: list[str],
                   candidates: tuple[str, ...] = CANDIDATES, folds: int = 5) -> Evaluation:
    """Stratified k-fold ROC AUC and PR AUC (average precision) of each candidate; the best is chosen."""
    import warnings

    import numpy as np
    from sklearn.model_selection import StratifiedKFold
    from sklearn.model_selection import cross_validate as sk_cross_validate

    minority = int(min(np.bincount(y, minlength=2)))
    folds = max(2, min(folds, minority))
    if minority < 2:
        raise UnusableData("need at least two examples of each class")
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=RANDOM_STATE)
    scores: dict[str, dict[str, float]] = {}
    for kind in candidates:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = sk_cross_validate(build(kind, numeric, categorical), X, y, cv=cv,
                                       scoring=("roc_auc", "average_precision"), n_jobs=1)
        scores[kind] = {"roc_auc": float(np.mean(result["test_roc_auc"])),
                        "pr_auc": float(np.mean(result["test_average_precision"]))}
    chosen = max(scores, key=lambda k: (scores[k]["roc_auc"], k == "logistic"))
    return Evaluation(scores=scores, chosen=chosen, folds=folds)


def evaluate_csv(path: str | Path, label: str | None = None) -> tuple[LabelledData, Evaluation]:
    data = read_labelled_csv(path, label)
    return data, cross_validate(data.X, data.y, data.numeric, data.categorical)


# ---- a fitted model and its reasons -----------------------------------------------------------

@dataclass
class FittedModel:
    kind: str
    pipeline: Any
    numeric: list[str]
    categorical: list[str]
    baseline: dict[str, Any]  # feature → median / most frequent value in the training data
    # Trained on a sample keeping every churner but only a share of the others: multiply the odds by
    # that share to get probabilities for the whole population (1.0 when nothing was sampled).
    odds_factor: float = 1.0

    def predict(self, X: Any) -> Any:
        p = self.pipeline.predict_proba(X[self.numeric + self.categorical])[:, 1]
        if self.odds_factor != 1.0:
            odds = p / (1 - p).clip(min=1e-12) * self.odds_factor
            p = odds / (1 + odds)
        return p

    def log_odds(self, X: Any) -> Any:
        import numpy as np

        p = np.clip(self.predict(X), 1e-9, 1 - 1e-9)
        return np.log(p / (1 - p))

    def contributions(self, X: Any) -> Any:
        """DataFrame (rows of X × features): log-odds change from the baseline value of each feature."""
        import pandas as pd

        X = X[self.numeric + self.categorical]
        full = self.log_odds(X)
        out = {}
        for col in self.numeric + self.categorical:
            probe = X.copy()
            probe[col] = self.baseline[col]
            out[col] = full - self.log_odds(probe)
        return pd.DataFrame(out, index=X.index)

    def top_reasons(self, X: Any, n: int = 3) -> list[list[str]]:
        """For each row, up to `n` features that raise its risk most, largest first."""
        import numpy as np

        contrib = self.contributions(X)
        values = contrib.to_numpy()
        cols = np.array(contrib.columns)
        order = np.argsort(-values, axis=1)[:, :n]
        return [[str(cols[j]) for j in row if values[i, j] > 1e-6] for i, row in enumerate(order)]

    def dumps(self) -> bytes:
        import joblib

        buf = io.BytesIO()
        joblib.dump(self, buf, compress=3)
        return buf.getvalue()

    @staticmethod
    def loads(blob: bytes) -> FittedModel:
        import joblib

        return joblib.load(io.BytesIO(blob))


def fit(kind: str, X: Any, y: Any, numeric: list[str], categorical: list[str],
        odds_factor: float = 1.0) -> FittedModel:
    import warnings

    baseline: dict[str, Any] = {}
    for col in numeric:
        med = X[col].median()
        baseline[col] = float(med) if med == med else 0.0  # NaN median (all missing) → 0
    for col in categorical:
        mode = X[col].mode(dropna=True)
        baseline[col] = str(mode.iloc[0]) if len(mode) else "missing"
    pipeline = build(kind, numeric, categorical)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.fit(X[numeric + categorical], y)
    return FittedModel(kind=kind, pipeline=pipeline, numeric=list(numeric), categorical=list(categorical),
                       baseline=baseline, odds_factor=odds_factor)
