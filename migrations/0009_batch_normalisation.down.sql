-- Back to the per-row trigger of 0004 for every client.
DROP PROCEDURE normalise_batch;
DROP FUNCTION statesink_has_surrogate;
DROP FUNCTION statesink_number;
DROP TRIGGER messages_normalise;

CREATE TRIGGER messages_normalise
AFTER INSERT ON messages
FOR EACH ROW
BEGIN
  DECLARE v_reason      VARCHAR(1024) DEFAULT NULL;
  DECLARE v_levels      INT;
  DECLARE v_base        VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
  DECLARE v_domain      VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
  DECLARE v_object      VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
  DECLARE v_text        TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
  DECLARE v_fact        TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
  DECLARE v_current     TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
  DECLARE v_num         DOUBLE DEFAULT NULL;
  DECLARE v_pos         INT;
  DECLARE v_base_id     INT UNSIGNED DEFAULT NULL;
  DECLARE v_entity_id   INT UNSIGNED DEFAULT NULL;
  DECLARE v_state_id    INT UNSIGNED DEFAULT NULL;
  DECLARE v_fact_id     BIGINT UNSIGNED;
  DECLARE v_has_current BOOLEAN DEFAULT FALSE;
  DECLARE v_keep_every  BOOLEAN DEFAULT FALSE;

  -- These abort the whole transaction or the client's statement on purpose
  -- (deadlock, lock wait timeout, KILL QUERY): swallowing them would let the
  -- INSERT look successful after the server rolled it back. The client
  -- retries them. A handler for an error number wins over SQLEXCEPTION.
  DECLARE EXIT HANDLER FOR 1205, 1213, 1317 RESIGNAL;
  -- Anything else is recorded as a rejection instead of failing the INSERT,
  -- so one bad message cannot block the good ones inserted with it. Changes
  -- the trigger made before the error stay; the checks below run before the
  -- first write so that expected problems never get that far.
  DECLARE EXIT HANDLER FOR SQLEXCEPTION
  BEGIN
    DECLARE v_errno INT;
    DECLARE v_message VARCHAR(512);
    GET DIAGNOSTICS CONDITION 1 v_errno = MYSQL_ERRNO, v_message = MESSAGE_TEXT;
    INSERT INTO message_rejections (message_id, reason)
    VALUES (NEW.id, LEFT(CONCAT('unexpected error ', v_errno, ': ', v_message), 1024));
  END;
  -- A SELECT ... INTO that finds no row leaves the variables as they were
  -- (NULL), which is how the lookups below say "not there yet".
  DECLARE CONTINUE HANDLER FOR NOT FOUND BEGIN END;

  -- Every statement in a trigger costs about a microsecond before it does
  -- any work, so the common path below is kept to few of them.
  normalise: BEGIN
    SELECT s.id, c.state_id IS NOT NULL, c.value
      INTO v_state_id, v_has_current, v_current
      FROM states s
      LEFT JOIN current_states c ON c.state_id = s.id
     WHERE s.topic_hash = UNHEX(SHA2(NEW.topic, 256));

    IF v_state_id IS NULL THEN
      -- A new topic: BASE/DOMAIN/OBJECT_ID/ATTRIBUTE, read from the right
      -- because the base topic may itself have several levels. '/' is one
      -- byte in UTF-8, so byte lengths count it exactly.
      SET v_levels = LENGTH(NEW.topic) - LENGTH(REPLACE(NEW.topic, '/', '')) + 1;
      IF v_levels < 4 THEN
        SET v_reason = 'topic has fewer than four levels';
        LEAVE normalise;
      END IF;
      IF LEFT(NEW.topic, 1) = '/' OR RIGHT(NEW.topic, 1) = '/' OR LOCATE('//', NEW.topic) > 0 THEN
        SET v_reason = 'topic has an empty level';
        LEAVE normalise;
      END IF;
      IF LOCATE(' /', NEW.topic) > 0 OR RIGHT(NEW.topic, 1) = ' ' THEN
        SET v_reason = 'topic level ends with a space';
        LEAVE normalise;
      END IF;
      IF LOCATE(CHAR(0 USING utf8mb4), NEW.topic) > 0 THEN
        SET v_reason = 'topic contains a NUL character';
        LEAVE normalise;
      END IF;
      -- Lengths are checked before the parts go into VARCHAR(255) variables.
      IF CHAR_LENGTH(SUBSTRING_INDEX(NEW.topic, '/', v_levels - 3)) > 255 THEN
        SET v_reason = 'base topic longer than 255 characters';
        LEAVE normalise;
      END IF;
      IF CHAR_LENGTH(SUBSTRING_INDEX(SUBSTRING_INDEX(NEW.topic, '/', -3), '/', 1)) > 255
         OR CHAR_LENGTH(SUBSTRING_INDEX(SUBSTRING_INDEX(NEW.topic, '/', -2), '/', 1)) > 255
         OR CHAR_LENGTH(SUBSTRING_INDEX(NEW.topic, '/', -1)) > 255 THEN
        SET v_reason = 'topic level longer than 255 characters';
        LEAVE normalise;
      END IF;
      SET v_base = SUBSTRING_INDEX(NEW.topic, '/', v_levels - 3);
      SET v_domain = SUBSTRING_INDEX(SUBSTRING_INDEX(NEW.topic, '/', -3), '/', 1);
      SET v_object = SUBSTRING_INDEX(SUBSTRING_INDEX(NEW.topic, '/', -2), '/', 1);
    END IF;

    -- Payload: checked as bytes before it is read as text.
    IF LENGTH(NEW.payload) > 65535 THEN
      SET v_reason = 'payload larger than 65535 bytes';
      LEAVE normalise;
    END IF;
    -- Invalid sequences come back from the conversion as '?', so only valid
    -- UTF-8 survives the round trip unchanged. Inside a condition the
    -- conversion only warns; assigned to a variable under strict SQL mode it
    -- would raise an error (that the handler above would still catch).
    IF CONVERT(CONVERT(NEW.payload USING utf8mb4) USING binary) <> NEW.payload THEN
      SET v_reason = 'payload is not valid UTF-8';
      LEAVE normalise;
    END IF;
    -- After the round trip every 0xED byte starts a character; followed by
    -- 0xA0..0xBF it encodes a UTF-16 surrogate. Rare in real text, so the
    -- loop almost never runs.
    IF LOCATE(x'ED', NEW.payload) > 0 THEN
      SET v_pos = LOCATE(x'ED', NEW.payload);
      WHILE v_pos > 0 DO
        IF SUBSTRING(NEW.payload, v_pos + 1, 1) >= x'A0' THEN
          SET v_reason = 'payload is not valid UTF-8';
          LEAVE normalise;
        END IF;
        SET v_pos = LOCATE(x'ED', NEW.payload, v_pos + 1);
      END WHILE;
    END IF;

    -- Value: state and the two timestamps are plain strings; attributes are
    -- JSON, of which strings are unquoted and unescaped and everything else
    -- (numbers, lists, objects, null, and Home Assistant's NaN and Infinity,
    -- which are not JSON) is kept as sent.
    SET v_text = CONVERT(NEW.payload USING utf8mb4);
    SET v_fact = CASE
      WHEN SUBSTRING_INDEX(NEW.topic, '/', -1) IN ('state', 'last_updated', 'last_changed') THEN v_text
      WHEN NOT JSON_VALID(v_text) THEN v_text
      WHEN JSON_TYPE(v_text) = 'STRING' THEN JSON_UNQUOTE(v_text) COLLATE utf8mb4_bin
      ELSE v_text
    END;
    -- Valid UTF-8, but C clients and many BI drivers cut text at a NUL.
    IF LOCATE(CHAR(0 USING utf8mb4), v_fact) > 0 THEN
      SET v_reason = IF(LOCATE(x'00', NEW.payload) > 0,
                        'payload contains a NUL byte', 'value contains a NUL character');
      LEAVE normalise;
    END IF;
    IF v_fact IN ('on', 'true') THEN
      SET v_num = 1;
    ELSEIF v_fact IN ('off', 'false') THEN
      SET v_num = 0;
    ELSEIF v_fact REGEXP '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$' THEN
      -- Out of DOUBLE's range (1e999) is no number; the conversion's error
      -- must not reject the message.
      BEGIN
        DECLARE CONTINUE HANDLER FOR SQLEXCEPTION, SQLWARNING SET v_num = NULL;
        SET v_num = CAST(v_fact AS DOUBLE);
      END;
    END IF;

    IF v_state_id IS NULL THEN
      -- New state, maybe of a new entity or base topic: find what exists of
      -- the chain in one statement, create the rest. ON DUPLICATE KEY covers
      -- another session creating the same row in the meantime.
      SELECT b.id, e.id INTO v_base_id, v_entity_id
        FROM base_topics b
        LEFT JOIN entities e
          ON e.base_topic_id = b.id AND e.domain = v_domain AND e.object_id = v_object
       WHERE b.label = v_base;
      IF v_base_id IS NULL THEN
        INSERT INTO base_topics (label, first_seen) VALUES (v_base, NEW.received_at)
          ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id);
        SET v_base_id = LAST_INSERT_ID();
      END IF;
      IF v_entity_id IS NULL THEN
        INSERT INTO entities (base_topic_id, label, domain, object_id, first_seen)
          VALUES (v_base_id, CONCAT(v_domain, '.', v_object), v_domain, v_object, NEW.received_at)
          ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id);
        SET v_entity_id = LAST_INSERT_ID();
      END IF;
      INSERT INTO states (entity_id, label, topic_hash, first_seen)
        VALUES (v_entity_id, SUBSTRING_INDEX(NEW.topic, '/', -1), UNHEX(SHA2(NEW.topic, 256)),
                NEW.received_at)
        ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id);
      SET v_state_id = LAST_INSERT_ID();
    END IF;

    -- utf8mb4_bin ignores trailing spaces; equal byte lengths make it exact.
    IF v_has_current AND v_current = v_fact AND LENGTH(v_current) = LENGTH(v_fact) THEN
      SELECT value IN ('1', 'on', 'true', 'yes') INTO v_keep_every
        FROM settings WHERE name = 'keep_every_message';
      IF NOT v_keep_every THEN
        -- A repeat: only the bookkeeping changes. The value is compared again
        -- under the row lock, in case another session changed it since the
        -- SELECT above; then this message is recorded as a change.
        -- times_seen always changes, so ROW_COUNT() counts the matched row
        -- whatever the client's found-rows flag says.
        UPDATE current_states
           SET times_seen = times_seen + 1,
               last_message_id = IF(NEW.received_at >= last_seen, NEW.id, last_message_id),
               last_seen = GREATEST(last_seen, NEW.received_at)
         WHERE state_id = v_state_id AND value = v_fact AND LENGTH(value) = LENGTH(v_fact);
        IF ROW_COUNT() > 0 THEN
          LEAVE normalise;
        END IF;
      END IF;
    END IF;

    INSERT INTO facts (state_id, message_id, fact, num_value, recorded_at)
    VALUES (v_state_id, NEW.id, v_fact, v_num, NEW.received_at);
    SET v_fact_id = LAST_INSERT_ID();

    IF v_has_current THEN
      -- A message older than what current_states already shows (several
      -- ingesters, a late retry) becomes history but does not replace the
      -- current value. The assignments see the columns already assigned to
      -- their left, so the ones that read `value` come first.
      UPDATE current_states
         SET last_changed = IF(value = v_fact AND LENGTH(value) = LENGTH(v_fact),
                               last_changed, NEW.received_at),
             times_seen = IF(value = v_fact AND LENGTH(value) = LENGTH(v_fact), times_seen + 1, 1),
             fact_id = v_fact_id,
             value = v_fact,
             num_value = v_num,
             last_seen = NEW.received_at,
             last_message_id = NEW.id
       WHERE state_id = v_state_id AND last_seen <= NEW.received_at;
    ELSE
      -- The first value of this state, unless another session got there
      -- first; then the same rules as the UPDATE above. last_seen, which the
      -- guard reads, is assigned last.
      INSERT INTO current_states
        (state_id, fact_id, value, num_value, last_changed, last_seen, times_seen, last_message_id)
      VALUES
        (v_state_id, v_fact_id, v_fact, v_num, NEW.received_at, NEW.received_at, 1, NEW.id)
      ON DUPLICATE KEY UPDATE
        last_changed = IF(last_seen > NEW.received_at
                          OR (value = v_fact AND LENGTH(value) = LENGTH(v_fact)),
                          last_changed, NEW.received_at),
        times_seen = IF(last_seen > NEW.received_at, times_seen,
                        IF(value = v_fact AND LENGTH(value) = LENGTH(v_fact), times_seen + 1, 1)),
        fact_id = IF(last_seen > NEW.received_at, fact_id, v_fact_id),
        num_value = IF(last_seen > NEW.received_at, num_value, v_num),
        value = IF(last_seen > NEW.received_at, value, v_fact),
        last_message_id = IF(last_seen > NEW.received_at, last_message_id, NEW.id),
        last_seen = GREATEST(last_seen, NEW.received_at);
    END IF;
  END normalise;

  IF v_reason IS NOT NULL THEN
    INSERT INTO message_rejections (message_id, reason) VALUES (NEW.id, v_reason);
  END IF;
END;
