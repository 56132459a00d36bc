DROP TABLE retention_rules;
DROP VIEW entity_catalog;
DROP INDEX facts_recorded_at ON facts;
