-- Long-term statistics: per numeric state, 5-minute and hourly buckets of
-- min, max, time-weighted mean, first and last value, for charts over weeks
-- and months that would otherwise read every fact.
--
-- Written by `statesink statistics update` (a systemd timer runs it every
-- five minutes) and `statesink statistics rebuild`, never by the trigger: the
-- trigger is what limits the ingestion rate, so keeping the statistics costs
-- it nothing. The update finds new facts by `facts.id`, which only grows, from
-- the watermark in statistics_progress.
--
-- Bucket starts are UTC and multiples of the bucket width since 1970, so
-- daylight saving time changes nothing here; BI tools shift them for display.

-- One row per state and 5-minute bucket in which a number was in force or
-- recorded (a value that holds for days fills every bucket it spans).
CREATE TABLE statistics_5min (
  state_id         INT UNSIGNED NOT NULL,
  -- UTC start of the bucket; the bucket is [bucket_start, bucket_start + 5 min).
  bucket_start     DATETIME     NOT NULL,
  -- Numeric facts recorded in the bucket (0: the value in force carried on).
  samples          INT UNSIGNED NOT NULL,
  -- Over the values the state took in the bucket: the one in force at its
  -- start and every numeric fact recorded in it.
  min_value        DOUBLE       NOT NULL,
  max_value        DOUBLE       NOT NULL,
  -- Weighted by how long each value held within the bucket; time during which
  -- the state was unavailable, unknown or text is left out. on/off states
  -- (1/0) give the fraction of that time they were on. NULL only if the sum
  -- overflows DOUBLE.
  mean_value       DOUBLE       NULL,
  first_value      DOUBLE       NOT NULL,
  last_value       DOUBLE       NOT NULL,
  -- Seconds of the bucket during which a number was in force: less than the
  -- bucket's width when the state started, or was unavailable, within it.
  covered_seconds  DOUBLE       NOT NULL,
  PRIMARY KEY (state_id, bucket_start),
  -- Every state's buckets in a time range (dashboards over all sensors).
  KEY statistics_5min_bucket (bucket_start)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- The same per hour, computed from the facts (not from the 5-minute rows), so
-- either table can be rebuilt alone.
CREATE TABLE statistics_hourly (
  state_id         INT UNSIGNED NOT NULL,
  bucket_start     DATETIME     NOT NULL,
  samples          INT UNSIGNED NOT NULL,
  min_value        DOUBLE       NOT NULL,
  max_value        DOUBLE       NOT NULL,
  mean_value       DOUBLE       NULL,
  first_value      DOUBLE       NOT NULL,
  last_value       DOUBLE       NOT NULL,
  covered_seconds  DOUBLE       NOT NULL,
  PRIMARY KEY (state_id, bucket_start),
  KEY statistics_hourly_bucket (bucket_start)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- How far each table is kept, moved in the same transaction as the rows it
-- accounts for, so an interrupted update resumes where it stopped.
CREATE TABLE statistics_progress (
  -- '5min' or 'hourly'.
  granularity       VARCHAR(16)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  -- Facts up to this id have been taken into account.
  last_fact_id      BIGINT UNSIGNED NOT NULL DEFAULT 0,
  -- Every bucket before this time is complete and written; NULL: nothing yet.
  computed_until    DATETIME        NULL,
  -- The highest fact id seen by the previous run, and when. Ids are handed
  -- out before commit, so a fact may become visible after a higher one; the
  -- update only moves last_fact_id up to an id seen long enough ago
  -- (--settle) that every transaction holding a lower id has ended.
  observed_fact_id  BIGINT UNSIGNED NOT NULL DEFAULT 0,
  observed_at       DATETIME(6)     NULL,
  updated_at        DATETIME(6)     NULL,
  PRIMARY KEY (granularity)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT INTO statistics_progress (granularity) VALUES ('5min'), ('hourly');
