package main

import (
	"context"

	"github.com/jackc/pgx/v4/pgxpool"
)

// Change is one committed status change read from the feed.
type Change struct {
	HistoryID  int64
	ID         int64 // the invitation
	FromStatus string
	ToStatus   string
	Email      string // the invitation's address now
}

// DrainMailer reads one batch of the feed 'mailer' in a transaction and
// calls send for each change to "sent".  Committing acknowledges the batch;
// if send fails, the transaction rolls back and the batch comes again on the
// next call, so send must cope with a repeat (key it by HistoryID).
// It returns the number of changes read: 0 when the feed is drained.
func DrainMailer(ctx context.Context, pool *pgxpool.Pool, send func(Change) error) (int, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `
		SELECT f.history_id, (f.key->>'id')::bigint, coalesce(f.from_status, ''), f.to_status,
		       coalesce(i.email, '')
		FROM statusflow.read_feed('invitations', 'mailer', 100) f
		LEFT JOIN invitations i ON i.id = (f.key->>'id')::bigint
		ORDER BY f.history_id`)
	if err != nil {
		return 0, err
	}
	var changes []Change
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.HistoryID, &c.ID, &c.FromStatus, &c.ToStatus, &c.Email); err != nil {
			rows.Close()
			return 0, err
		}
		changes = append(changes, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, c := range changes {
		if c.ToStatus != "sent" {
			continue
		}
		if err := send(c); err != nil {
			return 0, err
		}
	}
	return len(changes), tx.Commit(ctx)
}
