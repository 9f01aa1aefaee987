-- Partitioned tables: the triggers reach every partition, present and
-- future, whichever table a statement names; the status itself cannot be
-- the partition key.
\set SHOW_CONTEXT never

CREATE TABLE regional (
	region text,
	id int,
	status invitation_status NOT NULL DEFAULT 'invited',
	PRIMARY KEY (region, id)
) PARTITION BY LIST (region);
CREATE TABLE regional_eu PARTITION OF regional FOR VALUES IN ('eu');
CREATE TABLE regional_us PARTITION OF regional FOR VALUES IN ('us')
	PARTITION BY HASH (id);
CREATE TABLE regional_us_0 PARTITION OF regional_us FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE regional_us_1 PARTITION OF regional_us FOR VALUES WITH (MODULUS 2, REMAINDER 1);
SELECT statusflow.attach('regional', 'status', 'invitation');
-- a partition created later, with its columns in another order
CREATE TABLE regional_apac (status invitation_status NOT NULL DEFAULT 'invited',
							id int NOT NULL, region text NOT NULL);
ALTER TABLE regional ATTACH PARTITION regional_apac FOR VALUES IN ('apac');

INSERT INTO regional (region, id) VALUES ('eu', 1), ('us', 1), ('us', 2), ('apac', 1);
INSERT INTO regional VALUES ('eu', 2, 'opened');
UPDATE regional SET status = 'sent';
UPDATE regional SET status = 'accepted' WHERE region = 'us' AND id = 1;
UPDATE regional SET status = 'invited' WHERE region = 'apac';
-- statements naming a partition directly are checked as well
UPDATE regional_us_0 SET status = 'invited';
UPDATE regional_apac SET status = 'opened';
INSERT INTO regional_eu VALUES ('eu', 3, 'accepted');
SELECT statusflow.fire('regional', ROW('eu', 1), 'decline');
-- an UPDATE that moves a row to another partition is checked as an update;
-- the primary key changes with the region, so does the history's key
UPDATE regional SET region = 'eu', id = 10 WHERE region = 'apac';
UPDATE regional SET region = 'us', id = 10, status = 'declined' WHERE region = 'eu' AND id = 10;
UPDATE regional SET region = 'eu', status = 'invited' WHERE region = 'us' AND id = 10;
-- an ordinary DELETE is no move
DELETE FROM regional WHERE region = 'us' AND id = 2;
INSERT INTO regional VALUES ('us', 2, 'sent');
SELECT tableoid::regclass AS partition, region, id, status FROM regional ORDER BY region, id;
SELECT region, id, from_status, to_status, event FROM regional_status_history ORDER BY history_id;

-- a partition cannot be bound on its own while its parent is
SELECT statusflow.attach('regional_eu', 'status', 'invitation');

-- a move and an insert of the same binding in one statement
WITH moved AS (UPDATE regional SET region = 'us', id = 20, status = 'sent'
			   WHERE region = 'eu' AND id = 10 RETURNING id)
INSERT INTO regional SELECT 'eu', 30, 'invited' FROM moved;
WITH moved AS (UPDATE regional SET region = 'eu', id = 21, status = 'opened'
			   WHERE region = 'us' AND id = 20 RETURNING id)
INSERT INTO regional SELECT 'eu', 31, 'opened' FROM moved;
SELECT region, id, status FROM regional WHERE id >= 10 ORDER BY id;

-- the status as a partition key is refused, at any level
CREATE TABLE by_status (id int, status invitation_status NOT NULL,
						PRIMARY KEY (id, status)) PARTITION BY LIST (status);
SELECT statusflow.attach('by_status', 'status', 'invitation');
CREATE TABLE nested (id int, region text, status invitation_status NOT NULL,
					 PRIMARY KEY (id, region, status)) PARTITION BY LIST (region);
CREATE TABLE nested_eu PARTITION OF nested FOR VALUES IN ('eu') PARTITION BY LIST (status);
SELECT statusflow.attach('nested', 'status', 'invitation');
