"""`quytrinh lint` — placeholder until the linter lands (issue 3)."""
import click


@click.command("lint")
def lint_command():
    raise click.ClickException("not implemented yet")
