-- Hourly statistics of one entity between two times, for ranges longer than a
-- day (a year of one sensor is at most 8,784 rows, where its facts could be
-- millions). For shorter ranges, entity_history.sql shows every change.
--
-- Parameters, as session variables (or replace them with your tool's own):
--   @entity_id   the entity id, e.g. 'sensor.kitchen_temperature'
--   @attribute   'state', or an attribute name such as 'brightness'
--   @from, @to   UTC, e.g. '2024-05-01 00:00:00'; hours starting from @from
--                (inclusive) to @to (exclusive)
--   @base_topic  the installation's base topic, or NULL for every installation
-- Example:
--   SET @entity_id = 'sensor.kitchen_temperature', @attribute = 'state',
--       @from = '2024-05-01 00:00:00', @to = '2024-06-01 00:00:00',
--       @base_topic = NULL;
-- In Grafana, use $__timeFrom() and $__timeTo() for @from and @to; `time` is
-- the start of each UTC hour and makes the result a time series.
--
-- mean_value is time-weighted (each value counts for as long as it held;
-- on/off states give the fraction of the hour they were on); time while the
-- entity was unavailable counts for nothing, and covered_seconds says how
-- much of the hour had a number. An hour has a row while a number was in
-- force, also without any change in it (samples = 0). Hours still in
-- progress and the last few minutes are not there yet: `statesink statistics
-- update` writes an hour once it has ended. The primary key (state_id,
-- bucket_start) makes this a range scan per state.
SELECT st.bucket_start AS time,
       CONCAT(e.label, IF(b.label = 'homeassistant', '', CONCAT(' (', b.label, ')'))) AS metric,
       st.min_value, st.mean_value, st.max_value,
       st.first_value, st.last_value, st.samples, st.covered_seconds
FROM base_topics b
JOIN entities e ON e.base_topic_id = b.id
JOIN states s ON s.entity_id = e.id
JOIN statistics_hourly st ON st.state_id = s.id
WHERE e.label = @entity_id AND s.label = @attribute
  AND (@base_topic IS NULL OR b.label = @base_topic)
  AND st.bucket_start >= @from AND st.bucket_start < @to
ORDER BY metric, time;
