#include "migrate/sql_splitter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace statesink::migrate {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> texts(std::string_view script) {
  std::vector<std::string> out;
  for (const SqlStatement& s : split_sql(script)) {
    out.push_back(s.text);
  }
  return out;
}

std::vector<int> lines(std::string_view script) {
  std::vector<int> out;
  for (const SqlStatement& s : split_sql(script)) {
    out.push_back(s.line);
  }
  return out;
}

// Returns the error's line, or 0 when nothing was thrown; the message goes to
// `message`.
int error_line(std::string_view script, std::string* message = nullptr) {
  try {
    split_sql(script);
  } catch (const SqlSyntaxError& e) {
    if (message != nullptr) {
      *message = e.what();
    }
    return e.line();
  }
  return 0;
}

// --- plain statements ---------------------------------------------------------

TEST(SqlSplitter, SplitsOnSemicolons) {
  EXPECT_THAT(texts("SELECT 1; SELECT 2;\nSELECT 3;"),
              ElementsAre("SELECT 1", "SELECT 2", "SELECT 3"));
}

TEST(SqlSplitter, EmptyInputGivesNothing) {
  EXPECT_THAT(split_sql(""), IsEmpty());
  EXPECT_THAT(split_sql(" \n\t\r\n"), IsEmpty());
  EXPECT_THAT(split_sql(";;\n ; ;"), IsEmpty());
}

TEST(SqlSplitter, LastStatementNeedsNoDelimiter) {
  EXPECT_THAT(texts("SELECT 1;\nSELECT 2\n\n"), ElementsAre("SELECT 1", "SELECT 2"));
  EXPECT_THAT(texts("SELECT 1"), ElementsAre("SELECT 1"));
}

TEST(SqlSplitter, TrimsAroundButKeepsInnerTextByteExact) {
  EXPECT_THAT(texts("  \n\tSELECT  a,\n\t b  \n FROM t \t\n;"),
              ElementsAre("SELECT  a,\n\t b  \n FROM t"));
}

TEST(SqlSplitter, CommentOnlyFileGivesNoStatements) {
  EXPECT_THAT(split_sql("-- nothing here; really\n# nor here;\n/* nor; here */\n--\n"), IsEmpty());
  EXPECT_THAT(split_sql("-- a comment;\n;\n/* another */;"), IsEmpty());
}

TEST(SqlSplitter, LineNumbersPointAtTheFirstToken) {
  const std::string script =
      "-- header comment\n"       // 1
      "\n"                        // 2
      "SELECT 1;\n"               // 3
      "/* a\n"                    // 4
      "   b */ SELECT\n"          // 5
      "  2; SELECT 3;\n"          // 6
      "# trailing\n"              // 7
      "\n"                        // 8
      "  INSERT INTO t VALUES\n"  // 9
      "  ('x\ny');\n"             // 10-11
      "SELECT 4";                 // 12
  EXPECT_THAT(lines(script), ElementsAre(3, 5, 6, 9, 12));
}

// --- quotes -------------------------------------------------------------------

TEST(SqlSplitter, SemicolonInsideSingleQuotes) {
  EXPECT_THAT(texts("INSERT INTO t VALUES ('a;b'); SELECT 2"),
              ElementsAre("INSERT INTO t VALUES ('a;b')", "SELECT 2"));
}

TEST(SqlSplitter, SemicolonInsideDoubleQuotes) {
  EXPECT_THAT(texts("SELECT \"a;b\"; SELECT 2"), ElementsAre("SELECT \"a;b\"", "SELECT 2"));
}

TEST(SqlSplitter, SemicolonInsideBackticks) {
  EXPECT_THAT(texts("SELECT `a;b` FROM t; SELECT 2"),
              ElementsAre("SELECT `a;b` FROM t", "SELECT 2"));
}

