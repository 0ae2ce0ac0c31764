"""`crm init` and `crm create-user`."""

from __future__ import annotations

import sys

import click

from app.cli import crm
from app.services import setup


@crm.command("init")
def init_command() -> None:
    """Create or upgrade the schema, roles and permissions; safe to run again."""
    result = setup.init()
    click.echo(f"Schema at revision {result.revision}; roles: {', '.join(result.roles)}.")
    if result.admin_password:
        click.echo(f"Created user 'admin' with password: {result.admin_password}")
        click.echo("This password is shown once; change it after signing in.")


@crm.command("create-user")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice(setup.ROLE_NAMES))
@click.option("--department", default=None, help="Department code, e.g. customer-service or technical.")
@click.option("--email", default=None)
def create_user_command(username: str, password: str, role: str, department: str | None, email: str | None) -> None:
    """Add a user with one of the contract's roles."""
    try:
        setup.create_user(username, password, role, department=department, email=email)
    except setup.SetupError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Created user {username} ({role}).")
