"""`crm churn evaluate --csv FILE [--label COLUMN]`, `crm churn train`, `crm churn score`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.cli import crm

churn_group = AppGroup("churn", help="Churn risk model.")
crm.add_command(churn_group)


@churn_group.command("evaluate")
@click.option("--csv", "csv_path", required=True, help="Labelled churn file (CSV with a header row).")
@click.option("--label", default=None, help="Label column (default: Churn, Churned, Exited, Label, Target…).")
def evaluate_command(csv_path: str, label: str | None) -> None:
    """Stratified 5-fold cross-validated ROC AUC and PR AUC of the churn pipeline on a labelled file."""
    from app.services import churn_pipeline as cp

    try:
        data, ev = cp.evaluate_csv(csv_path, label)
    except cp.UnusableData as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"file: {csv_path}")
    click.echo(f"rows: {data.rows}  churned: {data.positives} ({data.positives / data.rows:.1%})  "
               f"label: {data.label}")
    click.echo(f"numeric columns ({len(data.numeric)}): {', '.join(data.numeric) or '-'}")
    click.echo(f"categorical columns ({len(data.categorical)}): {', '.join(data.categorical) or '-'}")
    if data.dropped:
        click.echo(f"ignored columns: {', '.join(data.dropped)}")
    for kind, s in ev.scores.items():
        click.echo(f"{kind}: ROC AUC {s['roc_auc']:.4f}  PR AUC {s['pr_auc']:.4f}")
    click.echo(f"chosen: {ev.chosen} ({ev.folds}-fold stratified cross-validation)")
    click.echo(f"ROC AUC: {ev.roc_auc:.4f}")
    click.echo(f"PR AUC: {ev.pr_auc:.4f}")


@churn_group.command("train")
def train_command() -> None:
    """Train a new model version on the CRM's history, make it active and score every customer."""
    from app.services import churn
    from app.services.errors import CrmError

    try:
        result = churn.train_and_score(trained_by="cli")
    except CrmError as exc:
        click.echo(f"Error: {exc.text()}", err=True)
        sys.exit(1)
    click.echo(f"model v{result['model']} ({result['algorithm']}), cross-validated ROC AUC "
               f"{result['roc_auc']:.4f}; {result['scored']} customers scored")


@churn_group.command("score")
def score_command() -> None:
    """Score every open customer with the active model version."""
    from app.services import churn

    result = churn.score_all()
    if result["model"] is None:
        click.echo("Error: no churn model yet; run `crm churn train` first.", err=True)
        sys.exit(1)
    click.echo(f"{result['scored']} customers scored with model v{result['model']}")