TEST(SqlSplitter, BackslashEscapedQuote) {
  EXPECT_THAT(texts(R"(SELECT 'it\'s;'; SELECT "say \";\""; SELECT 3)"),
              ElementsAre(R"(SELECT 'it\'s;')", R"(SELECT "say \";\"")", "SELECT 3"));
}

TEST(SqlSplitter, EscapedBackslashBeforeClosingQuote) {
  EXPECT_THAT(texts(R"(SELECT 'C:\\'; SELECT 2)"), ElementsAre(R"(SELECT 'C:\\')", "SELECT 2"));
}

TEST(SqlSplitter, DoubledQuotes) {
  EXPECT_THAT(texts("SELECT 'a'';'; SELECT \"a\"\";\"; SELECT 'it''s'; SELECT 4"),
              ElementsAre("SELECT 'a'';'", "SELECT \"a\"\";\"", "SELECT 'it''s'", "SELECT 4"));
}

TEST(SqlSplitter, DoubledBacktickAndNoBackslashEscapeInBackticks) {
  EXPECT_THAT(texts("SELECT `a``;` FROM t; SELECT 2"),
              ElementsAre("SELECT `a``;` FROM t", "SELECT 2"));
  // A backslash is an ordinary character in an identifier, so ` closes it.
  EXPECT_THAT(texts("SELECT `a\\`; SELECT 2"), ElementsAre("SELECT `a\\`", "SELECT 2"));
}

TEST(SqlSplitter, OtherQuotesInsideQuotes) {
  EXPECT_THAT(texts("SELECT 'a\"b`c;', \"d'e`;\", `f'g\";`; SELECT 2"),
              ElementsAre("SELECT 'a\"b`c;', \"d'e`;\", `f'g\";`", "SELECT 2"));
}

// --- comments -----------------------------------------------------------------

TEST(SqlSplitter, DashDashCommentHidesSemicolonAndQuotes) {
  EXPECT_THAT(texts("SELECT 1 -- it's; \"here`\n, 2; SELECT 3"),
              ElementsAre("SELECT 1 -- it's; \"here`\n, 2", "SELECT 3"));
}

TEST(SqlSplitter, HashCommentHidesSemicolonAndQuotes) {
  EXPECT_THAT(texts("SELECT 1 # it's; \"here`\n, 2; SELECT 3"),
              ElementsAre("SELECT 1 # it's; \"here`\n, 2", "SELECT 3"));
}

TEST(SqlSplitter, BlockCommentHidesSemicolonAndQuotes) {
  EXPECT_THAT(texts("SELECT 1 /* it's;\n \"here` */, 2; SELECT 3"),
              ElementsAre("SELECT 1 /* it's;\n \"here` */, 2", "SELECT 3"));
}

TEST(SqlSplitter, DashDashNeedsWhiteSpaceOrControlCharacter) {
  EXPECT_THAT(texts("SELECT 1--1; SELECT 2"), ElementsAre("SELECT 1--1", "SELECT 2"));
  EXPECT_THAT(texts("SELECT a--b FROM t; SELECT 2"), ElementsAre("SELECT a--b FROM t", "SELECT 2"));
  EXPECT_THAT(texts("SELECT 1 --\t;\n; SELECT 2"), ElementsAre("SELECT 1 --\t;", "SELECT 2"));
  EXPECT_THAT(texts("SELECT 1 --\n, 2; SELECT 3"), ElementsAre("SELECT 1 --\n, 2", "SELECT 3"));
  EXPECT_THAT(texts("SELECT 1; --"), ElementsAre("SELECT 1"));
}

TEST(SqlSplitter, LeadingCommentsAreRemovedInnerAndTrailingKept) {
  EXPECT_THAT(texts("-- about t\n/* more */ # and more\nSELECT /* inner */ 1 -- tail\n;"),
              ElementsAre("SELECT /* inner */ 1 -- tail"));
  EXPECT_THAT(texts("SELECT 1; -- note on the same line\nSELECT 2;"),
              ElementsAre("SELECT 1", "SELECT 2"));
}

TEST(SqlSplitter, BlockCommentsDoNotNest) {
  EXPECT_THAT(texts("SELECT /* a /* b */ 1; SELECT 2"),
              ElementsAre("SELECT /* a /* b */ 1", "SELECT 2"));
}

TEST(SqlSplitter, ExecutableCommentsAreKept) {
  EXPECT_THAT(texts("/*!40101 SET NAMES utf8mb4 */;\n/*M!100100 SET @x = 1 */;\n"
                    "CREATE TABLE t (a INT) /*!50100 ENGINE=InnoDB */;"),
              ElementsAre("/*!40101 SET NAMES utf8mb4 */", "/*M!100100 SET @x = 1 */",
                          "CREATE TABLE t (a INT) /*!50100 ENGINE=InnoDB */"));
  EXPECT_THAT(lines("\n\n/*!40101 SET NAMES utf8mb4 */;"), ElementsAre(3));
}

TEST(SqlSplitter, ExecutableCommentHidesSemicolonAndHonoursQuotes) {
  EXPECT_THAT(texts("SELECT 1 /*!50000 ; '*/;' */; SELECT 2"),
              ElementsAre("SELECT 1 /*!50000 ; '*/;' */", "SELECT 2"));
}

TEST(SqlSplitter, OptimizerHintIsAnOrdinaryComment) {
  EXPECT_THAT(texts("SELECT /*+ MAX_EXECUTION_TIME(1) */ 1; /*+ x */ SELECT 2"),
              ElementsAre("SELECT /*+ MAX_EXECUTION_TIME(1) */ 1", "SELECT 2"));
}

// --- stored programs without DELIMITER ---------------------------------------

constexpr std::string_view kMessagesTrigger =
    "CREATE TRIGGER messages_ai AFTER INSERT ON messages FOR EACH ROW\n"
    "BEGIN\n"
    "  DECLARE v_base VARCHAR(255);\n"
    "  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN SET @err = 1; END;\n"
    "  IF NEW.topic LIKE '%;%' THEN\n"
    "    SET v_base = IF(LENGTH(NEW.topic) > 3, 'a;b', \"c;d\");\n"
    "  ELSEIF NEW.qos = 1 THEN\n"
    "    SET v_base = CASE WHEN NEW.qos > 0 THEN 'x' ELSE 'y' END;\n"
    "  END IF;\n"
    "  lbl: LOOP LEAVE lbl; END LOOP lbl;\n"
    "END";

TEST(SqlSplitter, RealisticTriggerWithAndWithoutDelimiter) {
  const std::string plain = "-- derived rows\nSET @x = 1;\n" + std::string(kMessagesTrigger) +
                            ";\nINSERT INTO t VALUES (1);\n";
  const std::string delimited = "-- derived rows\nSET @x = 1;\nDELIMITER $$\n" +
                                std::string(kMessagesTrigger) +
                                "$$\nDELIMITER ;\nINSERT INTO t VALUES (1);\n";
  const std::vector<SqlStatement> a = split_sql(plain);
  const std::vector<SqlStatement> b = split_sql(delimited);
  ASSERT_EQ(a.size(), 3U);
  ASSERT_EQ(b.size(), 3U);
  EXPECT_EQ(a[0].text, "SET @x = 1");
  EXPECT_EQ(a[1].text, kMessagesTrigger);
  EXPECT_EQ(a[2].text, "INSERT INTO t VALUES (1)");
  EXPECT_EQ(a[1].line, 3);
  EXPECT_EQ(a[2].line, 14);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].text, b[i].text) << i;
  }
  EXPECT_EQ(b[1].line, 4);
  EXPECT_EQ(b[2].line, 16);
}

