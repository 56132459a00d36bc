-- Least-privilege accounts for statesink. Run it as an administrator, in the
-- statesink database (its tables must exist: run `statesink migrate up`
-- first), e.g.  mariadb statesink < sql/grants.sql
-- The grants name no database: `ON messages` and `ON *` mean the current
-- one, so the script works whatever the database is called.
--
-- !!! CHANGE THE PASSWORDS below (CHANGE_ME_...) before running it, and
-- !!! narrow the hosts ('%' accepts connections from anywhere).
-- CREATE USER IF NOT EXISTS leaves an existing account and its password
-- alone; use ALTER USER ... IDENTIFIED BY to change a password later.
--
-- Migrations (and so the triggers) run as a third, owner account with the
-- DDL privileges they need; it is not created here. The triggers run with
-- that account's rights, which is why the ingest account needs nothing on
-- the normalised tables: do not drop the owner account, or every INSERT into
-- messages fails.

-- statesink ingest: inserts raw messages and nothing else. It cannot read,
-- change or delete anything, so a leaked ingest password cannot rewrite the
-- history.
CREATE USER IF NOT EXISTS 'statesink_ingest'@'%' IDENTIFIED BY 'CHANGE_ME_ingest_password';
GRANT INSERT ON messages TO 'statesink_ingest'@'%';
-- Its own bookkeeping: how far each spool got, written in the same
-- transaction as the messages (migration 0005 creates the table).
GRANT SELECT, INSERT, UPDATE ON ingest_progress TO 'statesink_ingest'@'%';
-- `statesink dead-letter list|replay` may run where the spool is, with the
-- ingester's settings: it reads which dead letters were replayed and records
-- new replays (migration 0006 creates the table). Replayed messages go into
-- `messages` like any other insert.
GRANT SELECT, INSERT ON dead_letter_replays TO 'statesink_ingest'@'%';
-- Batches of 200 messages or more are normalised by this procedure
-- (migration 0009) in the batch's transaction rather than by the trigger
-- row by row; like the trigger it runs with its definer's rights. Without
-- this grant the ingester lets the trigger do every batch, which costs the
-- server about a third more CPU under load.
GRANT EXECUTE ON PROCEDURE normalise_batch TO 'statesink_ingest'@'%';

-- The statistics tables (migration 0008) are written by `statesink statistics
-- update|rebuild`, run as the owner account like migrations and prune; the
-- ingest account needs nothing for them.

-- BI tools, dashboards and analysts: read everything (tables and views,
-- including ones later migrations add, such as entity_catalog,
-- retention_rules and the statistics tables), write nothing. A view runs with
-- its definer's rights (SQL SECURITY DEFINER, the default), so SELECT on the
-- view is all it needs. Retention rules are changed and applied by the owner
-- account (`statesink retention`, `statesink prune`).
CREATE USER IF NOT EXISTS 'statesink_reader'@'%' IDENTIFIED BY 'CHANGE_ME_reader_password';
GRANT SELECT ON * TO 'statesink_reader'@'%';
