"""The Django example's checks, one TAP line each (run.sh runs this).

Every check makes its own invitations, as the app role, through the model,
the views (Django's test client, full middleware stack) and the worker.
"""
import glob
import io
import os
import traceback
from collections import Counter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
import django  # noqa: E402

django.setup()

import psycopg2.errors  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.management.base import CommandError  # noqa: E402
from django.db import IntegrityError, OperationalError, connection, transaction  # noqa: E402
from django.db.transaction import TransactionManagementError  # noqa: E402
from django.test import Client  # noqa: E402

from invitations import workflow  # noqa: E402
from invitations.forms import TransitionForm  # noqa: E402
from invitations.models import Invitation  # noqa: E402
from invitations.workflow import acting_as  # noqa: E402

S = Invitation.Status
failures = 0


def check(what):
    """Run the decorated function now; a true result is "ok"."""
    def run(fn):
        global failures
        try:
            good = bool(fn())
        except Exception:
            good = False
            for line in traceback.format_exc().splitlines():
                print("# " + line)
        print(("ok - " if good else "not ok - ") + what, flush=True)
        failures += not good
        return fn
    return run


def note(text):
    print("#   " + str(text).replace("\n", "\n#   "), flush=True)


def sql(query, params=()):
    with connection.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def history(inv):
    """(from, to, event, actor, reason) of each change of inv, in order."""
    return sql(
        "SELECT from_status::text, to_status::text, event, actor, reason"
        " FROM invitations_status_history WHERE id = %s ORDER BY history_id",
        [inv.pk],
    )


def db_status(inv):
    return Invitation.objects.values_list("status", flat=True).get(pk=inv.pk)


def invitation(*events, email="guest@example.com"):
    inv = Invitation.objects.create(email=email)
    for event in events:
        inv.fire(event)
    return inv


def refused(exc):
    info = workflow.refusal(exc)
    note(f"{type(exc).__module__}.{type(exc).__name__} (psycopg2 "
         f"{type(exc.__cause__).__name__}, SQLSTATE {info['sqlstate']}): {info['message']}")
    note(f"detail: {info['detail']}")
    note(f"hint: {info['hint']}")
    return info


def mails():
    """The e-mails the worker wrote, as their To: addresses (in no order:
    the file-based backend names its files by time and object id)."""
    to = []
    for name in sorted(glob.glob(os.path.join(os.environ["MAIL_DIR"], "*"))):
        with open(name) as f:
            to += [line[4:].strip() for line in f if line.startswith("To: ")]
    return to


def worker(*args):
    out = io.StringIO()
    call_command("send_invitations", *args, stdout=out)
    return out.getvalue()


# -- 1. the workflow on the model's column -------------------------------------

@check("the workflow 'invitation' is attached to Invitation.status (statusflow.bindings)")
def _():
    field = Invitation._meta.get_field("status")
    rows = sql("SELECT workflow FROM statusflow.bindings"
               " WHERE table_name = %s::regclass AND column_name = %s",
               [Invitation._meta.db_table, field.column])
    return rows == [("invitation",)]


@check("the model's status choices are the labels of the column's enum type")
def _():
    labels = sql("SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder)"
                 " FROM pg_attribute a JOIN pg_enum e ON e.enumtypid = a.atttypid"
                 " WHERE a.attrelid = %s::regclass AND a.attname = 'status'",
                 [Invitation._meta.db_table])[0][0]
    return labels == list(S.values)


# -- 2. status changes through save() and statusflow.fire() --------------------

@check("save() creates a draft; the history starts at draft")
def _():
    inv = Invitation.objects.create(email="new@example.com")
    return db_status(inv) == "draft" and history(inv) == [(None, "draft", None, None, None)]


@check("save() moves draft -> sent; the trigger records the event 'send'")
def _():
    inv = Invitation.objects.create(email="save@example.com")
    inv.status = S.SENT
    inv.save()
    return db_status(inv) == "sent" and history(inv)[-1][:3] == ("draft", "sent", "send")


