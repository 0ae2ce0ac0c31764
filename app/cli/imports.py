"""`crm import customers|leads|plans FILE`: CSV/XLSX import with a per-row report.

    flask --app run crm import customers FILE [--dry-run] [--policy skip|create|update]
        [--match id_number,mobile,name_birth] [--mapping NAME] [--report PATH] [--skip-invalid]
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from app.cli import crm
from app.services.actor import SYSTEM, Actor
from app.services.errors import CrmError
from app.services.importing import reports, runner


@crm.group("import")
def import_group() -> None:
    """Import customers, leads or plans from a CSV (UTF-8, UTF-8 with BOM, GBK) or XLSX file."""


def _actor(username: str | None) -> Actor:
    if not username:
        return SYSTEM
    from app.extensions import appbuilder

    user = appbuilder.sm.find_user(username=username)
    if user is None:
        click.echo(f"Error: no user named {username}.", err=True)
        sys.exit(2)
    return Actor(id=user.id, username=user.username, roles=frozenset(r.name for r in user.roles),
                 department_id=getattr(user, "department_id", None))


def _run(kind: str, file: str, dry_run: bool, policy: str, match: str | None, mapping: str | None,
         report_path: str | None, skip_invalid: bool, user: str | None, batch_size: int) -> None:
    path = Path(file)
    try:
        report = runner.run(kind, path.name, path.read_bytes(), _actor(user), policy=policy, match=match,
                            mapping=mapping, dry_run=dry_run, skip_invalid=skip_invalid, batch_size=batch_size)
    except CrmError as exc:
        click.echo(f"Error: {exc.text()}", err=True)
        sys.exit(1)
    prefix = "Dry run (nothing written): would create" if dry_run else "Imported: created"
    click.echo(f"{prefix} {report.created}, update {report.updated}, skipped {report.skipped}, "
               f"failed {report.failed} of {report.total} rows ({report.encoding}).")
    if report.run_id:
        click.echo(f"Import run #{report.run_id}.")
    for row, column, message in report.errors[:20]:
        click.echo(f"  row {row}, {column or '-'}: {message}")
    if len(report.errors) > 20:
        click.echo(f"  … {len(report.errors) - 20} more; see --report.")
    if report_path:
        Path(report_path).write_bytes(b"".join(reports.error_csv(report.errors)))
        click.echo(f"Error report written: {report_path}")
    if report.failed and not dry_run:
        sys.exit(3)


def _command(kind: str, help_text: str):  # noqa: ANN202
    @import_group.command(kind, help=help_text)
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
    @click.option("--policy", type=click.Choice(["skip", "create", "update"]), default="skip", show_default=True,
                  help="What to do with a row that matches an existing record.")
    @click.option("--match", default=None, help="Duplicate keys, comma-separated (customers: id_number, mobile, "
                  "name_birth; leads: mobile, id_number; plans: code).")
    @click.option("--mapping", default=None, help="Use the saved column mapping of this name.")
    @click.option("--report", "report_path", default=None, type=click.Path(dir_okay=False),
                  help="Write the error report (row, column, message) as CSV here.")
    @click.option("--skip-invalid", is_flag=True, help="Leave bad rows out instead of refusing their batch.")
    @click.option("--user", default=None, help="Act as this user (audit, owner); default: system.")
    @click.option("--batch-size", default=runner.DEFAULT_BATCH, show_default=True, type=click.IntRange(1, 100_000))
    def command(file: str, dry_run: bool, policy: str, match: str | None, mapping: str | None,
                report_path: str | None, skip_invalid: bool, user: str | None, batch_size: int) -> None:
        _run(kind, file, dry_run, policy, match, mapping, report_path, skip_invalid, user, batch_size)

    return command


_command("customers", "Import customers; duplicates by ID number, mobile or name + birth date.")
_command("leads", "Import leads (owned by --user); duplicates of open leads by mobile or ID number.")
_command("plans", "Import plans; matched by plan code.")
