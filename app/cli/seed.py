"""`crm seed`: deterministic demo data at any scale."""

from __future__ import annotations

import sys

import click

from app.cli import crm
from app.services import seed, setup


@crm.command("seed")
@click.option("--customers", "customers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Number of customers to add.")
@click.option("--months", type=click.IntRange(min=1, max=60), default=12, show_default=True,
              help="Months of usage, bills and payments, ending with last month.")
@click.option("--random-seed", "random_seed", type=int, default=42, show_default=True,
              help="Same seed, same data.")
@click.option("--demo-users", is_flag=True, help="Create the demo users (or reset their password).")
@click.option("--password", default=None, help="Password for --demo-users.")
@click.option("--first-run", is_flag=True,
              help="Add no data if there are customers already (demo users are still set).")
@click.option("--keep-admin-password", is_flag=True,
              help="With --demo-users: leave an existing admin's password as it is (make run uses this).")
def seed_command(customers: int, months: int, random_seed: int, demo_users: bool, password: str | None,
                 first_run: bool, keep_admin_password: bool) -> None:
    """Add N customers with plans, lines, VAS, usage, bills, payments and business changes."""
    if demo_users and not password:
        click.echo("Error: --demo-users needs --password.", err=True)
        sys.exit(2)
    try:
        result = seed.run(customers, months=months, random_seed=random_seed, demo_users=demo_users,
                          password=password, first_run=first_run, progress=click.echo,
                          keep_admin_password=keep_admin_password)
    except setup.SetupError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    if result.users:
        click.echo("Demo users: " + ", ".join(result.users))
    if result.skipped:
        click.echo("Customers already exist; --first-run leaves the data as it is.")
        return
    if result.customers:
        click.echo(f"Seeded {result.customers:,} customers in {result.seconds:.1f} s.")
        # A demo install also gets a few published knowledge-base articles to search and suggest.
        from app.services import kb

        if kb.seed_demo_articles():
            click.echo("Added the demo knowledge-base articles.")
        if result.counts:
            click.echo("Table rows now: " + ", ".join(f"{t} {n:,}" for t, n in result.counts.items()) + ".")
