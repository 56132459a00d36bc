-- Switches that change what the normalising trigger does, as rows an operator
-- can change with a plain UPDATE while ingestion runs (the trigger reads them
-- for every message, so a change applies from the next INSERT on).
CREATE TABLE settings (
  name         VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  value        VARCHAR(255) NOT NULL,
  description  VARCHAR(512) NOT NULL DEFAULT '',
  PRIMARY KEY (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci ROW_FORMAT = DYNAMIC;

-- Off by default: a retained replay at every reconnect, and the attributes
-- Home Assistant re-publishes with every state change, would otherwise make
-- most of the history repeat the value before it.
INSERT INTO settings (name, value, description) VALUES
  ('keep_every_message', '0',
   '1: every message becomes a fact, also when it repeats the current value. '
   '0: a repeated value only refreshes current_states (last_seen, times_seen).');
