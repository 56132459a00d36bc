DROP TABLE ingest_progress;
