"""The application's model: SQLAlchemy over the tables of examples/schema.sql.

invitations is bound to the "invitation" workflow by statusflow.attach():
the schema script made the table, the enum type invitation_status (the
workflow's statuses) and the history table invitations_status_history.
SQLAlchemy maps the table but must never create or drop any of them.
sent_emails is the application's own table: create_all() and Alembic manage
it as usual.
"""

import sqlalchemy
from sqlalchemy import BigInteger, Column, DateTime, Text, create_engine, func
from sqlalchemy.dialects.postgresql import ENUM
from sqlalchemy.orm import declarative_base

STATUSES = ("draft", "sent", "opened", "bounced", "accepted", "declined")

# The workflow's type: mapped, never created or dropped (the history table
# uses it too, and statusflow owns its labels).
InvitationStatus = ENUM(*STATUSES, name="invitation_status", create_type=False)

Base = declarative_base()


class Invitation(Base):
    __tablename__ = "invitations"
    # info marks the tables that statusflow watches: see owned_tables()
    __table_args__ = {"info": {"statusflow": True}}

    id = Column(BigInteger, primary_key=True)
    email = Column(Text, nullable=False)
    status = Column(InvitationStatus, nullable=False, server_default="draft")
    updated_at = Column(DateTime(timezone=True), nullable=False,
                        server_default=func.now(), onupdate=func.now())


class SentEmail(Base):
    """What the mailer worker recorded, one row per change it was fed."""
    __tablename__ = "sent_emails"

    history_id = Column(BigInteger, primary_key=True)
    email = Column(Text, nullable=False)
    recorded_at = Column(DateTime(timezone=True), nullable=False, server_default=func.now())


def owned_tables(metadata=Base.metadata):
    """The tables create_all()/drop_all() may touch: not the statusflow ones."""
    return [t for t in metadata.sorted_tables if not t.info.get("statusflow")]


# SQLAlchemy 1.4 (Debian 12) drives PostgreSQL through psycopg2; 2.0 has a
# psycopg 3 dialect.  The rest of the code is the same with either.
DRIVER = "psycopg" if int(sqlalchemy.__version__.split(".")[0]) >= 2 else "psycopg2"


def make_engine(user=None, **kwargs):
    """An engine; libpq reads PGHOST, PGPORT, PGDATABASE and PGUSER."""
    connect_args = kwargs.pop("connect_args", {})
    if user:
        connect_args["user"] = user
    return create_engine(f"postgresql+{DRIVER}://", future=True,
                         connect_args=connect_args, **kwargs)


# --- Alembic: what autogenerate must leave alone ---------------------------

STATUSFLOW_SCHEMAS = {"statusflow", "statusflow_internal"}


def include_name_filter(connection):
    """An include_name filter for Alembic's context.configure().

    Without it autogenerate sees the history tables (and, with
    include_schemas=True, statusflow's own tables) in the database but not in
    the model, and writes op.drop_table() for each of them.  Skipped by
    name, they are not even reflected.
    """
    history = set(connection.exec_driver_sql(
        "SELECT history_table::text FROM statusflow.bindings").scalars())

    def include_name(name, type_, parent_names):
        if type_ == "schema":
            return name not in STATUSFLOW_SCHEMAS
        if type_ == "table":
            return parent_names["schema_qualified_table_name"] not in history
        return True

    return include_name
