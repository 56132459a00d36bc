-- Every fact with its state, entity and base topic: the query users of the
-- project statesink grew out of run, kept working as written (column names
-- included) so their reports keep working.
--
-- No parameters. Reads the whole history: add a WHERE on facts.recorded_at
-- or entities.label for anything but small databases.
select facts.id, facts.fact, states.label as state, states.id as state_id,
       entities.label as entity, entities.id as entity_id,
       base_topics.label as main_topic, base_topic_id as main_topic_id
from facts
join states on facts.state_id = states.id
join entities on states.entity_id = entities.id
join base_topics on entities.base_topic_id = base_topics.id
