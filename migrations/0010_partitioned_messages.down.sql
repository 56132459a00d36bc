-- Back to one unpartitioned table. On a filled table this copies every row
-- and blocks its writers meanwhile, like any change of partitioning.
DROP TABLE messages_conversion_triggers;
DROP TABLE messages_conversion;

DELETE FROM settings WHERE name IN ('messages_partition_period', 'messages_partitions_ahead');

CREATE PROCEDURE statesink_unpartition_messages()
BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.partitions
              WHERE table_schema = DATABASE() AND table_name = 'messages'
                AND partition_name IS NOT NULL) THEN
    ALTER TABLE messages
      DROP PRIMARY KEY, ADD PRIMARY KEY (id)
      REMOVE PARTITIONING;
  END IF;
END;

CALL statesink_unpartition_messages();

DROP PROCEDURE statesink_unpartition_messages;
