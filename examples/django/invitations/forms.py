from django import forms


class TransitionForm(forms.Form):
    """The "what next?" dropdown of one invitation, from
    statusflow.next_transitions(): only what the database would accept from
    this row for this role, a reason where the workflow wants one."""

    event = forms.ChoiceField()
    reason = forms.CharField(required=False)
    # the status the user saw: the change is made only if it still holds
    expect = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, invitation, *args, **kwargs):
        super().__init__(*args, **kwargs)
        options = invitation.next_transitions()
        self.fields["event"].choices = [
            (t.event, f"{t.event} (to {t.to_status})") for t in options if t.allowed
        ]
        self.needs_reason = {t.event for t in options if t.allowed and t.requires_reason}
        self.refused = {t.event: t.refusal for t in options if not t.allowed}
        self.fields["expect"].initial = invitation.status

    def clean(self):
        data = super().clean()
        if data.get("event") in self.needs_reason and not data.get("reason"):
            self.add_error("reason", f"{data['event']} needs a reason.")
        return data
