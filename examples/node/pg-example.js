'use strict';
// statusflow from plain node-postgres (npm "pg").  The connection comes from
// the usual environment: PGHOST, PGPORT, PGDATABASE, PGUSER (the role "app").
const pg = require('pg');
const { check, note, errorOf, run } = require('./tap');

const pool = new pg.Pool({ max: 4 });

// One web request: a transaction on one pooled client, with the signed-in
// user recorded as the actor of every status change made in it.  The third
// argument of set_config (true) makes the setting last until the end of the
// transaction only, so the next request on this connection does not inherit it.
async function inRequest(actor, work) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT set_config('statusflow.actor', $1, true)", [actor]);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

async function newInvitation(email) {
  const { rows } = await pool.query(
    'INSERT INTO invitations (email) VALUES ($1) RETURNING id, status', [email]);
  return rows[0]; // id is a bigint: node-postgres returns it as a string
}

async function statusOf(id) {
  const { rows } = await pool.query('SELECT status FROM invitations WHERE id = $1', [id]);
  return rows[0].status;
}

// The mailer worker: one batch of the feed per transaction.  COMMIT
// acknowledges the batch; after a ROLLBACK (a crash, a failed send) the same
// changes come again.
async function mailerBatch(outbox, { crashBeforeSending = false } = {}) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query(
      "SELECT history_id, key, to_status FROM statusflow.read_feed('invitations', 'mailer', 3)");
    if (crashBeforeSending) { // the worker dies here: nothing sent, nothing acknowledged
      await client.query('ROLLBACK');
      return rows;
    }
    for (const change of rows) {
      if (change.to_status === 'sent') {
        outbox.push({ invitation: change.key.id, historyId: change.history_id });
      }
    }
    await client.query('COMMIT');
    return rows;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

async function main() {
  // fire(): the change by its event name; returns the new status
  const inv = await newInvitation('ana@example.com');
  const { rows: [fired] } = await pool.query(
    "SELECT statusflow.fire('invitations', $1, 'send') AS status", [inv.id]);
  check('pg: statusflow.fire() sends a draft invitation',
    inv.status === 'draft' && fired.status === 'sent' && (await statusOf(inv.id)) === 'sent');

  // a refused change is a pg.DatabaseError with the server's fields
  const err = await errorOf(pool.query(
    "UPDATE invitations SET status = 'draft' WHERE id = $1", [inv.id]));
  note(`refused: ${err && err.message}`);
  note(`detail:  ${err && err.detail}`);
  note(`hint:    ${err && err.hint}`);
  check('pg: a refused UPDATE raises pg.DatabaseError 23514 with detail, hint and constraint',
    err instanceof pg.DatabaseError && err.code === '23514' &&
      err.constraint === 'invitations_status_workflow' &&
      err.table === 'invitations' && err.column === 'status' &&
      /no transition from "sent" to "draft"/.test(err.detail) && /"opened"/.test(err.hint),
    String(err && err.stack));

  const noReason = await errorOf(pool.query(
    "SELECT statusflow.fire('invitations', $1, 'decline')", [inv.id]));
  note(`detail:  ${noReason && noReason.detail}`);
  check('pg: fire(decline) without a reason is refused (23514, detail says why)',
    noReason && noReason.code === '23514' && /requires a reason/.test(noReason.detail));

  // compare-and-set: the status the user saw when the page was rendered
  const stale = await errorOf(pool.query(
    "SELECT statusflow.fire('invitations', $1, 'open', expect => $2)", [inv.id, 'draft']));
  check('pg: expect => a stale status raises 40001', stale && stale.code === '40001');

  // the actor of a request, read back from the history table
  await inRequest('alice@example.com', (client) => client.query(
    "SELECT statusflow.fire('invitations', $1, 'open')", [inv.id]));
  const { rows: [last] } = await pool.query(
    `SELECT actor, event, from_status, to_status FROM invitations_status_history
      WHERE id = $1 ORDER BY history_id DESC LIMIT 1`, [inv.id]);
  check('pg: set_config(statusflow.actor, $1, true) in the request is the history row\'s actor',
    last.actor === 'alice@example.com' && last.event === 'open' && last.to_status === 'opened',
    JSON.stringify(last));

  const client = await pool.connect();
  await client.query('BEGIN');
  await client.query("SELECT set_config('statusflow.actor', 'bob@example.com', true)");
  await client.query('COMMIT');
  const { rows: [after] } = await client.query(
    "SELECT coalesce(current_setting('statusflow.actor', true), '') AS actor");
  client.release();
  check('pg: the actor does not outlive its transaction on a pooled connection',
    after.actor === '', JSON.stringify(after));

  // the dropdown: every transition from the row's status, for this role
  const { rows: options } = await pool.query(
    `SELECT event, to_status, allowed, requires_reason, refusal
       FROM statusflow.next_transitions('invitations', $1) ORDER BY event`, [inv.id]);
  for (const o of options) {
    note(`  [${o.allowed ? 'x' : ' '}] ${o.event} -> ${o.to_status}` +
      `${o.requires_reason ? ' (reason required)' : ''}${o.refusal ? ` (${o.refusal})` : ''}`);
  }
  check('pg: next_transitions() lists accept and decline (reason required) for an opened row',
    JSON.stringify(options.map((o) => [o.event, o.to_status, o.allowed, o.requires_reason])) ===
      JSON.stringify([['accept', 'accepted', true, false], ['decline', 'declined', true, true]]),
    JSON.stringify(options));

  // several rows at once: a JS array goes over the wire as the text '{7,8}'
  const a = await newInvitation('bo@example.com');
  const b = await newInvitation('cy@example.com');
  const { rows: [many] } = await pool.query(
    "SELECT statusflow.fire_many('invitations', $1, 'send') AS changed", [[a.id, b.id]]);
  check('pg: fire_many() with a JS array of keys',
    Number(many.changed) === 2 && (await statusOf(a.id)) === 'sent' && (await statusOf(b.id)) === 'sent',
    JSON.stringify(many));

  // the mailer: a batch read and rolled back comes again; then every change once
  const outbox = [];
  const delivered = [];
  const lost = (await mailerBatch(outbox, { crashBeforeSending: true })).map((c) => c.history_id);
  for (;;) {
    const batch = await mailerBatch(outbox);
    if (batch.length === 0) break;
    delivered.push(...batch.map((c) => c.history_id));
  }
  const { rows: history } = await pool.query(
    'SELECT history_id, to_status FROM invitations_status_history ORDER BY history_id');
  const sends = history.filter((h) => h.to_status === 'sent').map((h) => h.history_id);
  note(`mailer sent ${outbox.length} e-mails: ` +
    outbox.map((m) => `invitation ${m.invitation}`).join(', '));
  check('pg: the mailer got every committed change once, the rolled-back batch again',
    lost.length > 0 && JSON.stringify(delivered.slice(0, lost.length)) === JSON.stringify(lost) &&
      new Set(delivered).size === delivered.length &&
      JSON.stringify(delivered) === JSON.stringify(history.map((h) => h.history_id)),
    `delivered ${delivered}`, `history ${history.map((h) => h.history_id)}`);
  check('pg: one e-mail per change into "sent"',
    JSON.stringify(outbox.map((m) => m.historyId)) === JSON.stringify(sends),
    JSON.stringify(outbox));
}

run('pg-example.js', () => main().finally(() => pool.end()));
