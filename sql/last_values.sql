-- The last ten values of one entity's attribute, newest first.
--
-- Parameters, as session variables (or replace them with your tool's own):
--   @entity_id   the entity id, e.g. 'light.living_room'
--   @attribute   'state', or an attribute name such as 'brightness'
--   @base_topic  the installation's base topic, or NULL for every installation
-- Example:
--   SET @entity_id = 'light.living_room', @attribute = 'state', @base_topic = NULL;
--
-- Only changes are recorded, so these are the last ten different values (or
-- the last ten messages, with the keep_every_message setting on), by when
-- they happened in Home Assistant (happened_at: its last_updated where
-- published, else the reception time, recorded_at). Reads backwards through
-- the facts index (state_id, happened_at), so it costs the same however long
-- the history is.
SELECT f.happened_at, f.fact AS value, f.num_value, b.label AS base_topic, f.recorded_at
FROM base_topics b
JOIN entities e ON e.base_topic_id = b.id
JOIN states s ON s.entity_id = e.id
JOIN facts f ON f.state_id = s.id
WHERE e.label = @entity_id AND s.label = @attribute
  AND (@base_topic IS NULL OR b.label = @base_topic)
ORDER BY f.happened_at DESC, f.id DESC
LIMIT 10;
