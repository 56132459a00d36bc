DROP TABLE statistics_progress;
DROP TABLE statistics_hourly;
DROP TABLE statistics_5min;
