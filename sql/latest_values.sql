-- Latest value of every entity: one row per entity and installation, with
-- its state, unit and friendly name, and when the state last changed and was
-- last seen (the retained replay at every reconnect refreshes last_seen).
--
-- No parameters. Runs on MariaDB 10.6+ and MySQL 8.0+.
--
-- current_states holds the latest value of every attribute, so this reads no
-- history at all; an entity's values are primary-key lookups. Entities that
-- never published a `state` topic still appear, with NULL state columns.
SELECT
  base_topics.label          AS base_topic,
  entities.label             AS entity_id,
  entities.domain            AS domain,
  state.value                AS state,
  state.num_value            AS num_value,
  unit.value                 AS unit,
  friendly_name.value        AS friendly_name,
  state.last_changed         AS last_changed,
  state.last_seen            AS last_seen
FROM entities
JOIN base_topics ON base_topics.id = entities.base_topic_id
LEFT JOIN states state_row
  ON state_row.entity_id = entities.id AND state_row.label = 'state'
LEFT JOIN current_states state ON state.state_id = state_row.id
LEFT JOIN states unit_row
  ON unit_row.entity_id = entities.id AND unit_row.label = 'unit_of_measurement'
LEFT JOIN current_states unit ON unit.state_id = unit_row.id
LEFT JOIN states friendly_name_row
  ON friendly_name_row.entity_id = entities.id AND friendly_name_row.label = 'friendly_name'
LEFT JOIN current_states friendly_name ON friendly_name.state_id = friendly_name_row.id
ORDER BY base_topics.label, entities.label;
