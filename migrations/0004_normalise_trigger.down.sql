-- The normalised tables keep what the trigger wrote; new messages are no
-- longer normalised.
DROP TRIGGER messages_normalise;
DROP VIEW rejected_messages;
DROP TABLE message_rejections;
