# An unmanaged model's migration: Django records the model and runs no SQL
# (the table comes from examples/schema.sql, with its workflow).
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Invitation",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("email", models.TextField()),
                ("status", models.CharField(
                    choices=[("draft", "Draft"), ("sent", "Sent"), ("opened", "Opened"),
                             ("bounced", "Bounced"), ("accepted", "Accepted"),
                             ("declined", "Declined")],
                    default="draft", max_length=20)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={"db_table": "invitations", "managed": False},
        ),
    ]