@check("Invitation.fire('open') runs statusflow.fire(): sent -> opened")
def _():
    inv = invitation("send")
    got = inv.fire("open")
    return (got == "opened" and inv.status == "opened" and db_status(inv) == "opened"
            and history(inv)[-1][:3] == ("sent", "opened", "open"))


# -- 3. refusals as Django's exceptions ---------------------------------------

@check("a refused save() (draft -> accepted) is django.db.IntegrityError, "
       "its __cause__ psycopg2's 23514 with detail, hint and constraint")
def _():
    inv = invitation()
    inv.status = S.ACCEPTED
    try:
        inv.save()
    except IntegrityError as e:
        info = refused(e)
        return (isinstance(e.__cause__, psycopg2.errors.CheckViolation)
                and info["sqlstate"] == "23514"
                and info["constraint"] == "invitations_status_workflow"
                and e.__cause__.diag.table_name == "invitations"
                and e.__cause__.diag.column_name == "status"
                and "no transition" in info["detail"] and '"sent"' in info["hint"]
                and db_status(inv) == "draft")
    return False


@check("fire('decline') without a reason is refused (IntegrityError 23514); "
       "with one it passes and the reason is in the history")
def _():
    inv = invitation("send")
    try:
        inv.fire("decline")
        return False
    except IntegrityError as e:
        info = refused(e)
        if info["sqlstate"] != "23514" or "reason" not in info["detail"]:
            return False
    inv.fire("decline", reason="moved abroad")
    return db_status(inv) == "declined" and history(inv)[-1][4] == "moved abroad"


@check("inside atomic(), a refusal caught from fire() (its own savepoint) "
       "leaves the transaction usable")
def _():
    inv = invitation()
    with transaction.atomic():
        try:
            inv.fire("accept")
        except IntegrityError:
            pass
        inv.fire("send")  # the same transaction goes on
    return db_status(inv) == "sent"


@check("trap: a refused save() caught inside atomic() without a nested atomic() "
       "breaks the transaction (TransactionManagementError, all rolled back); "
       "fix: wrap the save() in its own atomic()")
def _():
    inv = invitation()
    other = invitation()
    broken = False
    with transaction.atomic():
        other.fire("send")
        inv.status = S.ACCEPTED
        try:
            inv.save()
        except IntegrityError:
            pass
        try:
            Invitation.objects.count()
        except TransactionManagementError as e:
            broken = True
            note(f"TransactionManagementError: {e}")
    lost = db_status(other) == "draft"  # its send went with the rollback
    other.refresh_from_db()  # the instance still said 'sent'
    with transaction.atomic():
        inv.status = S.ACCEPTED
        try:
            with transaction.atomic():
                inv.save()
        except IntegrityError:
            inv.status = S.DRAFT
        other.fire("send")
    return broken and lost and db_status(other) == "sent"


# -- 4. the actor of each request ----------------------------------------------

@check("a request by alice fires 'send' through the middleware; the history says actor alice")
def _():
    inv = invitation()
    r = Client().post(f"/invitations/{inv.pk}/", {"event": "send", "expect": "draft"},
                      HTTP_X_EXAMPLE_USER="alice")
    return (r.status_code == 200 and r.json() == {"status": "sent"}
            and history(inv)[-1][1:4] == ("sent", "send", "alice"))


@check("the actor does not outlive the request on the kept connection (set_config(..., true))")
def _():
    inv = invitation()
    pid = sql("SELECT pg_backend_pid()")[0][0]
    Client().post(f"/invitations/{inv.pk}/", {"event": "send", "expect": "draft"},
                  HTTP_X_EXAMPLE_USER="bob")
    after = sql("SELECT pg_backend_pid(), current_setting('statusflow.actor', true)")[0]
    return history(inv)[-1][3] == "bob" and after[0] == pid and not after[1]


