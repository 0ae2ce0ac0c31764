"""`crm backup PATH` and `crm restore PATH`."""

from __future__ import annotations

import sys

import click

from app.cli import crm
from app.services import backup as backups


@crm.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--format", "kind", default="auto", show_default=True,
              type=click.Choice(["auto", *backups.KINDS]),
              help="auto: SQLite online backup, or pg_dump custom format on PostgreSQL when pg_dump is "
                   "installed, else the portable logical dump.")
def backup_command(path: str, kind: str) -> None:
    """Consistent snapshot of the database into PATH, with PATH.manifest.json (row counts, SHA-256)."""
    try:
        manifest = backups.backup(path, kind)
    except backups.BackupError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(f"Backup written: {path} ({manifest['kind']}, {len(manifest['tables'])} tables, {rows} rows, "
               f"sha256 {manifest['file_sha256'][:16]}…); manifest {path}{backups.MANIFEST_SUFFIX}")


@crm.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--check-only", is_flag=True, help="Verify the file against its manifest; change nothing.")
def restore_command(path: str, check_only: bool) -> None:
    """Verify PATH against its manifest, then replace the database's content with it.

    Stop the web workers and the scheduler first. A corrupt or mismatched file is refused and the
    database is left as it was."""
    try:
        if check_only:
            manifest = backups.verify_file(path)
            click.echo(f"Backup verified: {path} ({manifest['kind']}, {len(manifest['tables'])} tables).")
            return
        result = backups.restore(path)
    except backups.BackupError as exc:
        click.echo(f"Error: restore refused: {exc}", err=True)
        sys.exit(1)
    for note in result.notes:
        click.echo(f"Note: {note}")
    click.echo(f"Restored {path} ({result.kind}): {result.tables} tables, {result.rows} rows, every table's "
               "count and checksum verified.")
