"""statusflow from Python: psycopg 3, SQLAlchemy and Alembic.

Run by run.sh against a database made by examples/schema.sql; prints one TAP
line per check.  The environment gives PGHOST, PGPORT, PGDATABASE, PGUSER=app
and PGSUPERUSER; PGBOUNCER_HOST/PGBOUNCER_PORT when run.sh started PgBouncer.
"""
import contextlib
import contextvars
import io
import os
import sys
import tempfile
import traceback
import warnings

import psycopg
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import BigInteger, Column, MetaData, Table, event, exc, text
from sqlalchemy.dialects.postgresql import ENUM
from sqlalchemy.orm import Session, sessionmaker

from models import Base, Invitation, STATUSES, make_engine, owned_tables, include_name_filter

failed = 0


def check(what, passed, info=None):
    global failed
    print(("ok - " if passed else "not ok - ") + what)
    if not passed:
        failed += 1
        if info is not None:
            print("# " + str(info).replace("\n", "\n# "))
    return passed


def note(line):
    print("# " + line)


engine = make_engine()
superuser_engine = make_engine(user=os.environ["PGSUPERUSER"])

# --- the actor of each request ----------------------------------------------
# A web framework's middleware sets current_actor; every transaction a Session
# begins then tells statusflow who acts, for this transaction only (is_local
# => true), so nothing is left on the pooled connection for the next request.
current_actor = contextvars.ContextVar("current_actor", default=None)


@event.listens_for(Session, "after_begin")
def tell_statusflow_who(session, transaction, connection):
    actor = current_actor.get()
    if actor is not None:
        connection.execute(text("SELECT set_config('statusflow.actor', :actor, true)"),
                           {"actor": actor})


Request = sessionmaker(bind=engine, future=True)


def fire(session, key, event_name, reason=None, expect=None):
    """statusflow.fire() in the session's transaction: the new status."""
    return session.execute(
        text("SELECT statusflow.fire('invitations', :key, :event,"
             " reason => :reason, expect => :expect)"),
        {"key": key, "event": event_name, "reason": reason, "expect": expect}).scalar_one()


def history(key):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT from_status::text, to_status::text, event, actor, reason"
            " FROM invitations_status_history WHERE id = :key ORDER BY history_id"),
            {"key": key}).all()


def new_invitation(email):
    with Request.begin() as session:
        invitation = Invitation(email=email)
        session.add(invitation)
        session.flush()
        return invitation.id


# --- 0. the application's own tables -----------------------------------------

def own_tables():
    # create_all() for the tables the app owns only: never the workflow's
    Base.metadata.create_all(engine, tables=owned_tables())
    with engine.connect() as conn:
        made = conn.execute(text("SELECT to_regclass('sent_emails') IS NOT NULL")).scalar()
    check("create_all(tables=owned_tables()) makes sent_emails and leaves invitations alone",
          made and [t.name for t in owned_tables()] == ["sent_emails"])


# --- 1. the workflow behind a model's column ----------------------------------

def model_column():
    with engine.connect() as conn:
        bound = conn.execute(text(
            "SELECT workflow FROM statusflow.bindings"
            " WHERE table_name = 'invitations'::regclass AND column_name = 'status'")).scalar()
    check("invitations.status (the model's Invitation.status) is bound to workflow invitation",
          bound == "invitation" and Invitation.__table__.c.status.type.name == "invitation_status")
    key = new_invitation("ana@example.com")
    with Request() as session:
        invitation = session.get(Invitation, key)
        check("a new Invitation starts in draft, with its first history row",
              invitation.status == "draft" and history(key) == [(None, "draft", None, None, None)],
              history(key))


# --- 2. changes: the model's save and statusflow.fire() -----------------------

def status_changes():
    key = new_invitation("ben@example.com")
    with Request() as session:
        invitation = session.get(Invitation, key)
        invitation.status = "sent"          # an UPDATE, checked by the trigger
        session.commit()
        check("session.commit() moves an invitation draft -> sent", invitation.status == "sent")

        new = fire(session, key, "bounce")  # the event's name, not the status
        session.commit()                    # commit also expires the stale object
        check("statusflow.fire('bounce') moves it sent -> bounced",
              new == "bounced" and invitation.status == "bounced")

        # resend needs the address changed in the same UPDATE: set both
        # attributes, then one flush writes them in one statement
        invitation.email = "ben@example.org"
        invitation.status = "sent"
        session.commit()
        check("resend: email and status changed in one commit pass the condition",
              invitation.status == "sent")
    check("the history has every step", [h[1] for h in history(key)] ==
          ["draft", "sent", "bounced", "sent"], history(key))


