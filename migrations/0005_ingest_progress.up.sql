-- How far each ingester's spool has been committed into `messages`.
--
-- `statesink ingest` inserts a batch of messages and moves last_seq in the same
-- transaction. After a crash it reads last_seq back and resumes with the next
-- spooled message, so nothing is inserted twice and nothing is skipped.
-- One row per spool directory (several ingesters may share a database).
CREATE TABLE ingest_progress (
  spool_id   VARCHAR(64)     NOT NULL,
  last_seq   BIGINT UNSIGNED NOT NULL,
  updated_at DATETIME(6)     NOT NULL,
  PRIMARY KEY (spool_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