TEST(SqlSplitter, TriggerWithNestedBlocks) {
  const std::string trigger =
      "CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW\n"
      "BEGIN\n"
      "  DECLARE i INT DEFAULT 0;\n"
      "  IF NEW.a IS NULL THEN\n"
      "    IF NEW.b > 0 THEN SET NEW.a = 1; ELSE SET NEW.a = IF(NEW.c, 2, 3); END IF;\n"
      "  END IF;\n"
      "  CASE NEW.kind\n"
      "    WHEN 1 THEN SET NEW.x = CASE NEW.y WHEN 0 THEN 'zero' ELSE 'other' END;\n"
      "    WHEN 2 THEN BEGIN SET NEW.x = 'two'; SET NEW.z = 2; END;\n"
      "    ELSE IF NEW.y THEN SET NEW.x = 'y'; END IF;\n"
      "  END CASE;\n"
      "  w: WHILE i < 3 DO\n"
      "    SET i = i + 1;\n"
      "    REPEAT SET i = i + 1; UNTIL i > 5 END REPEAT;\n"
      "    SET NEW.s = REPEAT('a', i);\n"
      "  END WHILE w;\n"
      "  l: LOOP\n"
      "    IF i > 10 THEN LEAVE l; END IF;\n"
      "    SET i = i + 1;\n"
      "  END LOOP l;\n"
      "  SET NEW.t = (SELECT CASE WHEN COUNT(*) > 0 THEN 1 END FROM u);\n"
      "END";
  EXPECT_THAT(texts(trigger + ";\nSELECT 1;"), ElementsAre(trigger, "SELECT 1"));
}

TEST(SqlSplitter, CreateProcedure) {
  const std::string procedure =
      "CREATE PROCEDURE IF NOT EXISTS db.fill(IN n INT, OUT done BOOL)\n"
      "  COMMENT 'fills; slowly' SQL SECURITY INVOKER NOT DETERMINISTIC MODIFIES SQL DATA\n"
      "BEGIN\n"
      "  DECLARE i INT DEFAULT 0;\n"
      "  DECLARE c CURSOR FOR SELECT id FROM t FOR UPDATE;\n"
      "  DROP TABLE IF EXISTS tmp;\n"
      "  START TRANSACTION;\n"
      "  WHILE i < n DO INSERT INTO t VALUES (i); SET i = i + 1; END WHILE;\n"
      "  COMMIT;\n"
      "  SET done = TRUE;\n"
      "END";
  EXPECT_THAT(texts(procedure + ";\nCALL db.fill(3, @d);"),
              ElementsAre(procedure, "CALL db.fill(3, @d)"));
}

TEST(SqlSplitter, CreateFunction) {
  const std::string with_body =
      "CREATE FUNCTION label_for(q INT) RETURNS VARCHAR(20) CHARSET utf8mb4 DETERMINISTIC\n"
      "BEGIN\n"
      "  DECLARE r VARCHAR(20);\n"
      "  SET r = CASE q WHEN 0 THEN 'at most once;' ELSE 'more' END;\n"
      "  RETURN r;\n"
      "END";
  const std::string one_statement =
      "CREATE FUNCTION sign_of(x INT) RETURNS INT DETERMINISTIC RETURN IF(x > 0, 1, 0)";
  EXPECT_THAT(texts(with_body + ";\n" + one_statement + ";\nSELECT label_for(1);"),
              ElementsAre(with_body, one_statement, "SELECT label_for(1)"));
}

TEST(SqlSplitter, RoutineBodyThatIsABareCompoundStatement) {
  const std::string procedure =
      "CREATE PROCEDURE p(x INT) SQL SECURITY INVOKER IF x > 0 THEN SELECT 1; ELSE SELECT 2; END "
      "IF";
  const std::string function =
      "CREATE FUNCTION f(x INT) RETURNS DECIMAL(10,2) UNSIGNED NO SQL\n"
      "  IF x > 0 THEN RETURN 1; ELSE RETURN 0; END IF";
  const std::string trigger =
      "CREATE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW\n"
      "  IF NEW.a < 0 THEN SET NEW.a = 0; END IF";
  EXPECT_THAT(texts(procedure + ";\n" + function + ";\n" + trigger + ";\nSELECT 1"),
              ElementsAre(procedure, function, trigger, "SELECT 1"));
  const std::string labelled_loop = "CREATE PROCEDURE q() l: LOOP SELECT 1; LEAVE l; END LOOP l";
  const std::string event =
      "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO w: WHILE @a DO SET @a = 0; END WHILE";
  EXPECT_THAT(texts(labelled_loop + ";\n" + event + ";\nSELECT 1"),
              ElementsAre(labelled_loop, event, "SELECT 1"));
}

