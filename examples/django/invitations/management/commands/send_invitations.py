from django.core.mail import get_connection, send_mail
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from invitations.models import Invitation


class Command(BaseCommand):
    help = "Send the e-mail of every invitation that went to 'sent' since the last run."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=100)
        parser.add_argument(
            "--fail", action="store_true",
            help="fail after reading the changes (the example shows they come again)",
        )

    def handle(self, *args, batch, fail, **options):
        sent = 0
        mailer = get_connection()
        while True:
            # read_feed() moves the cursor in this transaction: committed
            # with the work, or rolled back (an error) and read again next run
            with transaction.atomic():
                with connection.cursor() as cur:
                    cur.execute(
                        "SELECT (key->>'id')::bigint, to_status, event"
                        " FROM statusflow.read_feed('invitations', 'mailer', %s)",
                        [batch],
                    )
                    changes = cur.fetchall()
                if not changes:
                    break
                if fail:
                    raise CommandError(f"failed with {len(changes)} changes read")
                for pk, to_status, event in changes:
                    if to_status != Invitation.Status.SENT:
                        continue
                    inv = Invitation.objects.get(pk=pk)
                    send_mail(
                        "Please review us", f"Invitation {pk} ({event})", None,
                        [inv.email], connection=mailer,
                    )
                    sent += 1
                    self.stdout.write(f"sent invitation {pk} to {inv.email}")
        self.stdout.write(f"{sent} e-mails sent")
        return None
