from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404

from . import workflow
from .forms import TransitionForm
from .models import Invitation


def invitation(request, pk):
    """GET: the form with its dropdown.  POST: fire the chosen event."""
    inv = get_object_or_404(Invitation, pk=pk)
    if request.method != "POST":
        return HttpResponse(TransitionForm(inv).as_p())
    form = TransitionForm(inv, request.POST)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors}, status=400)
    try:
        inv.status = workflow.fire(
            inv._meta.db_table, inv.pk, form.cleaned_data["event"],
            reason=form.cleaned_data["reason"] or None,
            expect=form.cleaned_data["expect"],  # the status the user saw
        )
    except DatabaseError as e:
        # refused (23514, 42501) or changed meanwhile (40001): fire() ran in a
        # savepoint, so this request's transaction is still usable
        return JsonResponse(workflow.refusal(e), status=409)
    return JsonResponse({"status": inv.status})


def crash(request, pk):
    """A view that changes a status, then fails: nothing of it must stay."""
    inv = get_object_or_404(Invitation, pk=pk)
    inv.status = Invitation.Status.SENT
    inv.save(update_fields=["status", "updated_at"])
    raise RuntimeError("the view failed after its change")