TEST(SqlSplitter, HandlerWithBareIfBody) {
  // The IF after the handler's conditions is not at a known statement start,
  // so only its END IF is seen; that must not close the procedure's BEGIN.
  const std::string procedure =
      "CREATE PROCEDURE p() BEGIN\n"
      "  DECLARE done INT DEFAULT 0;\n"
      "  DECLARE CONTINUE HANDLER FOR NOT FOUND IF done = 0 THEN SET done = 1; END IF;\n"
      "  SELECT done;\n"
      "END";
  EXPECT_THAT(texts(procedure + ";\nSELECT 1"), ElementsAre(procedure, "SELECT 1"));
}

TEST(SqlSplitter, SingleStatementTriggerEndsAtItsSemicolon) {
  EXPECT_THAT(texts("CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = 1;\n"
                    "INSERT INTO x VALUES (1);"),
              ElementsAre("CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = 1",
                          "INSERT INTO x VALUES (1)"));
  EXPECT_THAT(texts("CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = IF(NEW.b, 1, "
                    "2);\nSELECT 1;"),
              ElementsAre("CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = IF(NEW.b, "
                          "1, 2)",
                          "SELECT 1"));
  // REPEAT() the function and the DO statement open no block.
  EXPECT_THAT(
      texts("CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.s = REPEAT('a', 3);\n"
            "CREATE TRIGGER u BEFORE INSERT ON y FOR EACH ROW DO IF(NEW.a, 1, 2);\n"
            "SELECT 1;"),
      ElementsAre("CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.s = REPEAT('a', 3)",
                  "CREATE TRIGGER u BEFORE INSERT ON y FOR EACH ROW DO IF(NEW.a, 1, 2)",
                  "SELECT 1"));
}

TEST(SqlSplitter, TriggerOrderClause) {
  const std::string trigger =
      "CREATE TRIGGER t2 BEFORE INSERT ON x FOR EACH ROW FOLLOWS `t1`\n"
      "  IF NEW.a THEN SET NEW.b = 1; END IF";
  EXPECT_THAT(texts(trigger + ";\nSELECT 1"), ElementsAre(trigger, "SELECT 1"));
}

TEST(SqlSplitter, DefinerOrReplaceAndAggregate) {
  const std::vector<std::string> heads = {
      "CREATE DEFINER = `admin`@`localhost` TRIGGER",
      "CREATE DEFINER='admin'@'%' TRIGGER",
      "CREATE DEFINER=admin@db.example.org TRIGGER",
      "CREATE DEFINER = CURRENT_USER() TRIGGER",
      "CREATE DEFINER = CURRENT_USER TRIGGER",
      "CREATE OR REPLACE DEFINER = event@localhost TRIGGER",
      "create or replace trigger",
      "CREATE /*!50017 DEFINER=`root`@`%` */ TRIGGER",
  };
  for (const std::string& head : heads) {
    const std::string trigger =
        head + " t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; SET NEW.b = 2; END";
    EXPECT_THAT(texts(trigger + ";\nSELECT 1"), ElementsAre(trigger, "SELECT 1")) << head;
  }
  const std::string aggregate =
      "CREATE OR REPLACE DEFINER=CURRENT_USER AGGREGATE FUNCTION agg(x INT) RETURNS INT\n"
      "BEGIN DECLARE s INT DEFAULT 0; LOOP FETCH GROUP NEXT ROW; SET s = s + x; END LOOP; END";
  EXPECT_THAT(texts(aggregate + ";\nSELECT 1"), ElementsAre(aggregate, "SELECT 1"));
}

TEST(SqlSplitter, CreateEvent) {
  const std::string event =
      "CREATE EVENT IF NOT EXISTS purge ON SCHEDULE EVERY 1 DAY COMMENT 'x;y'\n"
      "DO BEGIN DELETE FROM a; DELETE FROM b; END";
  const std::string single = "CREATE EVENT e2 ON SCHEDULE EVERY 1 HOUR DO DELETE FROM c";
  const std::string alter = "ALTER EVENT purge DO BEGIN DELETE FROM a; END";
  EXPECT_THAT(texts(event + ";\n" + single + ";\n" + alter + ";\nSELECT 1"),
              ElementsAre(event, single, alter, "SELECT 1"));
}

TEST(SqlSplitter, OtherCreateStatementsAreNotCompound) {
  // `event` and `trigger` as names must not turn these into stored programs.
  EXPECT_THAT(texts("CREATE TABLE event (event VARCHAR(10), begin_at INT);\n"
                    "CREATE OR REPLACE DEFINER=a@b SQL SECURITY INVOKER VIEW v AS SELECT event "
                    "FROM event;\nCREATE INDEX trigger_idx ON t (a);"),
              ElementsAre("CREATE TABLE event (event VARCHAR(10), begin_at INT)",
                          "CREATE OR REPLACE DEFINER=a@b SQL SECURITY INVOKER VIEW v AS SELECT "
                          "event FROM event",
                          "CREATE INDEX trigger_idx ON t (a)"));
  EXPECT_THAT(texts("CREATE FUNCTION udf RETURNS STRING SONAME 'udf.so'; SELECT 1"),
              ElementsAre("CREATE FUNCTION udf RETURNS STRING SONAME 'udf.so'", "SELECT 1"));
}

