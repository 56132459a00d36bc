INSERT INTO notes VALUES
  (1, 'fine'),
  (2, 'it's broken'),
  (3, 'last');
