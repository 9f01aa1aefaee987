from django.db import models
from django.db.models.functions import Now

from . import workflow


class Invitation(models.Model):
    """The invitations table of examples/schema.sql; statusflow guards status."""

    class Status(models.TextChoices):
        # the labels of the enum invitation_status, in its order
        DRAFT = "draft"
        SENT = "sent"
        OPENED = "opened"
        BOUNCED = "bounced"
        ACCEPTED = "accepted"
        DECLINED = "declined"

    id = models.BigAutoField(primary_key=True)
    email = models.TextField()
    # the column's type is the enum; Django sends text, PostgreSQL casts it
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        managed = False  # the table, its type and its triggers come from SQL
        db_table = "invitations"

    def __str__(self):
        return f"invitation {self.pk} ({self.status})"

    def fire(self, event, reason=None, check_status=True):
        """Apply an event; with check_status, only if the row is still in the
        status this instance holds (else OperationalError, SQLSTATE 40001)."""
        self.status = workflow.fire(
            self._meta.db_table, self.pk, event, reason=reason,
            expect=self.status if check_status else None,
        )
        return self.status

    def next_transitions(self):
        return workflow.next_transitions(self._meta.db_table, self.pk)

    def resend(self, new_email):
        """bounced -> sent needs the address changed in the same UPDATE, which
        fire() cannot do: one filtered UPDATE, a no-op if the row moved on."""
        done = Invitation.objects.filter(pk=self.pk, status=self.Status.BOUNCED).update(
            email=new_email, status=self.Status.SENT, updated_at=Now()
        )
        if done:
            self.email, self.status = new_email, self.Status.SENT
        return bool(done)
