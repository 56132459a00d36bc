-- Dead letters that `statesink dead-letter replay` has put back into `messages`.
--
-- A dead letter is known by the spool it came from and its sequence number in
-- that spool. Replay inserts the message and this row in one transaction, so
-- a message is replayed completely or not at all, and the primary key makes a
-- second replay (or two replays at once) insert nothing twice. The file of
-- dead letters is left as it is: this table says which of its lines are done.
--
-- No foreign key to messages: `statesink prune` deletes old messages, and a
-- replay stays done after its message is pruned.
CREATE TABLE dead_letter_replays (
  spool_id    VARCHAR(64)     NOT NULL,
  -- The spool sequence number. Lines written before dead letters carried one
  -- use a number from 2^63 up derived from their content (see the README).
  seq         BIGINT UNSIGNED NOT NULL,
  message_id  BIGINT UNSIGNED NOT NULL,
  replayed_at DATETIME(6)     NOT NULL,
  PRIMARY KEY (spool_id, seq),
  KEY dead_letter_replays_message (message_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