# --- 3. refusals, as the driver's exceptions -----------------------------------

def refusals():
    key = new_invitation("cleo@example.com")
    with Request() as session:
        invitation = session.get(Invitation, key)
        invitation.status = "accepted"     # draft -> accepted: no such transition
        try:
            session.commit()
            check("a refused save raises IntegrityError", False, "the commit went through")
        except exc.IntegrityError as e:
            session.rollback()
            diag = e.orig.diag             # psycopg2's or psycopg's CheckViolation
            note(f"refused: {diag.message_primary}")
            note(f"detail:  {diag.message_detail}")
            note(f"hint:    {diag.message_hint}")
            check("a refused save raises IntegrityError, .orig a CheckViolation (23514)",
                  type(e.orig).__name__ == "CheckViolation" and diag.sqlstate == "23514")
            check("its diag names the constraint, the why (detail) and what is allowed (hint)",
                  diag.constraint_name == "invitations_status_workflow"
                  and "no transition" in diag.message_detail
                  and diag.message_hint.startswith('Allowed next statuses from "draft": "sent"'),
                  (diag.constraint_name, diag.message_detail, diag.message_hint))
        check("after the rollback the row is still draft",
              session.get(Invitation, key).status == "draft")

    # the same with psycopg 3 alone: decline needs a reason
    with psycopg.connect() as conn:
        conn.execute("SELECT statusflow.fire('invitations', %s, 'send')", (key,))
        conn.commit()
        try:
            conn.execute("SELECT statusflow.fire('invitations', %s, 'decline')", (key,))
            check("psycopg raises CheckViolation for decline without a reason", False)
        except psycopg.errors.CheckViolation as e:
            conn.rollback()
            note(f"detail:  {e.diag.message_detail}")
            note(f"hint:    {e.diag.message_hint}")
            check("psycopg raises CheckViolation for decline without a reason",
                  "requires a reason" in e.diag.message_detail
                  and e.diag.constraint_name == "invitations_status_workflow",
                  e.diag.message_detail)
        status = conn.execute("SELECT statusflow.fire('invitations', %s, 'decline', reason => %s)",
                              (key, "moved away")).fetchone()[0]
        conn.commit()
        check("with reason => ... it is declined", status == "declined")


# --- 4. the actor of each request -------------------------------------------

def actors():
    key = new_invitation("dan@example.com")
    token = current_actor.set("alice@staff")      # what a middleware would do
    try:
        with Request.begin() as session:
            session.get(Invitation, key).status = "sent"
    finally:
        current_actor.reset(token)
    with Request.begin() as session:                # a request with no actor
        leftover = session.execute(text("SELECT current_setting('statusflow.actor', true)")).scalar()
        fire(session, key, "open")
    rows = history(key)
    check("the history row of alice's request names her as the actor",
          rows[1][1] == "sent" and rows[1][3] == "alice@staff", rows)
    check("set_config(..., true) ends with the transaction: the next request has no actor",
          leftover == "" and rows[2][3] is None, (leftover, rows))

    # the trap: a session-level SET stays on the pooled connection
    pool_of_one = make_engine(pool_size=1, max_overflow=0)
    with Session(pool_of_one, future=True) as session:
        session.execute(text("SET statusflow.actor = 'mallory'"))
        session.commit()
    with Session(pool_of_one, future=True) as session:   # another request
        fire(session, key, "accept")
        session.commit()
    pool_of_one.dispose()
    check("trap: a session-level SET statusflow.actor leaks to the next request of the pool",
          history(key)[-1][3] == "mallory", history(key))


# --- 5. the next-transitions dropdown ---------------------------------------

