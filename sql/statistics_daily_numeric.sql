-- Daily minimum, time-weighted mean and maximum of every numeric sensor, from
-- statistics_hourly: months of every sensor without reading the facts.
--
-- Parameters, as session variables (or replace them with your tool's own):
--   @from, @to   UTC, e.g. '2024-01-01 00:00:00'; from inclusive, to exclusive
-- Example:
--   SET @from = '2024-01-01 00:00:00', @to = '2024-07-01 00:00:00';
-- In Grafana, use $__timeFrom() and $__timeTo() for @from and @to.
--
-- Days are UTC days. The daily mean weighs each hour by the time it had a
-- number (covered_seconds), so it stays time-weighted across hours in which
-- the sensor was unavailable for a while.
SELECT CAST(DATE(st.bucket_start) AS DATETIME) AS time,
       CONCAT(e.label, IF(b.label = 'homeassistant', '', CONCAT(' (', b.label, ')'))) AS metric,
       MIN(st.min_value) AS min_value,
       SUM(st.mean_value * st.covered_seconds) / NULLIF(SUM(st.covered_seconds), 0) AS mean_value,
       MAX(st.max_value) AS max_value,
       SUM(st.samples) AS samples
FROM base_topics b
JOIN entities e ON e.base_topic_id = b.id
JOIN states s ON s.entity_id = e.id
JOIN statistics_hourly st ON st.state_id = s.id
WHERE e.domain = 'sensor'
  AND s.label = 'state'
  AND st.bucket_start >= @from AND st.bucket_start < @to
GROUP BY time, metric
ORDER BY time, metric;
