-- History at scale: the entity catalog that BI tools pick variables from, and
-- per-entity retention rules for facts that `statesink prune` applies.

-- The last day's facts in time order. facts_state_time serves one state's
-- history, but counting the last 24 hours over all states through it reads
-- every state's whole history (MariaDB has no skip scan). With state_id in the
-- key the counts per entity never read a row. Adds one small entry per fact;
-- both servers build it online (ALGORITHM=INPLACE, ingestion goes on).
CREATE INDEX facts_recorded_at ON facts (recorded_at, state_id);

-- One row per entity, for variable pickers and axis labels. Attribute values
-- are those of current_states (the latest value, JSON strings unquoted as in
-- facts), NULL where the entity has no such attribute.
--
-- is_numeric: 1 when the current state is a number (not on/off or
-- true/false, which have a num_value of 1/0 too), or when the entity has a
-- state_class (Home Assistant gives one only to numeric sensors, so a sensor
-- that is `unavailable` right now still counts as numeric).
-- last_changed: when the current state value was first received (UTC), from
-- current_states, not the last_changed topic.
--
-- messages_24h and facts_24h count the last 24 hours by reception time.
-- `messages` has no entity column: a message belongs to the state whose
-- topic_hash is the SHA-256 of its topic, the same lookup the trigger makes,
-- so the count is one pass over the day's part of the received_at index with
-- one primary-key and one unique-key lookup per message, whatever the size of
-- the table. It includes repeats (messages that added no fact) and messages
-- rejected for their payload on a known topic; messages with a malformed
-- topic belong to no entity. Facts are counted through facts_recorded_at.
-- Both counts are grouped derived tables, computed once per query of the
-- view: their cost is that of the last day's traffic, paid also by a query
-- that does not select them (neither server can drop a grouped derived table
-- that is not read). A variable picker that needs only names can read
-- entities directly.
CREATE VIEW entity_catalog AS
SELECT
  b.label AS base_topic,
  e.label AS entity_id,
  e.domain AS domain,
  fn.value AS friendly_name,
  uom.value AS unit_of_measurement,
  dc.value AS device_class,
  sc.value AS state_class,
  CASE
    WHEN sc.value IS NOT NULL THEN 1
    WHEN cs.num_value IS NOT NULL AND cs.value NOT IN ('on', 'off', 'true', 'false') THEN 1
    ELSE 0
  END AS is_numeric,
  cs.value AS state,
  cs.last_changed AS last_changed,
  e.first_seen AS first_seen,
  COALESCE(m24.messages, 0) AS messages_24h,
  COALESCE(f24.facts, 0) AS facts_24h
FROM entities e
JOIN base_topics b ON b.id = e.base_topic_id
LEFT JOIN states ss ON ss.entity_id = e.id AND ss.label = 'state'
LEFT JOIN current_states cs ON cs.state_id = ss.id
LEFT JOIN states sfn ON sfn.entity_id = e.id AND sfn.label = 'friendly_name'
LEFT JOIN current_states fn ON fn.state_id = sfn.id
LEFT JOIN states suom ON suom.entity_id = e.id AND suom.label = 'unit_of_measurement'
LEFT JOIN current_states uom ON uom.state_id = suom.id
LEFT JOIN states sdc ON sdc.entity_id = e.id AND sdc.label = 'device_class'
LEFT JOIN current_states dc ON dc.state_id = sdc.id
LEFT JOIN states ssc ON ssc.entity_id = e.id AND ssc.label = 'state_class'
LEFT JOIN current_states sc ON sc.state_id = ssc.id
LEFT JOIN (
  SELECT s.entity_id, COUNT(*) AS messages
  FROM messages m
  JOIN states s ON s.topic_hash = UNHEX(SHA2(m.topic, 256))
  WHERE m.received_at >= UTC_TIMESTAMP(6) - INTERVAL 1 DAY
  GROUP BY s.entity_id
) m24 ON m24.entity_id = e.id
LEFT JOIN (
  SELECT s.entity_id, COUNT(*) AS facts
  FROM facts f
  JOIN states s ON s.id = f.state_id
  WHERE f.recorded_at >= UTC_TIMESTAMP(6) - INTERVAL 1 DAY
  GROUP BY s.entity_id
) f24 ON f24.entity_id = e.id;

-- Retention of facts per entity: `statesink retention set|remove` writes
-- these rows, `statesink prune` applies them. In the database so that every
-- host that runs prune applies the same rules. Without a rule that matches
-- it, an entity's facts are kept for ever; current_states is never touched.
CREATE TABLE retention_rules (
  -- [BASE_TOPIC:]ENTITY_GLOB, e.g. `sensor.*_rssi` or `home/ha1:binary_sensor.*`;
  -- statesink validates it (see the README).
  pattern          VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  -- Facts recorded longer ago than this are deleted.
  max_age_seconds  BIGINT UNSIGNED NOT NULL,
  created_at       DATETIME(6)     NOT NULL,
  updated_at       DATETIME(6)     NOT NULL,
  PRIMARY KEY (pattern)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci ROW_FORMAT = DYNAMIC;
