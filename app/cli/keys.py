"""`crm keys generate`, `crm keys check`, `crm keys rotate --new-key KEY`."""

from __future__ import annotations

import base64
import os
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli import crm
from app.services import key_rotation
from app.services.crypto import FieldKeyError

keys_group = AppGroup("keys", help="Field encryption key (CRM_FIELD_KEY).")
crm.add_command(keys_group)


@keys_group.command("generate")
def generate_command() -> None:
    """Print a new random field key (base64, 32 bytes)."""
    click.echo(base64.b64encode(os.urandom(32)).decode())


@keys_group.command("check")
def check_command() -> None:
    """Confirm CRM_FIELD_KEY decrypts this database's personal data."""
    from app.extensions import db
    from app.services.crypto import cipher

    try:
        with db.engine.connect() as conn:
            key_rotation.check_key(conn, cipher())
    except FieldKeyError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    click.echo("Field key OK.")


@keys_group.command("rotate")
@click.option("--new-key", envvar="CRM_NEW_FIELD_KEY", prompt=True, hide_input=True,
              help="The new base64 key (or set CRM_NEW_FIELD_KEY, or type it at the prompt: "
                   "neither leaves it in the shell history).")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100_000))
def rotate_command(new_key: str, batch_size: int) -> None:
    """Re-encrypt every encrypted field under NEW_KEY in committed batches (resumable), recompute the
    blind indexes, then move the key check and the audit checkpoint to NEW_KEY."""

    def progress(field, result) -> None:  # noqa: ANN001
        click.echo(f"  {field.table}.{field.ciphertext}: {result.rotated} re-encrypted so far")

    try:
        result = key_rotation.rotate(new_key, batch_size=batch_size, progress=progress)
    except FieldKeyError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Rotated: {result.rotated} values re-encrypted, {result.already} already under the new key, "
               f"{result.batches} batches.")
    if new_key.strip() == str(current_app.config.get("CRM_FIELD_KEY") or "").strip():  # the catch-up run
        click.echo("Catch-up done: once every process runs with the new key, CRM_FIELD_KEYS_OLD can be removed.")
        return
    # The catch-up run must start with the NEW key current (the key check now needs it) and the old
    # key still readable; with the old key current, the start-up check would refuse to run at all.
    click.echo("Now restart every process with CRM_FIELD_KEY=<the new key> and CRM_FIELD_KEYS_OLD=<the old key>, "
               "then run `crm keys rotate --new-key <the new key>` once more with those settings to re-encrypt "
               "rows written with the old key meanwhile.")
