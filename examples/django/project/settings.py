"""Settings of the statusflow example: one app, PostgreSQL from the PG* variables."""
import os

SECRET_KEY = "example-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost"]
USE_TZ = True

INSTALLED_APPS = ["invitations"]
ROOT_URLCONF = "project.urls"
MIDDLEWARE = [
    # stands in for django.contrib.auth's AuthenticationMiddleware (no auth tables here)
    "invitations.middleware.ExampleUserMiddleware",
    # one transaction per request, with the user as statusflow.actor
    "invitations.middleware.ActorMiddleware",
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("PGDATABASE", "example_django"),
        "USER": os.environ.get("PGUSER", "app"),
        "HOST": os.environ.get("PGHOST", ""),  # a socket directory works too
        "PORT": os.environ.get("PGPORT", ""),
        # persistent connections, as behind a pool: a setting must not leak
        # from one request to the next
        "CONN_MAX_AGE": 60,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# the mailer worker "sends" into files, one per run
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ.get("MAIL_DIR", "/tmp/statusflow-django-mail")
DEFAULT_FROM_EMAIL = "reviews@example.com"
