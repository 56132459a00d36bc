#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace statesink::migrate {

// One statement of a migration file, ready to send to the server on its own.
struct SqlStatement {
  std::string text;  // without the terminating delimiter; leading comments and blank space removed
  int line = 0;      // 1-based line in the file where the statement starts
};

// The script cannot be split (an unterminated quote or comment, a bad DELIMITER line).
class SqlSyntaxError : public std::runtime_error {
 public:
  SqlSyntaxError(const std::string& what, int line);
  int line() const { return line_; }

 private:
  int line_;
};

// Splits a migration file into statements the way the mysql client would, so
// files written for it work unchanged, and without needing DELIMITER:
//  - ';' ends a statement, except inside quotes ('', "", ``), comments
//    (-- , #, /* */, /*! */) and inside the BEGIN ... END body of a CREATE TRIGGER,
//    PROCEDURE, FUNCTION or EVENT or of a MariaDB compound statement (BEGIN NOT
//    ATOMIC, label: BEGIN), nested IF/CASE/LOOP/WHILE/REPEAT/FOR blocks included;
//  - a "DELIMITER xx" line at the start of a statement switches the delimiter,
//    as in the mysql client;
//  - leading comments and surrounding white space are dropped from each
//    statement; executable comments (/*! */, /*M! */) are kept as code;
//  - statements holding only comments or white space are dropped;
//  - as in the client, a leading UTF-8 byte order mark is skipped and each
//    CRLF becomes LF, inside bodies and strings too.
// Throws SqlSyntaxError for an unterminated quote or comment, a DELIMITER line
// without a delimiter or with one over 15 characters, a block still open at
// the end of the file, and, without DELIMITER lines, an unquoted `end` or
// `begin` inside a body that would be taken for the end or start of a block.
std::vector<SqlStatement> split_sql(std::string_view script);

}  // namespace statesink::migrate
