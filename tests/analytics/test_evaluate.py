"""`crm churn evaluate --csv FILE [--label COLUMN]`: the churn pipeline, cross-validated on a labelled
file — a small fixture, the shipped IBM Telco set (ROC AUC ≥ 0.85), and files it cannot use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.services import churn_pipeline as cp

DATA = Path(__file__).parent / "data"
SMALL = DATA / "small_churn.csv"
# A copy of ../shared/data/telco_churn_ibm.csv (IBM sample data, Apache-2.0; provenance beside it),
# so CI on a clean clone evaluates on it too.
IBM = DATA / "telco_churn_ibm.csv"


@pytest.fixture
def cli(app):  # noqa: ANN001, ANN201
    runner = app.test_cli_runner()

    def run(*args: str):  # noqa: ANN202
        return runner.invoke(args=["crm", "churn", "evaluate", *args])

    return run


def figure(output: str, name: str) -> float:
    return float(re.search(rf"^{name}: ([0-9.]+)$", output, re.MULTILINE).group(1))


def test_small_file_reports_both_aucs_and_infers_the_columns(cli):  # noqa: ANN001
    result = cli("--csv", str(SMALL))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "rows: 240  churned: 39" in out
    # TotalCharges has blanks but is numeric; the id column is ignored; the label is "Churn".
    assert "numeric columns (4): tenure, MonthlyFee, TotalCharges, Complaints" in out
    assert "categorical columns (2): Contract, Channel" in out
    assert "ignored columns: customer_id" in out
    assert "logistic: ROC AUC" in out and "gradient_boosting: ROC AUC" in out
    assert figure(out, "ROC AUC") > 0.8  # the file was generated with a clear signal
    assert 0 < figure(out, "PR AUC") <= 1


def test_label_chosen_by_name_case_insensitively(cli, tmp_path):  # noqa: ANN001
    text = SMALL.read_text().replace(",Churn\n", ",has_left\n", 1)
    path = tmp_path / "renamed.csv"
    path.write_text(text)
    assert cli("--csv", str(path)).exit_code == 2  # no known label name any more
    result = cli("--csv", str(path), "--label", "HAS_LEFT")
    assert result.exit_code == 0, result.output
    assert "label: has_left" in result.output


@pytest.mark.slow
def test_ibm_telco_set_reaches_the_target(cli):  # noqa: ANN001
    result = cli("--csv", str(IBM))
    assert result.exit_code == 0, result.output
    assert "rows: 7043  churned: 1869" in result.output
    assert "ignored columns: customerID" in result.output
    assert figure(result.output, "ROC AUC") >= 0.85
    assert figure(result.output, "PR AUC") >= 0.6


def write(tmp_path: Path, name: str, content: bytes | str) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("empty.csv", "", "the file is empty"),
    ("blank.csv", "\n\n  \n", "the file is empty"),
    ("header_only.csv", "tenure,Churn\n", "no data rows"),
    ("no_label.csv", "tenure,fee\n1,2\n3,4\n", "no label column found"),
    ("one_class.csv", "tenure,Churn\n" + "".join(f"{i},No\n" for i in range(30)), "only one class"),
    ("too_few.csv", "tenure,Churn\n" + "".join(f"{i},{'Yes' if i < 2 else 'No'}\n" for i in range(30)),
     "too few rows of one class"),
    ("three.csv", "tenure,Churn\n" + "".join(f"{i},{('Yes', 'No', 'Maybe')[i % 3]}\n" for i in range(30)),
     "3 different values"),
    ("only_id.csv", "customerID,Churn\n" + "".join(f"X{i},{'Yes' if i % 2 else 'No'}\n" for i in range(30)),
     "no usable feature columns"),
    ("book.xlsx", b"PK\x03\x04\x14\x00\x06\x00binary spreadsheet", "not a CSV text file"),
    ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV text file"),
    ("ragged.csv", 'a,b,Churn\n1,2,Yes\n"unterminated,3,No\n', "not a readable CSV file"),
])
def test_unusable_files_fail_with_one_clear_line(cli, tmp_path, name, content, message):  # noqa: ANN001
    result = cli("--csv", write(tmp_path, name, content))
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.output


def test_missing_file_and_unknown_label(cli, tmp_path):  # noqa: ANN001
    result = cli("--csv", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2 and "no such file" in result.output
    result = cli("--csv", str(SMALL), "--label", "Exited")
    assert result.exit_code == 2 and "no column named 'Exited'" in result.output


def test_contributions_add_up_for_the_linear_model():
    """For the logistic pipeline every transform acts on one column, so the per-feature
    contributions add up exactly to the log-odds difference from the all-baseline row."""
    data = cp.read_labelled_csv(SMALL)
    model = cp.fit("logistic", data.X, data.y, data.numeric, data.categorical)
    rows = data.X.iloc[:25]
    contrib = model.contributions(rows)
    base = rows.copy()
    for col, value in model.baseline.items():
        base[col] = value
    assert contrib.sum(axis=1).to_numpy() == pytest.approx(model.log_odds(rows) - model.log_odds(base), abs=1e-6)
    # Complaints raise the risk in this data: the row with the most complaints names them.
    worst = data.X.assign(c=data.X["Complaints"]).sort_values("c").index[-1]
    assert "Complaints" in model.top_reasons(data.X.loc[[worst]])[0]
