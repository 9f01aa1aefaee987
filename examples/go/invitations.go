package main

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgconn"
	"github.com/jackc/pgx/v4"
)

// Invitation is one row of invitations.  Status is the column the workflow
// "invitation" is attached to; its type is the enum invitation_status, which
// pgx reads into a Go string and sends from one.
type Invitation struct {
	ID        int64
	Email     string
	Status    string
	UpdatedAt time.Time
}

// DB is what the queries need: a *pgxpool.Pool, a *pgxpool.Conn or a pgx.Tx.
type DB interface {
	Exec(ctx context.Context, sql string, args ...interface{}) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...interface{}) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...interface{}) pgx.Row
}

const invitationColumns = "id, email, status, updated_at"

func scanInvitation(row pgx.Row) (Invitation, error) {
	var inv Invitation
	err := row.Scan(&inv.ID, &inv.Email, &inv.Status, &inv.UpdatedAt)
	return inv, err
}

func CreateInvitation(ctx context.Context, db DB, email string) (Invitation, error) {
	return scanInvitation(db.QueryRow(ctx,
		"INSERT INTO invitations (email) VALUES ($1) RETURNING "+invitationColumns, email))
}

// SetStatus changes the status with a plain UPDATE: statusflow's trigger
// checks it against the workflow like any other change.
func SetStatus(ctx context.Context, db DB, id int64, status string) (Invitation, error) {
	return scanInvitation(db.QueryRow(ctx,
		"UPDATE invitations SET status = $2, updated_at = now() WHERE id = $1 RETURNING "+invitationColumns,
		id, status))
}

// Resend sends a bounced invitation again.  The workflow's resend needs a
// new address (NEW.email IS DISTINCT FROM OLD.email), so the address and the
// status change in the same UPDATE.
func Resend(ctx context.Context, db DB, id int64, email string) (Invitation, error) {
	return scanInvitation(db.QueryRow(ctx,
		"UPDATE invitations SET email = $2, status = 'sent', updated_at = now() WHERE id = $1 RETURNING "+invitationColumns,
		id, email))
}

// Fire takes the transition of an event and returns the new status; reason
// may be empty.  The key is cast: fire() also takes the key as text, an
// untyped $1 picks that overload and pgx cannot send an int64 as text.
func Fire(ctx context.Context, db DB, id int64, event, reason string) (string, error) {
	var status string
	err := db.QueryRow(ctx,
		"SELECT statusflow.fire('invitations', $1::bigint, $2, reason => NULLIF($3, ''))",
		id, event, reason).Scan(&status)
	return status, err
}

// FireMany fires an event on many rows; a []int64 goes as a native int8[]
// thanks to the cast, and the count of rows changed comes back.
func FireMany(ctx context.Context, db DB, ids []int64, event string) (int64, error) {
	var n int64
	err := db.QueryRow(ctx,
		"SELECT statusflow.fire_many('invitations', $1::bigint[], $2)", ids, event).Scan(&n)
	return n, err
}

// AsRefusal tells whether err is a change the workflow refused, and gives
// PostgreSQL's error: Detail says why, Hint the allowed next statuses.
func AsRefusal(err error) (*pgconn.PgError, bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23514" && pgErr.ConstraintName == "invitations_status_workflow" {
		return pgErr, true
	}
	return nil, false
}

// Beginner is a *pgxpool.Pool or a *pgxpool.Conn.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// InRequest runs fn in one transaction whose status changes are recorded
// with actor as their author.  set_config(..., true) lasts until the end of
// the transaction, so the pooled connection goes back without it.
func InRequest(ctx context.Context, b Beginner, actor string, fn func(tx pgx.Tx) error) error {
	tx, err := b.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) // does nothing after a commit
	if _, err := tx.Exec(ctx, "SELECT set_config('statusflow.actor', $1, true)", actor); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Option is one entry of the "next step" dropdown of a row.
type Option struct {
	Event          string
	ToStatus       string
	Allowed        bool
	RequiresReason bool
	Refusal        string // why not, when not Allowed
}

func NextTransitions(ctx context.Context, db DB, id int64) ([]Option, error) {
	rows, err := db.Query(ctx, `
		SELECT coalesce(event, ''), to_status, allowed, requires_reason, coalesce(refusal, '')
		FROM statusflow.next_transitions('invitations', $1::bigint)`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var options []Option
	for rows.Next() {
		var o Option
		if err := rows.Scan(&o.Event, &o.ToStatus, &o.Allowed, &o.RequiresReason, &o.Refusal); err != nil {
			return nil, err
		}
		options = append(options, o)
	}
	return options, rows.Err()
}
