"""`quytrinh calendar` — placeholder until the calendar lands (issue 4)."""
import click


@click.group("calendar")
def calendar_group():
    """Working-time calendar."""
