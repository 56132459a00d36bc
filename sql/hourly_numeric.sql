-- Hourly minimum, mean and maximum of every numeric sensor, ready for a
-- Grafana time-series panel: `time` is the start of the hour (UTC), `metric`
-- names the series, the other columns are values.
--
-- Parameters, as session variables (or replace them with your tool's own):
--   @from, @to   UTC, e.g. '2024-05-01 00:00:00'; from inclusive, to exclusive
-- Example:
--   SET @from = '2024-05-01 00:00:00', @to = '2024-05-02 00:00:00';
-- In Grafana, use $__timeFrom() and $__timeTo() for @from and @to (or
-- $__timeFilter(f.happened_at) for the whole range condition). Hours are
-- those of happened_at: when the change happened in Home Assistant where it
-- publishes timestamps, else when statesink received it.
--
-- Numeric means: sensors whose state is a number (num_value is not NULL;
-- unavailable, unknown and text states are left out). The mean is over the
-- recorded values, which are the changes: a value that holds for hours
-- counts once, not weighted by how long it held.
-- The time filter is a range scan of the facts index per sensor state.
SELECT
  CAST(DATE_FORMAT(f.happened_at, '%Y-%m-%d %H:00:00') AS DATETIME) AS time,
  CONCAT(e.label, IF(b.label = 'homeassistant', '', CONCAT(' (', b.label, ')'))) AS metric,
  MIN(f.num_value)  AS min_value,
  AVG(f.num_value)  AS mean_value,
  MAX(f.num_value)  AS max_value,
  COUNT(*)          AS samples
FROM base_topics b
JOIN entities e ON e.base_topic_id = b.id
JOIN states s ON s.entity_id = e.id
JOIN facts f ON f.state_id = s.id
WHERE e.domain = 'sensor'
  AND s.label = 'state'
  AND f.num_value IS NOT NULL
  AND f.happened_at >= @from AND f.happened_at < @to
GROUP BY time, metric
ORDER BY time, metric;