TEST(SqlSplitter, BeginNotAtomicAndLabelledBlock) {
  const std::string anonymous =
      "BEGIN NOT ATOMIC\n"
      "  DECLARE x INT DEFAULT 1;\n"
      "  IF x THEN SELECT 'one;'; END IF;\n"
      "END";
  const std::string labelled = "outer_block: BEGIN SELECT 1; SELECT 2; END outer_block";
  EXPECT_THAT(texts(anonymous + ";\n" + labelled + ";\nSELECT 3"),
              ElementsAre(anonymous, labelled, "SELECT 3"));
  EXPECT_THAT(lines(anonymous + ";\n" + labelled + ";\nSELECT 3"), ElementsAre(1, 5, 6));
}

TEST(SqlSplitter, TopLevelMariaDbCompoundStatements) {
  const std::string if_statement = "IF @a THEN SELECT 1; SELECT 2; END IF";
  const std::string for_loop = "FOR i IN 1..3 DO SELECT i; END FOR";
  EXPECT_THAT(texts(if_statement + ";\n" + for_loop + ";\nSELECT 3"),
              ElementsAre(if_statement, for_loop, "SELECT 3"));
}

TEST(SqlSplitter, TransactionStatementsAtTopLevelAreOrdinary) {
  EXPECT_THAT(texts("BEGIN; INSERT INTO t VALUES (1); COMMIT;\n"
                    "BEGIN WORK; SELECT 1; START TRANSACTION; SELECT 2; END"),
              ElementsAre("BEGIN", "INSERT INTO t VALUES (1)", "COMMIT", "BEGIN WORK", "SELECT 1",
                          "START TRANSACTION", "SELECT 2", "END"));
}

TEST(SqlSplitter, KeywordsInsideIdentifiersAreNotKeywords) {
  const std::string trigger =
      "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN\n"
      "  SET NEW.begin_at = NEW.weekend;\n"
      "  SET NEW.`end` = 'begin';\n"
      "  SET NEW.`case` = \"case\";\n"
      "  SET NEW.loop_count = 1; SET NEW.end = 2; SET @begin = 3;\n"
      "  SET NEW.ifnull_x = IFNULL(NEW.a, 0); -- begin\n"
      "  /* CASE */ SET NEW.endif = 4; # IF\n"
      "  SET NEW.m = (SELECT MAX(end) FROM spans);\n"
      "END";
  EXPECT_THAT(texts(trigger + ";\nSELECT 1"), ElementsAre(trigger, "SELECT 1"));
}

TEST(SqlSplitter, KeywordsAreCaseInsensitive) {
  const std::string trigger =
      "create trigger t before insert on x for each row begin\n"
      "  if new.a then set new.b = 1; end if;\n"
      "  Case When new.c Then set new.d = 1; Else set new.d = 2; End Case;\n"
      "eNd";
  EXPECT_THAT(texts(trigger + ";\nselect 1"), ElementsAre(trigger, "select 1"));
}

TEST(SqlSplitter, StrayParenthesisDoesNotSwallowTheRestOfTheBody) {
  const std::string procedure = "CREATE PROCEDURE p() BEGIN SELECT (1; SELECT 2; END";
  EXPECT_THAT(texts(procedure + ";\nSELECT 3;"), ElementsAre(procedure, "SELECT 3"));
}

TEST(SqlSplitter, UnclosedBlockIsAnError) {
  std::string message;
  EXPECT_EQ(error_line("SELECT 1;\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nSELECT 2;", &message),
            3);
  EXPECT_THAT(message, HasSubstr("BEGIN opened on line 3"));
}

// --- DELIMITER ----------------------------------------------------------------

TEST(SqlSplitter, DelimiterDollars) {
  EXPECT_THAT(texts("DELIMITER $$\n"
                    "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END$$\n"
                    "SELECT '$$'; SELECT 3 $$\n"
                    "DELIMITER ;\n"
                    "SELECT 4; SELECT 5;"),
              ElementsAre("CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END",
                          "SELECT '$$'; SELECT 3", "SELECT 4", "SELECT 5"));
}

TEST(SqlSplitter, DelimiterSlashesLowercase) {
  EXPECT_THAT(texts("delimiter //\n"
                    "SELECT 1; /* c; */ SELECT 2 //\n"
                    "SELECT 3//\n"
                    "Delimiter ;\n"
                    "SELECT 4;"),
              ElementsAre("SELECT 1; /* c; */ SELECT 2", "SELECT 3", "SELECT 4"));
}

TEST(SqlSplitter, DelimiterLinesGiveCorrectLineNumbers) {
  EXPECT_THAT(lines("SELECT 1;\n"
                    "DELIMITER $$\n"
                    "\n"
                    "SELECT 2$$\n"
                    "DELIMITER ;\n"
                    "SELECT 3;"),
              ElementsAre(1, 4, 6));
}

TEST(SqlSplitter, DelimiterAfterCommentsAndOnTheSameLineAsAStatement) {
  EXPECT_THAT(texts("-- switch\n/* now */ DELIMITER ;; -- rest ignored\nSELECT 1;;\n"
                    "SELECT 2;; DELIMITER ;\nSELECT 3;"),
              ElementsAre("SELECT 1", "SELECT 2", "SELECT 3"));
}