@check("acting_as('importer') around a plain save() records the actor")
def _():
    inv = invitation()
    with acting_as("importer"):
        inv.status = S.SENT
        inv.save()
    return history(inv)[-1][1:4] == ("sent", "send", "importer")


@check("trap: set_config(..., true) outside atomic() is lost at once (autocommit): no actor")
def _():
    inv = invitation()
    sql("SELECT set_config('statusflow.actor', 'nobody-sees-me', true)")
    inv.status = S.SENT
    inv.save()
    return history(inv)[-1][1:4] == ("sent", "send", None)


@check("a request that fails (500) leaves no change: the middleware rolls back on 5xx")
def _():
    inv = invitation()
    r = Client(raise_request_exception=False).post(f"/invitations/{inv.pk}/crash/",
                                                   HTTP_X_EXAMPLE_USER="carol")
    return r.status_code == 500 and db_status(inv) == "draft" and len(history(inv)) == 1


# -- 5. the next-transitions dropdown -------------------------------------------

@check("the dropdown of a sent invitation offers open, bounce, accept, decline "
       "(decline needs a reason)")
def _():
    inv = invitation("send")
    form = TransitionForm(inv)
    events = [value for value, label in form.fields["event"].choices]
    html = Client().get(f"/invitations/{inv.pk}/").content.decode()
    note("\n".join(line for line in str(form["event"]).splitlines() if line.strip()))
    return (events == ["open", "bounce", "accept", "decline"]
            and form.needs_reason == {"decline"}
            and '<option value="bounce">bounce (to bounced)</option>' in html
            and 'value="sent"' in html)  # the hidden expect field


@check("the dropdown of a bounced invitation is empty: resend is refused "
       "until the address changes, and says why")
def _():
    inv = invitation("send", "bounce")
    form = TransitionForm(inv)
    note(f"resend: {form.refused.get('resend')}")
    return (form.fields["event"].choices == []
            and "NEW.email IS DISTINCT FROM OLD.email" in form.refused["resend"])


@check("posting decline without a reason fails the form (400) and changes nothing")
def _():
    inv = invitation("send")
    r = Client().post(f"/invitations/{inv.pk}/", {"event": "decline", "expect": "sent"},
                      HTTP_X_EXAMPLE_USER="alice")
    return r.status_code == 400 and "reason" in r.json()["errors"] and db_status(inv) == "sent"


@check("a form posted after the row changed is refused (409, SQLSTATE 40001), not applied")
def _():
    inv = invitation("send")
    Invitation.objects.get(pk=inv.pk).fire("open")  # someone else, meanwhile
    r = Client().post(f"/invitations/{inv.pk}/", {"event": "accept", "expect": "sent"},
                      HTTP_X_EXAMPLE_USER="alice")
    body = r.json()
    note(f"409: {body['message']} / {body['detail']}")
    return r.status_code == 409 and body["sqlstate"] == "40001" and db_status(inv) == "opened"


# -- traps of Django's full-row save(), and their fixes -------------------------

@check("trap: a stale instance's full-row save() writes its old status back: "
       "sent -> draft is no transition, so the e-mail fix is refused (23514)")
def _():
    inv = invitation(email="old@example.com")
    first, second = Invitation.objects.get(pk=inv.pk), Invitation.objects.get(pk=inv.pk)
    first.status = S.SENT
    first.save()
    second.email = "fixed@example.com"  # an unrelated change
    try:
        second.save()  # UPDATE ... SET email = ..., status = 'draft', ...
        return False
    except IntegrityError as e:
        info = refused(e)
        return (info["sqlstate"] == "23514" and db_status(inv) == "sent"
                and Invitation.objects.get(pk=inv.pk).email == "old@example.com")


@check("trap: when the move back is a declared transition the overwrite is silent: "
       "a bounce is undone as a 'resend' (bounced -> sent, the e-mail changed)")
