-- Change feeds: creating, reading and dropping them, and who may.
\set SHOW_CONTEXT never
\set VERBOSITY terse

SELECT statusflow.create_workflow('parcel', ARRAY['packed', 'shipped', 'delivered'], ARRAY['packed']);
SELECT statusflow.add_transition('parcel', ARRAY['packed'], 'shipped', event => 'ship');
SELECT statusflow.add_transition('parcel', ARRAY['shipped'], 'delivered', event => 'deliver');
CREATE TABLE parcels (id int PRIMARY KEY, status parcel_status NOT NULL DEFAULT 'packed');
SELECT statusflow.attach('parcels', 'status', 'parcel');
INSERT INTO parcels VALUES (1), (2);
GRANT SELECT ON parcels, parcels_status_history TO regress_sf_app;

-- the table's owner creates a feed for a reader; the history is indexed by txid
SELECT statusflow.create_feed('parcels', 'notifier', reader => 'regress_sf_app');
SELECT statusflow.create_feed('parcels', 'backfill', from_start => true);
SELECT indexdef FROM pg_indexes WHERE tablename = 'parcels_status_history' AND indexdef LIKE '%(txid)%';
SELECT statusflow.fire('parcels', 1, 'ship', reason => 'courier came');
SET ROLE regress_sf_app;
SELECT key, from_status, to_status, event, reason FROM statusflow.read_feed('parcels', 'notifier');
SELECT key FROM statusflow.read_feed('parcels', 'notifier');
SELECT table_name, consumer, reader, reading FROM statusflow.feeds;
-- another's feed cannot be read, nor dropped
SELECT key FROM statusflow.read_feed('parcels', 'backfill');
SELECT statusflow.drop_feed('parcels', 'backfill');
SELECT statusflow.create_feed('parcels', 'mine');
RESET ROLE;
SELECT key, to_status FROM statusflow.read_feed('parcels', 'backfill', max_changes => 2);
SELECT key, to_status FROM statusflow.read_feed('parcels', 'backfill', max_changes => 2);
SELECT key, to_status FROM statusflow.read_feed('parcels', 'backfill', max_changes => 2);

-- errors
SELECT statusflow.create_feed('parcels', 'notifier');
SELECT statusflow.create_feed('parcels', NULL);
SELECT statusflow.create_feed('parcels', '');
SELECT statusflow.read_feed('parcels', 'nosuch');
SELECT statusflow.read_feed('parcels', 'notifier', 0);
SELECT statusflow.drop_feed('parcels', 'nosuch');
SELECT statusflow.drop_feed('parcels', 'notifier');
SELECT statusflow.drop_feed('parcels', 'backfill');
SELECT count(*) AS feeds_left FROM statusflow.feeds;

SELECT statusflow.detach('parcels');
DROP TABLE parcels, parcels_status_history;
SELECT statusflow.drop_workflow('parcel');