TEST(SqlSplitter, DelimiterWithoutArgumentIsAnError) {
  std::string message;
  EXPECT_EQ(error_line("SELECT 1;\nDELIMITER\nSELECT 2;", &message), 2);
  EXPECT_THAT(message, HasSubstr("DELIMITER"));
  EXPECT_EQ(error_line("SELECT 1;\n\nDELIMITER   \r\n"), 3);
  EXPECT_EQ(error_line("DELIMITER"), 1);
}

TEST(SqlSplitter, DelimiterWithBackslashIsAnError) {
  EXPECT_EQ(error_line("SELECT 1;\nDELIMITER \\\\\n"), 2);
}

TEST(SqlSplitter, QuotedDelimiterArgument) {
  EXPECT_THAT(texts("DELIMITER '$$'\nSELECT 1; SELECT 2$$DELIMITER ;\nSELECT 3;"),
              ElementsAre("SELECT 1; SELECT 2", "SELECT 3"));
}

TEST(SqlSplitter, DelimiterOnlyAtStatementStart) {
  // Inside a statement the word is data: a column called delimiter.
  EXPECT_THAT(
      texts("CREATE TABLE f (id INT,\ndelimiter CHAR(1));\nSELECT delimiter FROM f;"),
      ElementsAre("CREATE TABLE f (id INT,\ndelimiter CHAR(1))", "SELECT delimiter FROM f"));
  EXPECT_THAT(texts("DELIMITERS;\nSELECT 1;"), ElementsAre("DELIMITERS", "SELECT 1"));
}

TEST(SqlSplitter, DelimiterNotMatchedInsideQuotesOrComments) {
  EXPECT_THAT(texts("DELIMITER //\nSELECT '//', \"//\", `//` -- //\n# //\n/* // */ //\n"),
              ElementsAre("SELECT '//', \"//\", `//` -- //\n# //\n/* // */"));
}

TEST(SqlSplitter, WordDelimiterEndsStatementMidWord) {
  EXPECT_THAT(texts("DELIMITER $$\nSELECT a$$SELECT b$$"), ElementsAre("SELECT a", "SELECT b"));
}

TEST(SqlSplitter, MysqldumpStyleTrigger) {
  const std::string body =
      "/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`%`*/ /*!50003 TRIGGER t BEFORE INSERT ON x "
      "FOR EACH ROW BEGIN SET NEW.a = 1; SET NEW.b = 'x;'; END */";
  EXPECT_THAT(texts("DELIMITER ;;\n" + body + ";;\nDELIMITER ;\nSELECT 1;"),
              ElementsAre(body, "SELECT 1"));
  EXPECT_THAT(texts(body + ";\nSELECT 1;"), ElementsAre(body, "SELECT 1"));
}

TEST(SqlSplitter, DelimiterSwitchingBackRestoresBlockTracking) {
  EXPECT_THAT(texts("DELIMITER $$\nSELECT 1$$\nDELIMITER ;\n"
                    "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END;\n"
                    "SELECT 2;"),
              ElementsAre("SELECT 1",
                          "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; "
                          "END",
                          "SELECT 2"));
}

// --- line endings and bytes ---------------------------------------------------

TEST(SqlSplitter, CrlfLineEndings) {
  const std::string script =
      "-- c\r\nSELECT 1;\r\n\r\nDELIMITER $$\r\nCREATE PROCEDURE p() BEGIN\r\n  SELECT 2;\r\n"
      "END$$\r\nDELIMITER ;\r\nSELECT 3 -- x\r\n;\r\n";
  const std::vector<SqlStatement> statements = split_sql(script);
  ASSERT_EQ(statements.size(), 3U);
  EXPECT_EQ(statements[0].text, "SELECT 1");
  // As the mysql client sends it: it drops the '\r' of every line ending.
  EXPECT_EQ(statements[1].text, "CREATE PROCEDURE p() BEGIN\n  SELECT 2;\nEND");
  EXPECT_EQ(statements[2].text, "SELECT 3 -- x");
  EXPECT_EQ(statements[0].line, 2);
  EXPECT_EQ(statements[1].line, 5);
  EXPECT_EQ(statements[2].line, 9);
}

TEST(SqlSplitter, NonAsciiPassesThrough) {
  const std::string script =
      "INSERT INTO t VALUES ('Küche; 温度', \"€\"); -- Grüße;\nSELECT `größe` FROM t;";
  EXPECT_THAT(texts(script),
              ElementsAre("INSERT INTO t VALUES ('Küche; 温度', \"€\")", "SELECT `größe` FROM t"));
  // A non-ASCII byte is part of the word, so BEGINé is no keyword.
  EXPECT_THAT(texts("CREATE PROCEDURE p() SELECT BEGINé; SELECT 2"),
              ElementsAre("CREATE PROCEDURE p() SELECT BEGINé", "SELECT 2"));
}