def _():
    inv = invitation("send", email="typo@exmaple.com")
    mailer, editor = Invitation.objects.get(pk=inv.pk), Invitation.objects.get(pk=inv.pk)
    mailer.status = S.BOUNCED
    mailer.save()
    with acting_as("dave"):
        editor.email = "fixed@example.com"  # dave only fixes the address
        editor.save()  # and writes back status 'sent' without an error
    last = history(inv)[-1]
    note(f"history: {last[0]} -> {last[1]}, event {last[2]}, actor {last[3]}")
    return db_status(inv) == "sent" and last[:4] == ("bounced", "sent", "resend", "dave")


@check("fix: save(update_fields=['email', 'updated_at']) leaves the concurrent bounce alone")
def _():
    inv = invitation("send", email="typo@exmaple.com")
    mailer, editor = Invitation.objects.get(pk=inv.pk), Invitation.objects.get(pk=inv.pk)
    mailer.status = S.BOUNCED
    mailer.save(update_fields=["status", "updated_at"])
    editor.email = "fixed@example.com"
    editor.save(update_fields=["email", "updated_at"])
    row = Invitation.objects.get(pk=inv.pk)
    return (row.status == "bounced" and row.email == "fixed@example.com"
            and history(inv)[-1][:3] == ("sent", "bounced", "bounce"))


@check("fix: fire(..., expect => the instance's status) on a stale instance raises "
       "OperationalError (40001) and changes nothing; after a reload it passes")
def _():
    inv = invitation("send")
    first, second = Invitation.objects.get(pk=inv.pk), Invitation.objects.get(pk=inv.pk)
    first.fire("open")
    try:
        second.fire("accept")  # second still holds 'sent'
        return False
    except OperationalError as e:
        info = refused(e)
        if not (workflow.is_stale(e) and info["sqlstate"] == "40001"
                and isinstance(e.__cause__, psycopg2.errors.SerializationFailure)
                and db_status(inv) == "opened"):
            return False
    second.refresh_from_db()
    return second.fire("accept") == "accepted"


@check("resend sets the new address and status in one filtered UPDATE; "
       "a stale second resend updates nothing")
def _():
    inv = invitation("send", "bounce", email="typo@exmaple.com")
    first, second = Invitation.objects.get(pk=inv.pk), Invitation.objects.get(pk=inv.pk)
    ok_first = first.resend("fixed@example.com")
    ok_second = second.resend("other@example.com")
    row = Invitation.objects.get(pk=inv.pk)
    return (ok_first and not ok_second and row.status == "sent"
            and row.email == "fixed@example.com"
            and history(inv)[-1][:3] == ("bounced", "sent", "resend"))


@check("trap: without managed = False, migrate would CREATE TABLE invitations "
       "with status varchar(20): no enum, no workflow")
def _():
    with connection.schema_editor(collect_sql=True) as editor:
        editor.create_model(Invitation)
    ddl = " ".join(editor.collected_sql)
    note(ddl)
    return 'CREATE TABLE "invitations"' in ddl and '"status" varchar(20)' in ddl


# -- 6. the change feed, consumed by the worker --------------------------------

@check("the worker (manage.py send_invitations) mails once per committed change to 'sent'")
def _():
    expected = sql("SELECT count(*) FROM invitations_status_history WHERE to_status = 'sent'")[0][0]
    out = worker()
    note(out.strip().splitlines()[-1])
    return expected > 0 and len(mails()) == expected and f"{expected} e-mails sent" in out


@check("a second run finds nothing new: each change is mailed once")
def _():
    before = len(mails())
    out = worker()
    return "0 e-mails sent" in out and len(mails()) == before


@check("a run that fails is rolled back: its changes come again with the next run")
def _():
    inv = invitation("send", email="retry@example.com")
    before = Counter(mails())
    try:
        worker("--fail")
        return False
    except CommandError as e:
        note(f"CommandError: {e}")
    if Counter(mails()) != before:
        return False
    worker()
    new = list((Counter(mails()) - before).elements())
    note(f"mailed by the next run: {new}")
    return new == ["retry@example.com"] and db_status(inv) == "sent"


raise SystemExit(1 if failures else 0)
