// Command example runs statusflow from Go with pgx v4 against the database
// that PGHOST, PGPORT, PGDATABASE and PGUSER name, and prints TAP lines.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/jackc/pgconn"
	"github.com/jackc/pgx/v4"
	"github.com/jackc/pgx/v4/pgxpool"
)

type tap struct{ run, failed int }

// check prints "ok - what" when step returns nil, "not ok - what" and the
// error otherwise.
func (t *tap) check(what string, step func() error) {
	t.run++
	if err := step(); err != nil {
		t.failed++
		fmt.Printf("not ok - %s\n", what)
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Printf("#   %s\n", line)
		}
		return
	}
	fmt.Printf("ok - %s\n", what)
}

func diag(format string, args ...interface{}) {
	fmt.Printf("# "+format+"\n", args...)
}

func main() {
	ctx := context.Background()
	// an empty connection string: pgx takes PGHOST (a socket directory here),
	// PGPORT, PGDATABASE and PGUSER from the environment
	pool, err := pgxpool.Connect(ctx, "")
	if err != nil {
		fmt.Printf("not ok - connect\n#   %v\n", err)
		os.Exit(1)
	}
	defer pool.Close()

	t := &tap{}
	var ana, ben Invitation

	t.check(`the workflow "invitation" is attached to invitations.status`, func() error {
		var workflow string
		err := pool.QueryRow(ctx, `SELECT workflow FROM statusflow.bindings
			WHERE table_name = 'invitations'::regclass AND column_name = 'status'`).Scan(&workflow)
		if err != nil {
			return err
		}
		if workflow != "invitation" {
			return fmt.Errorf("bound to %q", workflow)
		}
		return nil
	})

	t.check("a new invitation scans into the struct, in status draft", func() error {
		if ana, err = CreateInvitation(ctx, pool, "ana@example.com"); err != nil {
			return err
		}
		diag("%+v", ana)
		if ana.Status != "draft" {
			return fmt.Errorf("status %q", ana.Status)
		}
		return nil
	})

	t.check("a plain UPDATE moves draft -> sent, recorded as event send", func() error {
		if ana, err = SetStatus(ctx, pool, ana.ID, "sent"); err != nil {
			return err
		}
		var event string
		err := pool.QueryRow(ctx, `SELECT event FROM invitations_status_history
			WHERE id = $1 ORDER BY history_id DESC LIMIT 1`, ana.ID).Scan(&event)
		if err != nil {
			return err
		}
		if ana.Status != "sent" || event != "send" {
			return fmt.Errorf("status %q, event %q", ana.Status, event)
		}
		return nil
	})

	t.check("statusflow.fire(open) moves sent -> opened", func() error {
		status, err := Fire(ctx, pool, ana.ID, "open", "")
		if err != nil {
			return err
		}
		if status != "opened" {
			return fmt.Errorf("fire returned %q", status)
		}
		return nil
	})

	t.check("a refused UPDATE (opened -> bounced) is a *pgconn.PgError 23514 with detail and hint", func() error {
		_, err := SetStatus(ctx, pool, ana.ID, "bounced")
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			return fmt.Errorf("not a PgError: %v", err)
		}
		diag("code:       %s", pgErr.Code)
		diag("message:    %s", pgErr.Message)
		diag("detail:     %s", pgErr.Detail)
		diag("hint:       %s", pgErr.Hint)
		diag("where:      %s.%s.%s, constraint %s",
			pgErr.SchemaName, pgErr.TableName, pgErr.ColumnName, pgErr.ConstraintName)
		if pgErr.Code != "23514" || pgErr.ConstraintName != "invitations_status_workflow" ||
			pgErr.TableName != "invitations" || pgErr.ColumnName != "status" ||
			pgErr.Detail == "" || !strings.Contains(pgErr.Hint, `"accepted"`) {
			return fmt.Errorf("unexpected error %#v", pgErr)
		}
		if _, ok := AsRefusal(err); !ok {
			return errors.New("AsRefusal does not see it")
		}
		return nil
	})

	t.check("fire(decline) without a reason is refused the same way; with one it passes", func() error {
		_, err := Fire(ctx, pool, ana.ID, "decline", "")
		refusal, ok := AsRefusal(err)
		if !ok {
			return fmt.Errorf("not a refusal: %v", err)
		}
		diag("detail:     %s", refusal.Detail)
		status, err := Fire(ctx, pool, ana.ID, "decline", "moved away")
		if err != nil {
			return err
		}
		if status != "declined" {
			return fmt.Errorf("fire returned %q", status)
		}
		return nil
	})

	t.check("the actor set per request is in the history row, and gone from the pooled connection after", func() error {
		if ben, err = CreateInvitation(ctx, pool, "ben@example.com"); err != nil {
			return err
		}
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		err = InRequest(ctx, conn, "user:42", func(tx pgx.Tx) error {
			_, err := SetStatus(ctx, tx, ben.ID, "sent")
			return err
		})
		if err != nil {
			return err
		}
		var actor, role, left string
		err = conn.QueryRow(ctx, `SELECT actor, db_role FROM invitations_status_history
			WHERE id = $1 ORDER BY history_id DESC LIMIT 1`, ben.ID).Scan(&actor, &role)
		if err != nil {
			return err
		}
		err = conn.QueryRow(ctx, "SELECT coalesce(current_setting('statusflow.actor', true), '')").Scan(&left)
		if err != nil {
			return err
		}
		diag("history: actor %q, db_role %q; statusflow.actor after the request: %q", actor, role, left)
		if actor != "user:42" || role != "app" || left != "" {
			return errors.New("unexpected actor")
		}
		return nil
	})

	t.check("next_transitions gives the dropdown of a sent row", func() error {
		options, err := NextTransitions(ctx, pool, ben.ID)
		if err != nil {
			return err
		}
		var got []string
		for _, o := range options {
			diag("%-8s -> %-9s allowed=%-5v requires_reason=%-5v %s",
				o.Event, o.ToStatus, o.Allowed, o.RequiresReason, o.Refusal)
			if o.Allowed {
				entry := o.Event
				if o.RequiresReason {
					entry += "(reason)"
				}
				got = append(got, entry)
			}
		}
		want := []string{"open", "bounce", "accept", "decline(reason)"}
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("allowed %v, want %v", got, want)
		}
		return nil
	})

	t.check("a bounced row: the dropdown says why resend is not open; resend with a new address passes", func() error {
		if _, err := Fire(ctx, pool, ben.ID, "bounce", ""); err != nil {
			return err
		}
		options, err := NextTransitions(ctx, pool, ben.ID)
		if err != nil {
			return err
		}
		if len(options) != 1 || options[0].Event != "resend" {
			return fmt.Errorf("options %+v", options)
		}
		diag("resend: allowed=%v refusal=%q", options[0].Allowed, options[0].Refusal)
		if _, err := SetStatus(ctx, pool, ben.ID, "sent"); err == nil {
			return errors.New("resend without a new address passed")
		} else if refusal, ok := AsRefusal(err); !ok {
			return err
		} else {
			diag("same address: %s", refusal.Detail)
		}
		if _, err := Fire(ctx, pool, ben.ID, "resend", ""); err == nil {
			return errors.New("fire(resend) passed without a new address")
		} else if _, ok := AsRefusal(err); !ok {
			return err
		}
		if ben, err = Resend(ctx, pool, ben.ID, "ben@example.org"); err != nil {
			return err
		}
		if ben.Status != "sent" {
			return fmt.Errorf("status %q", ben.Status)
		}
		return nil
	})

	var batch []int64
	t.check("fire_many takes a []int64 as $1::bigint[]", func() error {
		for _, email := range []string{"cy@example.com", "dee@example.com", "eve@example.com"} {
			inv, err := CreateInvitation(ctx, pool, email)
			if err != nil {
				return err
			}
			batch = append(batch, inv.ID)
		}
		n, err := FireMany(ctx, pool, batch, "send")
		if err != nil {
			return err
		}
		var sent int
		err = pool.QueryRow(ctx, "SELECT count(*) FROM invitations WHERE id = ANY($1) AND status = 'sent'",
			batch).Scan(&sent)
		if err != nil {
			return err
		}
		if n != int64(len(batch)) || sent != len(batch) {
			return fmt.Errorf("fire_many returned %d, %d rows sent", n, sent)
		}
		return nil
	})

	t.check("without the cast pgx refuses to send a []int64 (text overload); a text literal works", func() error {
		var n int64
		err := pool.QueryRow(ctx, "SELECT statusflow.fire_many('invitations', $1, 'open')", batch).Scan(&n)
		var pgErr *pgconn.PgError
		if err == nil || errors.As(err, &pgErr) {
			return fmt.Errorf("expected a client-side encoding error, got %v", err)
		}
		diag("uncast: %v", err)
		literal := fmt.Sprintf("{%d,%d}", batch[0], batch[1])
		err = pool.QueryRow(ctx, "SELECT statusflow.fire_many('invitations', $1, 'open')", literal).Scan(&n)
		if err != nil {
			return err
		}
		if n != 2 {
			return fmt.Errorf("fire_many returned %d", n)
		}
		return nil
	})

	// the "sent" changes the mailer must see, from the history
	var want []int64
	var failedAt int64
	t.check("a worker that fails rolls back its read of the feed", func() error {
		rows, err := pool.Query(ctx, `SELECT history_id FROM invitations_status_history
			WHERE to_status = 'sent' ORDER BY history_id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			want = append(want, id)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		failure := errors.New("SMTP server down")
		_, err = DrainMailer(ctx, pool, func(c Change) error {
			failedAt = c.HistoryID
			return failure
		})
		if !errors.Is(err, failure) {
			return fmt.Errorf("worker returned %v", err)
		}
		diag("change %d failed: %v", failedAt, err)
		return nil
	})

	t.check(`the mailer worker sends each "sent" change once, the one that failed included`, func() error {
		seen := map[int64]bool{}
		var sent []int64
		send := func(c Change) error {
			if seen[c.HistoryID] {
				return fmt.Errorf("change %d delivered twice", c.HistoryID)
			}
			seen[c.HistoryID] = true
			sent = append(sent, c.HistoryID)
			diag("mail to %s (invitation %d, %s -> %s, change %d)",
				c.Email, c.ID, c.FromStatus, c.ToStatus, c.HistoryID)
			return nil
		}
		for {
			n, err := DrainMailer(ctx, pool, send)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
		}
		if !reflect.DeepEqual(sent, want) || !seen[failedAt] {
			return fmt.Errorf("sent %v, want %v (with %d)", sent, want, failedAt)
		}
		n, err := DrainMailer(ctx, pool, send)
		if err != nil {
			return err
		}
		if n != 0 {
			return fmt.Errorf("%d changes read again", n)
		}
		return nil
	})

	fmt.Printf("1..%d\n", t.run)
	if t.failed > 0 {
		os.Exit(1)
	}
}