TEST(SqlSplitter, ManyStatementsAndLongBodies) {
  std::string script;
  for (int i = 0; i < 50000; ++i) {
    script += "INSERT INTO t VALUES (" + std::to_string(i) + ", 'a;b');\n";
  }
  script += "CREATE PROCEDURE p() BEGIN\n";
  for (int i = 0; i < 50000; ++i) {
    script += "  IF x THEN SET y = 1; END IF;\n";
  }
  script += "END;\n";
  const std::vector<SqlStatement> statements = split_sql(script);
  ASSERT_EQ(statements.size(), 50001U);
  EXPECT_EQ(statements[49999].text, "INSERT INTO t VALUES (49999, 'a;b')");
  EXPECT_EQ(statements[50000].line, 50001);
  EXPECT_EQ(statements[50000].text.size(), 27U + 50000U * 31U + 3U);
}

// --- unterminated -------------------------------------------------------------

TEST(SqlSplitter, UnterminatedSingleQuote) {
  std::string message;
  EXPECT_EQ(error_line("SELECT 1;\nSELECT 'abc;\n\nSELECT 2;", &message), 2);
  EXPECT_THAT(message, HasSubstr("unterminated string"));
  EXPECT_THAT(message, HasSubstr("line 2"));
}

TEST(SqlSplitter, UnterminatedStringWithDoubledQuoteReportsItsOpening) {
  // '' inside a string does not close it, so the string from line 1 is the one left open.
  EXPECT_EQ(error_line("SELECT 'a\n''\n"), 1);
  EXPECT_EQ(error_line("SELECT `a\n``\n"), 1);
}

TEST(SqlSplitter, UnterminatedDoubleQuote) {
  std::string message;
  EXPECT_EQ(error_line("\n\nSELECT \"abc\\\";", &message), 3);
  EXPECT_THAT(message, HasSubstr("unterminated string"));
}

TEST(SqlSplitter, UnterminatedBacktick) {
  std::string message;
  EXPECT_EQ(error_line("SELECT 1;\r\nSELECT `a``;", &message), 2);
  EXPECT_THAT(message, HasSubstr("unterminated quoted identifier"));
}

TEST(SqlSplitter, UnterminatedBlockComment) {
  std::string message;
  EXPECT_EQ(error_line("SELECT 1;\n\n\n/* never closed;\nSELECT 2;", &message), 4);
  EXPECT_THAT(message, HasSubstr("unterminated comment"));
  EXPECT_THAT(message, HasSubstr("line 4"));
  EXPECT_EQ(error_line("SELECT 1 /*/"), 1);
}

TEST(SqlSplitter, UnterminatedExecutableComment) {
  std::string message;
  EXPECT_EQ(error_line("SELECT 1;\n/*!40101 SET NAMES utf8mb4;", &message), 2);
  EXPECT_THAT(message, HasSubstr("/*!"));
  EXPECT_EQ(error_line("SELECT 1;\n/*M!100100 SET x = 1 */ /*M! x"), 2);
}

TEST(SqlSplitter, UnterminatedQuoteInsideExecutableComment) {
  EXPECT_EQ(error_line("/*!40101\nSET x = ' */;"), 2);
}

TEST(SqlSplitter, QuoteInsideCommentIsNotUnterminated) {
  EXPECT_EQ(error_line("-- don't\n# won't\n/* can't */ SELECT 1;"), 0);
}

TEST(SqlSplitter, ErrorCarriesLineThroughException) {
  try {
    split_sql("\n'x");
    FAIL() << "expected SqlSyntaxError";
  } catch (const SqlSyntaxError& e) {
    EXPECT_EQ(e.line(), 2);
  }
}

}  // namespace
}  // namespace statesink::migrate

