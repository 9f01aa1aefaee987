'use strict';
// statusflow from Sequelize: a model over the existing table (the migration
// that made it and attached the workflow owns the schema; no sync here).
const { Sequelize, DataTypes, QueryTypes } = require('sequelize');
const { check, note, errorOf, run } = require('./tap');

function connect(username) {
  return new Sequelize({
    dialect: 'postgres',
    host: process.env.PGHOST, // a socket directory works as well as a host name
    port: process.env.PGPORT,
    database: process.env.PGDATABASE,
    username,
    logging: false,
  });
}

// The status column is mapped as a plain string: PostgreSQL converts the text
// Sequelize sends into the workflow's enum (invitation_status).  Not
// DataTypes.ENUM, which stands for a type of Sequelize's own (see the end).
function defineInvitation(sequelize, statusType = DataTypes.STRING) {
  return sequelize.define('Invitation', {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    email: { type: DataTypes.TEXT, allowNull: false },
    status: { type: statusType }, // NOT NULL and the default 'draft' are the table's
    updatedAt: { type: DataTypes.DATE, field: 'updated_at' },
  }, { tableName: 'invitations', createdAt: false });
}

const sequelize = connect(process.env.PGUSER);
const Invitation = defineInvitation(sequelize);

async function lastChange(id) {
  const [row] = await sequelize.query(
    `SELECT actor, event, from_status, to_status FROM invitations_status_history
      WHERE id = $1 ORDER BY history_id DESC LIMIT 1`,
    { bind: [id], type: QueryTypes.SELECT });
  return row;
}

async function main() {
  // 1. the model's column is the one the workflow is attached to
  const [binding] = await sequelize.query(
    'SELECT workflow FROM statusflow.bindings WHERE table_name = $1::regclass AND column_name = $2',
    { bind: [Invitation.getTableName(), Invitation.getAttributes().status.field],
      type: QueryTypes.SELECT });
  const inv = await Invitation.create({ email: 'dee@example.com' });
  check('sequelize: Invitation.status is bound to workflow "invitation"; create() starts in draft',
    binding && binding.workflow === 'invitation' && inv.status === 'draft',
    JSON.stringify(binding), inv.status);

  // 2. a change through the model's save() ...
  inv.status = 'sent';
  await inv.save();
  const saved = await lastChange(inv.id);
  check('sequelize: instance.save() moves draft -> sent',
    saved.from_status === 'draft' && saved.to_status === 'sent', JSON.stringify(saved));

  // ... and through statusflow.fire()
  const [fired] = await sequelize.query(
    "SELECT statusflow.fire('invitations', $1, 'bounce') AS status",
    { bind: [inv.id], type: QueryTypes.SELECT });
  await inv.reload();
  check('sequelize: statusflow.fire() through sequelize.query(); reload() sees it',
    fired.status === 'bounced' && inv.status === 'bounced');

  // 3. a refusal: Sequelize's DatabaseError wraps node-postgres's error (err.parent)
  inv.status = 'sent'; // "resend" needs a new address in the same UPDATE
  const err = await errorOf(inv.save());
  const pgErr = err && err.parent; // the same object as err.original
  note(`refused: ${err && err.message}`);
  note(`detail:  ${pgErr && pgErr.detail}`);
  note(`hint:    ${pgErr && pgErr.hint}`);
  check('sequelize: a refused save() throws Sequelize.DatabaseError; err.parent has code, detail, hint, constraint',
    err instanceof Sequelize.DatabaseError && pgErr.code === '23514' &&
      pgErr.constraint === 'invitations_status_workflow' &&
      /NEW.email IS DISTINCT FROM OLD.email/.test(pgErr.detail) && /"sent"/.test(pgErr.hint),
    String(err && err.stack));

  // the instance still holds the refused value: reload, or fix and save again
  inv.email = 'dee@example.org';
  await inv.save();
  await inv.reload();
  check('sequelize: save() with the new address and the status together is allowed (resend)',
    inv.status === 'sent' && inv.email === 'dee@example.org');

  // 4. the actor of a request: set_config and save() in the same transaction
  await sequelize.transaction(async (transaction) => {
    await sequelize.query("SELECT set_config('statusflow.actor', $1, true)",
      { bind: ['carol@example.com'], transaction });
    inv.status = 'opened';
    await inv.save({ transaction });
  });
  const opened = await lastChange(inv.id);
  check("sequelize: set_config(statusflow.actor) in sequelize.transaction() is the history row's actor",
    opened.actor === 'carol@example.com' && opened.to_status === 'opened', JSON.stringify(opened));

  // the trap: without { transaction } the query runs on some other pooled
  // connection, in a transaction of its own, and the setting is gone
  await sequelize.transaction(async (transaction) => {
    await sequelize.query("SELECT set_config('statusflow.actor', $1, true)",
      { bind: ['dave@example.com'] }); // forgot { transaction }
    inv.status = 'accepted';
    await inv.save({ transaction });
  });
  const accepted = await lastChange(inv.id);
  check('sequelize: set_config() outside the transaction is lost (no actor)',
    accepted.actor === null && accepted.to_status === 'accepted', JSON.stringify(accepted));

  // 5. DataTypes.ENUM stands for Sequelize's own type "enum_invitations_status".
  // Plain sync() then tries to create that type (the app role may not) ...
  const WithEnum = defineInvitation(sequelize,
    DataTypes.ENUM('draft', 'sent', 'opened', 'bounced', 'accepted', 'declined'));
  const enumSync = await errorOf(sequelize.transaction(
    (transaction) => WithEnum.sync({ transaction })));
  note(`ENUM + sync() as app: ${enumSync && enumSync.message}`);
  check('sequelize trap: DataTypes.ENUM makes sync() create a type of its own (refused: 42501)',
    enumSync && enumSync.parent && enumSync.parent.code === '42501');

  // ... and sync({ alter: true }), even as the table's owner, tries to change the
  // column's type: to Sequelize's enum (no cast) or to VARCHAR (the workflow's
  // trigger depends on the column).  In a transaction, so nothing is left behind.
  const owner = connect(process.env.PGSUPERUSER || 'postgres');
  const alterTo = async (statusType) => errorOf(owner.transaction((transaction) =>
    defineInvitation(owner, statusType).sync({ alter: true, transaction })));
  const enumAlter = await alterTo(DataTypes.ENUM('draft', 'sent', 'opened', 'bounced', 'accepted', 'declined'));
  const stringAlter = await alterTo(DataTypes.STRING);
  await owner.close();
  note(`ENUM + sync({ alter: true }) as owner:   ${enumAlter && enumAlter.message}`);
  note(`STRING + sync({ alter: true }) as owner: ${stringAlter && stringAlter.message}`);
  check('sequelize trap: sync({ alter: true }) fails with either mapping (42846 for ENUM, 0A000 for STRING)',
    enumAlter && enumAlter.parent.code === '42846' && stringAlter && stringAlter.parent.code === '0A000');

  // the fix: DataTypes.STRING and no alter; plain sync() leaves the table alone
  await Invitation.sync();
  const [column] = await sequelize.query(
    `SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute
      WHERE attrelid = 'invitations'::regclass AND attname = 'status'`, { type: QueryTypes.SELECT });
  const [stray] = await sequelize.query(
    "SELECT to_regtype('enum_invitations_status') AS type", { type: QueryTypes.SELECT });
  check('sequelize: with DataTypes.STRING, sync() without alter changes nothing',
    column.type === 'invitation_status' && stray.type === null, JSON.stringify([column, stray]));
}

run('sequelize-example.js', () => main().finally(() => sequelize.close()));
