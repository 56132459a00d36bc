#pragma once

// Internal to split_sql: decides whether a ';' ends the current statement when
// the statement is a stored program (trigger, procedure, function, event) or a
// MariaDB compound statement, whose body holds ';' of its own. Files for the
// mysql client wrap these in DELIMITER lines; this lets files without them work.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace statesink::migrate::detail {

enum class TokenKind {
  kWord,               // [A-Za-z0-9_$] and non-ASCII bytes
  kQuoted,             // '...', "..." or `...`, quotes included
  kPunct,              // one character, or ":="
  kExecutableComment,  // /*! ... */ or /*M! ... */
};

struct Token {
  TokenKind kind = TokenKind::kPunct;
  std::string_view text;
  int line = 0;
};

bool equals_ignore_case(std::string_view a, std::string_view b);

enum class Keyword : unsigned char;  // the words that steer BlockTracker; listed in the .cpp

// Fed the tokens of one statement (no white space, no plain comments, no ';').
class BlockTracker {
 public:
  void feed(const Token& token);

  // At a ';' outside quotes and comments. Returns false when it falls inside
  // an open BEGIN ... END (or IF, CASE, LOOP, ...) block of a compound body.
  bool semicolon_ends_statement();

  // At end of input for an unfinished statement: throws SqlSyntaxError when a
  // block is still open, because everything after it would otherwise be sent
  // to the server as part of that one statement.
  void check_closed();

  void reset() { *this = BlockTracker(); }

 private:
  enum class Phase { kUndecided, kPlain, kHeader, kBody };
  enum class Lead { kFirst, kLabel, kLabelColon, kBegin, kBeginNot, kCreate };
  enum class Routine { kTrigger, kRoutine, kEvent };
  enum class Prologue { kNone, kTrigger, kRoutine };
  enum class Block : unsigned char { kBegin, kCase, kIf, kLoop, kWhile, kRepeat, kFor, kCount };

  struct Open {
    Block block = Block::kBegin;
    int line = 0;
  };

  void lead(const Token& token, Keyword keyword);
  void header(const Token& token, Keyword keyword);
  void body(const Token& token, Keyword keyword);
  bool prologue_passes(const Token& token, Keyword keyword);
  void enter_body();
  void push(Block block, int line);
  void pop();
  void close(Block block);
  void close_bare_end();
  [[noreturn]] static void throw_misread_name(const Token& token, const std::string& taken_for);

  Phase phase_ = Phase::kUndecided;
  Lead lead_ = Lead::kFirst;
  Routine routine_ = Routine::kTrigger;
  Prologue prologue_ = Prologue::kNone;
  int first_line_ = 0;
  int paren_depth_ = 0;
  int each_row_ = 0;              // how much of FOR EACH ROW the trigger header has shown
  bool params_open_ = false;      // the routine's parameter list has started
  bool name_next_ = false;        // prologue: the next identifier is a name, not a keyword
  bool identifier_next_ = false;  // after '.' or '@' a word is a column or variable name
  bool definer_name_next_ = false;
  bool at_statement_start_ = false;
  bool pending_end_ = false;   // END seen; the next word may say END IF, END LOOP, ...
  Token end_token_;            // that END
  bool end_at_start_ = false;  // it stood where a statement starts
  bool handler_ = false;       // DECLARE ... HANDLER seen in this body statement
  std::vector<Open> open_;
  std::array<int, static_cast<std::size_t>(Block::kCount)> open_count_{};
};

}  // namespace statesink::migrate::detail