namespace statesink::migrate {
namespace {

std::string error_of(std::string_view script) {
  try {
    split_sql(script);
  } catch (const SqlSyntaxError& e) {
    return std::to_string(e.line()) + ": " + e.what();
  }
  return "(no error)";
}

TEST(SqlSplitterFiles, CrlfInsideBodiesAndStringsBecomesLf) {
  const std::string crlf =
      "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW\r\nBEGIN\r\n"
      "  SET NEW.a = 'two\r\nlines';\r\nEND;\r\nSELECT 'lone\rcr';\r\n";
  std::string lf = crlf;
  for (std::size_t at = lf.find("\r\n"); at != std::string::npos; at = lf.find("\r\n", at)) {
    lf.erase(at, 1);
  }
  const std::vector<SqlStatement> a = split_sql(crlf);
  const std::vector<SqlStatement> b = split_sql(lf);
  ASSERT_EQ(a.size(), 2U);
  ASSERT_EQ(b.size(), 2U);
  EXPECT_EQ(a[0].text, b[0].text);
  EXPECT_THAT(a[0].text, HasSubstr("'two\nlines'"));
  EXPECT_EQ(a[1].text, "SELECT 'lone\rcr'");  // the client keeps a '\r' not before '\n'
  EXPECT_EQ(a[1].line, 6);
}

TEST(SqlSplitterFiles, ByteOrderMarkIsSkipped) {
  const std::vector<SqlStatement> statements = split_sql("\xEF\xBB\xBFSELECT 1;\nSELECT 2;\n");
  ASSERT_EQ(statements.size(), 2U);
  EXPECT_EQ(statements[0].text, "SELECT 1");
  EXPECT_EQ(statements[0].line, 1);
  EXPECT_EQ(statements[1].line, 2);
  // Only at the very start: elsewhere the bytes are data.
  EXPECT_EQ(split_sql("SELECT '\xEF\xBB\xBF';")[0].text, "SELECT '\xEF\xBB\xBF'");
}

TEST(SqlSplitterFiles, LongDelimiterIsRefusedLikeTheClientsLimit) {
  const std::string huge(1 << 20, 'x');
  const std::string error = error_of("DELIMITER " + huge + "\n" + huge + "SELECT 1" + huge);
  EXPECT_THAT(error, HasSubstr("at most 15 characters"));
  EXPECT_EQ(error.substr(0, 2), "1:");
  const std::string fifteen = "abcdefghijklmn$";
  EXPECT_THAT(
      texts("DELIMITER " + fifteen + "\nSELECT 1; SELECT 2" + fifteen + "\nSELECT 3" + fifteen),
      ElementsAre("SELECT 1; SELECT 2", "SELECT 3"));
}

TEST(SqlSplitterFiles, LargeInputWithAWordyDelimiterSplits) {
  std::string script = "DELIMITER GO\n";
  for (int i = 0; i < 50000; ++i) {
    script += "SELECT 'g;o' AS gox GO\n";
  }
  const std::vector<SqlStatement> statements = split_sql(script);
  ASSERT_EQ(statements.size(), 50000U);
  EXPECT_EQ(statements.back().text, "SELECT 'g;o' AS gox");
}

TEST(SqlSplitterFiles, UnquotedEndColumnInABodyIsRefusedWithWordAndLine) {
  const std::string script =
      "CREATE TABLE spans (id INT, `begin` INT, `end` INT);\n"  // 1
      "CREATE PROCEDURE widest()\n"                             // 2
      "BEGIN\n"                                                 // 3
      "  SELECT id, end - `begin` AS width\n"                   // 4
      "  FROM spans ORDER BY width DESC LIMIT 1;\n"             // 5
      "END;\n";
  const std::string error = error_of(script);
  EXPECT_EQ(error.substr(0, 2), "4:") << error;
  EXPECT_THAT(error, HasSubstr("word end on line 4"));
  EXPECT_THAT(error, HasSubstr("BEGIN on line 3"));
  EXPECT_THAT(error, HasSubstr("`end`"));
  EXPECT_THAT(error, HasSubstr("DELIMITER"));
}

TEST(SqlSplitterFiles, EndAfterAnOperatorIsAColumnToo) {
  const std::string error =
      error_of("CREATE PROCEDURE p()\nBEGIN\n  UPDATE spans SET width =\n    end - 1;\nEND;\n");
  EXPECT_EQ(error.substr(0, 2), "4:") << error;
  EXPECT_THAT(error, HasSubstr("word end on line 4"));
}

TEST(SqlSplitterFiles, UnquotedBeginColumnInABodyIsRefused) {
  const std::string error = error_of(
      "CREATE TRIGGER t BEFORE INSERT ON spans FOR EACH ROW\nBEGIN\n"
      "  SELECT MAX(id) INTO @m FROM spans WHERE\n  begin > 0;\nEND;\n");
  EXPECT_THAT(error, HasSubstr("word begin on line 4"));
  EXPECT_THAT(error, HasSubstr("`begin`"));
}

TEST(SqlSplitterFiles, QuotedOrQualifiedOrDelimitedNamesStillSplit) {
  EXPECT_THAT(texts("CREATE PROCEDURE p()\nBEGIN\n  SELECT `end`, s.begin FROM spans s;\nEND;\n"
                    "SELECT 1;"),
              ElementsAre("CREATE PROCEDURE p()\nBEGIN\n  SELECT `end`, s.begin FROM spans s;\nEND",
                          "SELECT 1"));
  EXPECT_THAT(
      texts("DELIMITER $$\nCREATE PROCEDURE p()\nBEGIN\n  SELECT end FROM spans;\nEND$$\n"
            "DELIMITER ;\nSELECT 1;"),
      ElementsAre("CREATE PROCEDURE p()\nBEGIN\n  SELECT end FROM spans;\nEND", "SELECT 1"));
  // Handlers, labels and CASE expressions keep working.
  EXPECT_THAT(texts("CREATE PROCEDURE p()\nBEGIN\n"
                    "  DECLARE CONTINUE HANDLER FOR SQLSTATE '23000' BEGIN SET @e = 1; END;\n"
                    "  l: BEGIN SET @x = CASE WHEN @e THEN 1 ELSE 2 END; END l;\nEND;\nSELECT 2;"),
              ElementsAre(HasSubstr("END l;\nEND"), "SELECT 2"));
}

TEST(SqlSplitterFiles, RunawayQuoteIsReportedWhereThePairingBreaks) {
  const std::string script =
      "INSERT INTO notes VALUES\n"  // 1
      "  (1, 'fine'),\n"            // 2
      "  (2, 'it's broken'),\n"     // 3
      "  (3, 'also fine'),\n"       // 4
      "  (4, 'last');\n"            // 5
      "SELECT 1;\n";                // 6
  const std::string error = error_of(script);
  EXPECT_EQ(error.substr(0, 2), "3:") << error;
  EXPECT_THAT(error, HasSubstr("stop pairing up on line 3"));
  EXPECT_THAT(error, HasSubstr("opened on line 5"));
  // A quote that is simply never closed is reported where it opens.
  EXPECT_EQ(error_of("SELECT 1;\n-- don't\nSELECT 'x\n\n").substr(0, 2), "3:");
}

}  // namespace
}  // namespace statesink::migrate
