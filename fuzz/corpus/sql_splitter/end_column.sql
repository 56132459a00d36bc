CREATE PROCEDURE widest()
BEGIN
  SELECT id, end - `begin` AS width FROM spans;
END;
