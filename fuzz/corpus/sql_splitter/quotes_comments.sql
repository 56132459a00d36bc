/*!40101 SET NAMES utf8mb4 */;
/*M!100100 SET @x = 1 */;
SELECT 'it''s', "a\"b", `c``d` # hash
-- dash
/* block; */;
SELECT 1--1;
