-- The per-backend cache follows every change of workflows and bindings at
-- the next statement, inside a transaction too, and forgets what a rolled
-- back transaction did.  (tests/specs/cache_invalidation.spec checks that
-- another session sees the changes.)
\set SHOW_CONTEXT never

SELECT statusflow.create_workflow('cache', ARRAY['new', 'active', 'closed'], ARRAY['new']);
CREATE TABLE cached (id int PRIMARY KEY, status cache_status NOT NULL DEFAULT 'new');
SELECT statusflow.attach('cached', 'status', 'cache');
INSERT INTO cached VALUES (1), (2), (3);

-- refused, then allowed in the same session once the transition exists
UPDATE cached SET status = 'active' WHERE id = 1;
SELECT statusflow.add_transition('cache', ARRAY['new'], 'active');
UPDATE cached SET status = 'active' WHERE id = 1;

-- inside one transaction, statement after statement
BEGIN;
SELECT statusflow.add_transition('cache', ARRAY['active'], 'closed');
UPDATE cached SET status = 'closed' WHERE id = 1;
SELECT statusflow.remove_transition('cache', ARRAY['new'], 'active');
UPDATE cached SET status = 'active' WHERE id = 2;
ROLLBACK;
-- the rollback undid both: new -> active is allowed again, active -> closed not
UPDATE cached SET status = 'active' WHERE id = 2;
UPDATE cached SET status = 'closed' WHERE id = 2;

-- initial statuses
SELECT statusflow.set_status_info('cache', 'active', initial => true);
INSERT INTO cached VALUES (4, 'active');
SELECT statusflow.set_status_info('cache', 'active', initial => false);
INSERT INTO cached VALUES (5, 'active');

-- a status added with add_status is known once committed
SELECT statusflow.add_status('cache', 'paused', after => 'active');
SELECT statusflow.add_transition('cache', ARRAY['active'], 'paused', event => 'pause');
SELECT statusflow.fire('cached', 1, 'pause');

-- detach and attach again in one transaction
BEGIN;
SELECT statusflow.detach('cached');
UPDATE cached SET status = 'closed' WHERE id = 3;
SELECT statusflow.attach('cached', 'status', 'cache', history_table => 'cached_history_2');
UPDATE cached SET status = 'new' WHERE id = 3;
COMMIT;
SELECT id, status FROM cached ORDER BY id;

-- the status column renamed: the binding follows the name it was given
ALTER TABLE cached RENAME COLUMN status TO state;
UPDATE cached SET state = 'paused' WHERE id = 2;
ALTER TABLE cached RENAME COLUMN state TO status;
UPDATE cached SET status = 'paused' WHERE id = 2;
SELECT id, status FROM cached ORDER BY id;
