-- Partitions `messages` by reception time, so that `statesink prune` can drop
-- a whole month (or day) of raw messages at once instead of deleting it row
-- by row.
--
-- Only an empty table is converted here: on a fresh install this costs
-- nothing, while converting a filled table copies every row and blocks its
-- writers for as long, which must never happen by surprise inside
-- `migrate up`. A table that already holds messages is left as it is and
-- keeps working unpartitioned (prune then deletes in chunks, as before);
-- `statesink partitions convert` converts it as an explicit, resumable step.
--
-- The layout: RANGE COLUMNS on received_at, which both servers accept for a
-- DATETIME(6) column and prune partitions by (RANGE over an expression such
-- as TO_DAYS() would lose the microseconds and the pruning of `<` ranges on
-- MySQL). It starts with the one catch-all partition below; statesink splits
-- it ahead of time into months or days (`migrate up`, `prune`,
-- `partitions split`, and `ingest` when its account may ALTER). Because the
-- first partition is open below and the last one has no upper bound, every
-- row lands somewhere, whatever its received_at.
--
-- Every unique key of a partitioned table must hold the partitioning column,
-- so the primary key becomes (id, received_at); a lookup by id still uses it,
-- once per partition. Neither server allows foreign keys to or from a
-- partitioned table; none exists (see 0002 and 0004).
--
-- The procedure is only a way to make the ALTER conditional in plain SQL on
-- both servers; it is dropped again right away.
CREATE PROCEDURE statesink_partition_empty_messages()
BEGIN
  IF NOT EXISTS (SELECT 1 FROM messages LIMIT 1)
     AND NOT EXISTS (SELECT 1 FROM information_schema.partitions
                      WHERE table_schema = DATABASE() AND table_name = 'messages'
                        AND partition_name IS NOT NULL) THEN
    ALTER TABLE messages
      DROP PRIMARY KEY, ADD PRIMARY KEY (id, received_at)
      PARTITION BY RANGE COLUMNS (received_at) (
        PARTITION p_future VALUES LESS THAN (MAXVALUE)
      );
  END IF;
END;

CALL statesink_partition_empty_messages();

DROP PROCEDURE statesink_partition_empty_messages;

-- How statesink lays out new partitions; `statesink partitions split
-- --period ... --ahead ...` changes them.
INSERT INTO settings (name, value, description) VALUES
  ('messages_partition_period', 'month',
   'month or day: the span of received_at that one partition of messages holds.'),
  ('messages_partitions_ahead', '3',
   'How many periods after the current one get their partition ahead of time.');

-- Progress of `statesink partitions convert`, which copies an unpartitioned
-- messages table into a partitioned one in chunks; one row while a
-- conversion runs or was interrupted, none otherwise.
CREATE TABLE messages_conversion (
  id             TINYINT UNSIGNED NOT NULL,
  -- Every message up to this id existed before the copy trigger did; those
  -- above it were copied by the trigger as they arrived.
  high_water_id  BIGINT UNSIGNED  NOT NULL,
  copied_up_to   BIGINT UNSIGNED  NOT NULL DEFAULT 0,
  started_at     DATETIME(6)      NOT NULL,
  updated_at     DATETIME(6)      NOT NULL,
  PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci ROW_FORMAT = DYNAMIC;

-- The triggers of `messages`, saved by `statesink partitions convert` before
-- it moves them to the partitioned table, so that an interrupted swap can be
-- completed.
CREATE TABLE messages_conversion_triggers (
  name                  VARCHAR(64)  NOT NULL,
  action_order          INT          NOT NULL,
  sql_mode              TEXT         NOT NULL,
  character_set_client  VARCHAR(64)  NOT NULL,
  collation_connection  VARCHAR(64)  NOT NULL,
  definition            LONGTEXT     NOT NULL,
  PRIMARY KEY (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci ROW_FORMAT = DYNAMIC;
