-- History of one entity between two times: every recorded value of one of
-- its attributes (by default its state), oldest first.
--
-- Parameters, as session variables (or replace them with your tool's own):
--   @entity_id   the entity id, e.g. 'sensor.kitchen_temperature'
--   @attribute   'state', or an attribute name such as 'brightness'
--   @from, @to   UTC, e.g. '2024-05-01 00:00:00'; from inclusive, to exclusive
--   @base_topic  the installation's base topic, or NULL for every installation
-- Example:
--   SET @entity_id = 'sensor.kitchen_temperature', @attribute = 'state',
--       @from = '2024-05-01 00:00:00', @to = '2024-05-02 00:00:00',
--       @base_topic = NULL;
-- In Grafana, use $__timeFrom() and $__timeTo() for @from and @to; the `time`
-- column makes the result a time series.
--
-- Times are when the change happened in Home Assistant (facts.happened_at:
-- its last_updated where the installation publishes timestamps, else when
-- statesink received it), so a backlog delivered late still lands where it
-- belongs.
--
-- A value is recorded when it changes, not every time it is repeated, so the
-- value at @from is the last one before it: the first row repeats it at @from
-- when it exists, so graphs start at the left edge instead of at the first
-- change. The facts index (state_id, happened_at) makes both parts a range
-- scan of one state's history.
SELECT time, value, num_value, base_topic
FROM (
  -- The value in force at @from.
  SELECT CAST(@from AS DATETIME(6)) AS time, f.fact AS value, f.num_value,
         b.label AS base_topic, 0 AS part, f.id
  FROM base_topics b
  JOIN entities e ON e.base_topic_id = b.id
  JOIN states s ON s.entity_id = e.id
  JOIN facts f ON f.id = (SELECT f2.id FROM facts f2
                           WHERE f2.state_id = s.id AND f2.happened_at < @from
                           ORDER BY f2.happened_at DESC, f2.id DESC LIMIT 1)
  WHERE e.label = @entity_id AND s.label = @attribute
    AND (@base_topic IS NULL OR b.label = @base_topic)
  UNION ALL
  -- Every change between @from and @to.
  SELECT f.happened_at, f.fact, f.num_value, b.label, 1, f.id
  FROM base_topics b
  JOIN entities e ON e.base_topic_id = b.id
  JOIN states s ON s.entity_id = e.id
  JOIN facts f ON f.state_id = s.id
  WHERE e.label = @entity_id AND s.label = @attribute
    AND (@base_topic IS NULL OR b.label = @base_topic)
    AND f.happened_at >= @from AND f.happened_at < @to
) history
ORDER BY base_topic, time, part, id;
