"""Alembic's environment: the model's metadata, minus what statusflow owns."""
from alembic import context

import models


def run_migrations_online():
    engine = models.make_engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=models.Base.metadata,
            # the history tables and the statusflow schemas are not the
            # model's: never propose to drop them
            include_name=models.include_name_filter(connection),
            include_schemas=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("this example runs migrations online only")
run_migrations_online()
