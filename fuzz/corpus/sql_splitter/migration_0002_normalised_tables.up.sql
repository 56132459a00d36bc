-- The normalised model that BI tools read: base topic -> entity -> state
-- (one per attribute) -> facts (the history) and current_states (the latest
-- value of every state). Rows are written by the trigger that migration 0004
-- installs on `messages`; nothing else needs to write them.
--
-- Labels are MQTT topic levels, so they are compared exactly: utf8mb4_bin is
-- case- and accent-sensitive. It still ignores trailing spaces (PAD SPACE, on
-- MariaDB and MySQL alike, and no NO PAD binary collation exists on both), so
-- the trigger rejects topic levels that end with a space instead of letting
-- 'x' and 'x ' collide in a unique key.
--
-- Length limits keep every unique key well under InnoDB's 3072-byte limit
-- (utf8mb4 takes up to 4 bytes a character): a base topic and each of the last
-- three levels may have at most 255 characters; the trigger rejects longer
-- ones. Home Assistant's entity ids are at most 255 characters in total.

-- One row per Home Assistant installation (its statestream base topic, which
-- may span several levels: `home/ha1`).
CREATE TABLE base_topics (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT,
  label       VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  first_seen  DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY base_topics_label (label)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci ROW_FORMAT = DYNAMIC;

-- One row per entity and base topic. The same entity id published by two
-- installations is two entities.
CREATE TABLE entities (
  id             INT UNSIGNED NOT NULL AUTO_INCREMENT,
  base_topic_id  INT UNSIGNED NOT NULL,
  -- The entity id as Home Assistant shows it, `domain.object_id`; kept as a
  -- column (not computed) so BI tools can filter on it through an index.
  label          VARCHAR(511) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  domain         VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  object_id      VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  first_seen     DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  -- The trigger's lookup key. Domain and object id rather than the label,
  -- because a '.' inside a topic level would make labels ambiguous.
  UNIQUE KEY entities_topic (base_topic_id, domain, object_id),
  KEY entities_label (label),
  CONSTRAINT entities_base_topic FOREIGN KEY (base_topic_id) REFERENCES base_topics (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci ROW_FORMAT = DYNAMIC;

-- One row per attribute of an entity; `state`, `last_updated` and
-- `last_changed` are states like any attribute.
CREATE TABLE states (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT,
  entity_id   INT UNSIGNED NOT NULL,
  label       VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  -- SHA-256 of the whole topic (BASE/DOMAIN/OBJECT_ID/ATTRIBUTE). A topic can
  -- be up to 1023 characters, too long for a utf8mb4 key, and the trigger
  -- finds a message's state with this one index lookup instead of a join
  -- through base_topics and entities. A cryptographic hash, so two topics
  -- cannot be made to collide.
  topic_hash  BINARY(32)   NOT NULL,
  first_seen  DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY states_entity_label (entity_id, label),
  UNIQUE KEY states_topic_hash (topic_hash),
  CONSTRAINT states_entity FOREIGN KEY (entity_id) REFERENCES entities (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci ROW_FORMAT = DYNAMIC;

-- The history: one row per message whose value differed from its state's
-- current value (or per message, with the keep_every_message setting).
--
-- No foreign keys here, on purpose: facts must outlive the raw messages they
-- came from (raw-message retention deletes old `messages` rows), a foreign key
-- check on every insert would slow the trigger down, and InnoDB cannot
-- partition a table that has or is referenced by foreign keys, which is how a
-- large history is usually managed.
CREATE TABLE facts (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  state_id     INT UNSIGNED    NOT NULL,
  message_id   BIGINT UNSIGNED NOT NULL,
  -- The value as text: `state`, `last_updated` and `last_changed` as sent,
  -- JSON strings unquoted and unescaped, other JSON as sent. At most 65535
  -- bytes; the trigger rejects larger payloads.
  fact         TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  -- The value as a number where it is one; on/off and true/false count as
  -- 1/0; NULL for anything else (unavailable, unknown, NaN, null, text).
  num_value    DOUBLE          NULL,
  -- The ingester's reception time of the message, UTC.
  recorded_at  DATETIME(6)     NOT NULL,
  PRIMARY KEY (id),
  -- History of one state between two times is a range scan of this index;
  -- the latest N values of a state are a backward scan of it.
  KEY facts_state_time (state_id, recorded_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci ROW_FORMAT = DYNAMIC;

-- The latest value of every state, so "what is it now" is a primary-key
-- lookup instead of a search through the history. The trigger also uses it to
-- decide whether a message repeats the current value.
CREATE TABLE current_states (
  state_id         INT UNSIGNED    NOT NULL,
  -- The fact holding the current value.
  fact_id          BIGINT UNSIGNED NOT NULL,
  value            TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  num_value        DOUBLE          NULL,
  -- When the current value was first received.
  last_changed     DATETIME(6)     NOT NULL,
  -- When a message for this state was last received (a repeat or retained
  -- replay of the same value moves this, not last_changed).
  last_seen        DATETIME(6)     NOT NULL,
  -- Messages received with the current value: 1 when it changes, then one
  -- more for every repeat.
  times_seen       BIGINT UNSIGNED NOT NULL DEFAULT 1,
  last_message_id  BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (state_id),
  CONSTRAINT current_states_state FOREIGN KEY (state_id) REFERENCES states (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci ROW_FORMAT = DYNAMIC;