def dropdown():
    key = new_invitation("eve@example.com")
    with Request.begin() as session:
        fire(session, key, "send")
    with Request() as session:
        options = session.execute(text(
            "SELECT event, to_status, allowed, requires_reason, refusal"
            " FROM statusflow.next_transitions('invitations', :key)"), {"key": key}).all()
        seen = session.get(Invitation, key).status
    for o in options:
        note(f'<option value="{o.event}"{"" if o.allowed else " disabled"}>{o.to_status}'
             f'{" (reason required)" if o.requires_reason else ""}</option>')
    check("next_transitions lists the events open from sent",
          [(o.event, o.allowed) for o in options] ==
          [("open", True), ("bounce", True), ("accept", True), ("decline", True)]
          and [o.event for o in options if o.requires_reason] == ["decline"], options)

    # the form posts back the status it showed: expect => refuses a stale one
    with Request.begin() as session:
        fire(session, key, "open")                  # someone else was quicker
    with Request() as session:
        try:
            fire(session, key, "bounce", expect=seen)
            check("a stale form (expect => 'sent') is refused with 40001", False)
        except exc.OperationalError as e:
            session.rollback()
            check("a stale form (expect => 'sent') is refused with 40001",
                  e.orig.diag.sqlstate == "40001", e.orig)

    key = new_invitation("fay@example.com")
    with Request.begin() as session:
        fire(session, key, "send")
        fire(session, key, "bounce")
        resend = session.execute(text(
            "SELECT allowed, refusal FROM statusflow.next_transitions('invitations', :key)"
            " WHERE event = 'resend'"), {"key": key}).one()
    check("a bounced row shows resend disabled, with the reason why",
          not resend.allowed and "email" in resend.refusal, resend)


# --- 6. the change feed, consumed by a worker ---------------------------------

class WorkerDied(Exception):
    pass


def mailer_batch(conn, crash=False):
    """Read the feed and record each "sent" change; commit acknowledges both."""
    with conn.transaction():
        changes = conn.execute(
            "SELECT history_id, key, to_status, applied"
            " FROM statusflow.read_feed('invitations', 'mailer')").fetchall()
        for history_id, key, to_status, applied in changes:
            if applied and to_status == "sent":
                conn.execute("INSERT INTO sent_emails (history_id, email)"
                             " SELECT %s, email FROM invitations WHERE id = %s",
                             (history_id, key["id"]))
        if crash:
            raise WorkerDied(len(changes))      # before its commit
    return len(changes)


def feed_worker():
    with psycopg.connect() as conn:
        try:
            mailer_batch(conn, crash=True)
        except WorkerDied as died:
            first = died.args[0]                    # changes it had read
        count = conn.execute("SELECT count(*) FROM sent_emails").fetchone()[0]
        delivered = mailer_batch(conn)
        again = mailer_batch(conn)
        sent = conn.execute(
            "SELECT h.history_id, i.email FROM invitations_status_history h"
            " JOIN invitations i USING (id) WHERE h.to_status = 'sent' ORDER BY 1").fetchall()
        recorded = conn.execute(
            "SELECT history_id, email FROM sent_emails ORDER BY 1").fetchall()
        conn.commit()
    check("a batch rolled back records nothing and is fed again",
          count == 0 and delivered == first > 0, (first, count, delivered))
    check(f"the worker recorded each of the {len(sent)} 'sent' changes once",
          recorded == sent and len(sent) > 0, (recorded, sent))
    check("after the commit the feed has nothing more", again == 0, again)


# --- 7. create_all / drop_all and the extension's objects ---------------------

def metadata_traps():
    naive = MetaData()     # the model as one would write it first
    Table("invitations", naive, Column("id", BigInteger, primary_key=True),
          Column("status", ENUM(*STATUSES, name="invitation_status")))
    with superuser_engine.connect() as conn:       # even the owner trips
        try:
            with conn.begin():
                naive.drop_all(conn)
            check("trap: drop_all with a created enum type fails", False)
        except exc.DBAPIError as e:
            check("trap: drop_all with Enum(create_type=True) fails: the history table uses the type",
                  e.orig.diag.sqlstate == "2BP01" and "invitations_status_history"
                  in e.orig.diag.message_detail, e.orig)

        everything = MetaData()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")        # "Did not recognize type 'xid8'"
            everything.reflect(conn)
        conn.rollback()
        try:
            with conn.begin():
                everything.drop_all(conn)
            check("trap: drop_all after reflect() fails", False)
        except exc.DBAPIError as e:
            check("trap: drop_all of every reflected table fails on the history table",
                  "history table" in e.orig.diag.message_primary, e.orig)

        # create_type=False: drop_all "works", and create_all makes a bare table
        trans = conn.begin()
        Base.metadata.drop_all(conn)
        bindings = conn.execute(text("SELECT count(*) FROM statusflow.bindings")).scalar()
        Base.metadata.create_all(conn)
        # nothing checks the status any more: a row can start out accepted
        conn.execute(text("INSERT INTO invitations (email, status) VALUES ('x@example.com', 'accepted')"))
        trans.rollback()
        check("trap: drop_all + create_all of the model detach the workflow silently",
              bindings == 0)

        trans = conn.begin()
        Base.metadata.drop_all(conn, tables=owned_tables())
        Base.metadata.create_all(conn, tables=owned_tables())
        bindings = conn.execute(text("SELECT count(*) FROM statusflow.bindings")).scalar()
        trans.rollback()
        check("fix: drop_all/create_all(tables=owned_tables()) keep the workflow", bindings == 1)

    mine = MetaData()
    mine.reflect(engine, only=[t.name for t in owned_tables()])
    check("fix: reflect(only=[...]) reflects only the app's tables",
          sorted(mine.tables) == ["sent_emails"], sorted(mine.tables))


