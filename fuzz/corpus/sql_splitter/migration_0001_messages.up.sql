-- Every MQTT message statesink receives, exactly as it arrived. Append-only:
-- the normalised tables are derived from it by triggers (later migrations),
-- so it is the one table that must never lose or alter a row.
CREATE TABLE messages (
  id          BIGINT UNSIGNED  NOT NULL AUTO_INCREMENT,
  -- MQTT limits a topic to 65535 bytes of UTF-8, which is exactly TEXT.
  topic       TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  -- The exact payload bytes, whatever they hold (MQTT allows up to 256 MiB).
  payload     LONGBLOB         NOT NULL,
  qos         TINYINT UNSIGNED NOT NULL DEFAULT 0,
  retained    BOOLEAN          NOT NULL DEFAULT FALSE,
  -- Reception time at the ingester, UTC. The default serves plain INSERTs
  -- from other clients; it does not depend on the session time zone.
  received_at DATETIME(6)      NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
  PRIMARY KEY (id),
  KEY messages_received_at (received_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci ROW_FORMAT = DYNAMIC;
