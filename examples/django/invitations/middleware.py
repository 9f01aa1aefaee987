from types import SimpleNamespace

from django.db import transaction

from .workflow import acting_as


def actor_of(request):
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.get_username()
    return None


class ActorMiddleware:
    """Each request in one transaction, with its user as statusflow.actor.

    Django turns a view's exception into a 500 response before it reaches
    this middleware, so the transaction is rolled back on any 5xx.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with acting_as(actor_of(request)):
            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)
        return response


class ExampleUserMiddleware:
    """Example only: the user named by the X-Example-User header.  A real
    project has django.contrib.auth's AuthenticationMiddleware here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = request.headers.get("X-Example-User")
        request.user = SimpleNamespace(
            is_authenticated=bool(name), get_username=lambda: name
        )
        return self.get_response(request)
