"""Small helpers between Django and statusflow's SQL API."""
from collections import namedtuple
from contextlib import contextmanager

from django.db import connection, transaction

NextTransition = namedtuple(
    "NextTransition", "event to_status allowed requires_reason refusal"
)


@contextmanager
def acting_as(actor):
    """A transaction whose status changes are recorded as made by actor.

    set_config(..., true) lasts until the end of the transaction, so the
    actor never leaks to the next user of a pooled connection.  Outside a
    transaction (Django's autocommit) it would be lost at once.
    """
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('statusflow.actor', %s, true)", [actor])
        yield


def fire(table, key, event, reason=None, expect=None):
    """statusflow.fire() in a savepoint, so that a caller inside atomic()
    can catch a refusal and go on; returns the new status."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "SELECT statusflow.fire(%s, %s, %s, reason => %s, expect => %s)",
            [table, key, event, reason, expect],
        )
        return cur.fetchone()[0]


def next_transitions(table, key):
    with connection.cursor() as cur:
        cur.execute(
            "SELECT event, to_status, allowed, requires_reason, refusal"
            " FROM statusflow.next_transitions(%s, %s)",
            [table, key],
        )
        return [NextTransition(*row) for row in cur.fetchall()]


def refusal(exc):
    """What the database said about a refused change (a django.db error)."""
    pg = exc.__cause__  # the psycopg2 error Django wrapped
    return {
        "sqlstate": pg.pgcode,
        "message": pg.diag.message_primary,
        "detail": pg.diag.message_detail,
        "hint": pg.diag.message_hint,
        "constraint": pg.diag.constraint_name,
    }


def is_stale(exc):
    """True for the 40001 of fire(..., expect => ...) on a row that changed."""
    return getattr(exc.__cause__, "pgcode", None) == "40001"
