-- Children before parents, for the foreign keys.
DROP TABLE current_states;
DROP TABLE facts;
DROP TABLE states;
DROP TABLE entities;
DROP TABLE base_topics;
