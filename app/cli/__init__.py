"""`flask --app run crm …`: each command parses options, calls a service, and reports."""

from __future__ import annotations

from flask import Flask
from flask.cli import AppGroup

crm = AppGroup("crm", help="Telecom CRM commands.")


def register(app: Flask) -> None:
    from app.cli import audit, backup, care, churn, imports, jobs, keys, seed, setup  # noqa: F401 - modules attach their commands to `crm`

    app.cli.add_command(crm)
