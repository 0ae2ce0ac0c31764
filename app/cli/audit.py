"""`crm audit verify`: check the audit log's hash chain."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.cli import crm
from app.services import audit

audit_group = AppGroup("audit", help="Audit log commands.")
crm.add_command(audit_group)


@audit_group.command("verify")
def verify_command() -> None:
    """Exit non-zero and name the first broken entry if the log was tampered with."""
    result = audit.verify(checkpoint=True)  # the chain, and its end against the signed checkpoint
    if result.ok:
        click.echo(f"Audit log intact: {result.checked} entries verified.")
        return
    click.echo(f"Audit log BROKEN at entry id={result.broken_id}: {result.reason} "
               f"({result.checked} entries verified before it).", err=True)
    sys.exit(1)