# --- 8. Alembic autogenerate ---------------------------------------------------

def alembic_autogenerate():
    with engine.connect() as conn:
        plain = MigrationContext.configure(conn, opts={"include_schemas": True})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            diffs = compare_metadata(plain, Base.metadata)
        dropped = sorted(d[1].fullname for d in diffs if d[0] == "remove_table")
        note("without the filter autogenerate would drop: " + ", ".join(dropped))
        check("trap: autogenerate proposes dropping the history table and statusflow's tables",
              "invitations_status_history" in dropped and "statusflow.workflow" in dropped
              and {d[0] for d in diffs} == {"remove_table", "remove_index"},
              sorted({d[0] for d in diffs}))

        filtered = MigrationContext.configure(conn, opts={
            "include_schemas": True, "include_name": include_name_filter(conn)})
        diffs = compare_metadata(filtered, Base.metadata)
        check("fix: with the include_name filter autogenerate finds nothing to do", diffs == [],
              diffs)

    # the same through env.py: alembic revision --autogenerate
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as versions:
        config = Config(os.path.join(here, "alembic.ini"))
        config.set_main_option("version_locations", versions)
        with contextlib.redirect_stdout(io.StringIO()):     # "Generating ..."
            script = command.revision(config, message="check", autogenerate=True)
        with open(script.path) as f:
            body = f.read()
    check("alembic revision --autogenerate through env.py writes an empty migration",
          "op." not in body.split("def upgrade")[1], body)


# --- 9. PgBouncer in transaction mode --------------------------------------------

def pgbouncer():
    if not os.environ.get("PGBOUNCER_HOST"):
        print("ok - PgBouncer traps # SKIP PgBouncer not running")
        return
    where = dict(host=os.environ["PGBOUNCER_HOST"], port=os.environ["PGBOUNCER_PORT"],
                 autocommit=True)
    query = "SELECT count(*) FROM invitations WHERE status = %s"
    # psycopg prepares a query run 5 times; a pool of one server connection
    # makes the clash certain instead of intermittent
    with psycopg.connect(**where) as a, psycopg.connect(**where) as b:
        try:
            for conn in (a, b):
                for _ in range(8):
                    conn.execute(query, ("sent",))
            check("trap: psycopg's prepared statements clash behind PgBouncer", False)
        except psycopg.errors.DuplicatePreparedStatement as e:
            check("trap: psycopg's prepared statements clash behind PgBouncer"
                  " (DuplicatePreparedStatement)", True)
            note(str(e))
        a.execute("SET statusflow.actor = 'mallory'")
        leaked = b.execute("SELECT current_setting('statusflow.actor', true)").fetchone()[0]
        check("trap: a session-level SET shows up in another client of PgBouncer",
              leaked == "mallory", leaked)
        a.execute("RESET statusflow.actor")
    with psycopg.connect(**where, prepare_threshold=None) as a, \
            psycopg.connect(**where, prepare_threshold=None) as b:
        for conn in (a, b):
            for _ in range(8):
                conn.execute(query, ("opened",))
        with a.transaction():
            a.execute("SELECT set_config('statusflow.actor', %s, true)", ("alice@staff",))
        leaked = b.execute("SELECT current_setting('statusflow.actor', true)").fetchone()[0]
    check("fix: prepare_threshold=None runs behind PgBouncer; set_config(..., true) leaks nothing",
          leaked == "", leaked)


sections = [own_tables, model_column, status_changes, refusals, actors, dropdown,
            feed_worker, metadata_traps, alembic_autogenerate, pgbouncer]
for section in sections:
    try:
        section()
    except Exception:
        check(f"{section.__name__} ran to its end", False, traceback.format_exc())
engine.dispose()
superuser_engine.dispose()
sys.exit(1 if failed else 0)
