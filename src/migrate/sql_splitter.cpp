#include "migrate/sql_splitter.h"

#include <algorithm>
#include <cstddef>

#include "migrate/sql_splitter_blocks.h"

namespace statesink::migrate {

SqlSyntaxError::SqlSyntaxError(const std::string& what, int line)
    : std::runtime_error(what), line_(line) {}

namespace {

using detail::BlockTracker;
using detail::Token;
using detail::TokenKind;

bool is_word_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' ||
         u == '$' || u >= 0x80;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// The mysql client keeps the delimiter in a 16-byte buffer. The bound also
// keeps testing for the delimiter at every byte linear in the file's size.
constexpr std::size_t kMaxDelimiter = 15;

class Splitter {
 public:
  explicit Splitter(std::string_view script) : s_(script) {}

  std::vector<SqlStatement> run();

 private:
  static constexpr std::size_t kNone = std::string_view::npos;

  bool in_statement() const { return statement_begin_ != kNone; }
  bool delimiter_at(std::size_t i) const {
    return s_.compare(i, delimiter_.size(), delimiter_) == 0;
  }
  void move_to(std::size_t end);
  int line_at(std::size_t i) const;
  bool line_comment_at(std::size_t i) const;
  bool delimiter_command();
  std::size_t quoted_end(std::size_t open) const;
  int unpaired_quote_line(std::size_t from, std::size_t open, char quote) const;
  std::size_t executable_comment_end(std::size_t open, std::size_t body) const;
  std::size_t word_end(std::size_t begin) const;
  void token(TokenKind kind, std::size_t end);
  void end_statement(std::size_t end);

  std::string_view s_;
  std::size_t pos_ = 0;
  int line_ = 1;
  std::string delimiter_ = ";";
  bool blocks_ = true;  // ';' is the delimiter, so compound bodies need tracking
  std::size_t statement_begin_ = kNone;
  int statement_line_ = 0;
  BlockTracker tracker_;
  std::vector<SqlStatement> statements_;
};

// Every byte passes through here or through a branch that knows it holds no
// newline, which keeps line numbers right and the whole scan linear.
void Splitter::move_to(std::size_t end) {
  line_ += static_cast<int>(std::count(s_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                       s_.begin() + static_cast<std::ptrdiff_t>(end), '\n'));
  pos_ = end;
}

// Only for error messages, so the extra count does not matter.
int Splitter::line_at(std::size_t i) const {
  const auto at = [this](std::size_t p) { return s_.begin() + static_cast<std::ptrdiff_t>(p); };
  if (i < pos_) {
    return line_ - static_cast<int>(std::count(at(i), at(pos_), '\n'));
  }
  return line_ + static_cast<int>(std::count(at(pos_), at(i), '\n'));
}

// The server wants white space or a control character after "--": "1--1" is
// one minus minus one.
bool Splitter::line_comment_at(std::size_t i) const {
  if (s_[i] == '#') {
    return true;
  }
  if (s_[i] != '-' || i + 1 >= s_.size() || s_[i + 1] != '-') {
    return false;
  }
  if (i + 2 == s_.size()) {
    return true;
  }
  const auto next = static_cast<unsigned char>(s_[i + 2]);
  return next <= 0x20 || next == 0x7f;
}

// "DELIMITER xx" at the start of a statement: the mysql client takes the rest
// of the line as its argument and never sends the line to the server.
bool Splitter::delimiter_command() {
  constexpr std::string_view kCommand = "DELIMITER";
  if (s_.size() - pos_ < kCommand.size() ||
      !detail::equals_ignore_case(s_.substr(pos_, kCommand.size()), kCommand)) {
    return false;
  }
  std::size_t i = pos_ + kCommand.size();
  if (i < s_.size() && is_word_byte(s_[i])) {
    return false;  // DELIMITERS, delimiter_char: ordinary words
  }
  std::size_t eol = s_.find('\n', i);
  if (eol == kNone) {
    eol = s_.size();
  }
  while (i < eol && is_space(s_[i])) {
    ++i;
  }
  std::size_t end = i;
  std::size_t begin = i;
  if (i < eol && (s_[i] == '\'' || s_[i] == '"' || s_[i] == '`')) {
    // The client strips quotes around the argument: DELIMITER '$$' is $$.
    begin = i + 1;
    end = s_.find(s_[i], begin);
    if (end == kNone || end > eol) {
      end = begin;
      while (end < eol && !is_space(s_[end])) {
        ++end;
      }
    }
  } else {
    while (end < eol && !is_space(s_[end])) {
      ++end;
    }
  }
  const std::string_view argument = s_.substr(begin, end - begin);
  if (argument.empty()) {
    throw SqlSyntaxError("DELIMITER needs the new delimiter after it, e.g. DELIMITER $$", line_);
  }
  if (argument.size() > kMaxDelimiter) {
    throw SqlSyntaxError("a DELIMITER is at most " + std::to_string(kMaxDelimiter) +
                             " characters long, as in the mysql client; choose a shorter one "
                             "such as $$",
                         line_);
  }
  if (argument.find('\\') != std::string_view::npos) {
    throw SqlSyntaxError("a DELIMITER cannot contain a backslash, as in the mysql client", line_);
  }
  delimiter_ = argument;
  blocks_ = delimiter_ == ";";
  move_to(eol);
  return true;
}

// Returns the position just past the closing quote. Backslash escapes hold in
// '...' and "..." (the server default, without NO_BACKSLASH_ESCAPES); a doubled
// quote escapes itself in all three.
std::size_t Splitter::quoted_end(std::size_t open) const {
  const char quote = s_[open];
  std::size_t i = open + 1;
  while (i < s_.size()) {
    const char c = s_[i];
    if (c == '\\' && quote != '`') {
      i += 2;
    } else if (c == quote) {
      if (i + 1 < s_.size() && s_[i + 1] == quote) {
        i += 2;
      } else {
        return i + 1;
      }
    } else {
      ++i;
    }
  }
  const std::string what = quote == '`' ? "quoted identifier" : "string";
  const int opened = line_at(open);
  const int likely = unpaired_quote_line(in_statement() ? statement_begin_ : open, open, quote);
  if (likely == opened) {
    throw SqlSyntaxError("unterminated " + what + ": the " + quote + " opened on line " +
                             std::to_string(opened) + " is never closed",
                         opened);
  }
  throw SqlSyntaxError("unterminated " + what + ": the " + quote + " opened on line " +
                           std::to_string(opened) + " is never closed, and the " + quote +
                           " quotes stop pairing up on line " + std::to_string(likely) +
                           ": a quote there is probably missing, or one inside a value needs "
                           "doubling (" +
                           quote + "it" + quote + quote + "s" + quote + ")",
                       likely);
}

// A quote that runs away usually began as a stray or undoubled quote on an
// earlier line, which then paired with the opening quote of a later value; the
// lexer only notices at the last one. The first line from the statement's
// start with an odd number of such quotes is the likely culprit. Comments are
// skipped the simple way (an apostrophe in "-- don't" would mislead).
int Splitter::unpaired_quote_line(std::size_t from, std::size_t open, char quote) const {
  int line = line_at(from);
  int count = 0;
  bool comment = false;
  for (std::size_t i = from; i <= open; ++i) {
    const char c = s_[i];
    if (c == '\n') {
      if (count % 2 == 1) {
        return line;
      }
      ++line;
      count = 0;
      comment = false;
    } else if (comment) {
      continue;
    } else if (c == '\\' && quote != '`' && i + 1 < open) {
      ++i;
    } else if (c == quote) {
      ++count;
    } else if (c == '#' || (c == '-' && line_comment_at(i))) {
      comment = true;
    }
  }
  return line;
}

// The server parses the inside of /*! ... */ as SQL, so a quoted "*/" does not
// close it.
std::size_t Splitter::executable_comment_end(std::size_t open, std::size_t body) const {
  std::size_t i = body;
  while (i < s_.size()) {
    const char c = s_[i];
    if (c == '*' && i + 1 < s_.size() && s_[i + 1] == '/') {
      return i + 2;
    }
    if (c == '\'' || c == '"' || c == '`') {
      i = quoted_end(i);
    } else {
      ++i;
    }
  }
  const std::string opener(s_.substr(open, body - open));
  throw SqlSyntaxError("unterminated executable comment: the " + opener + " opened on line " +
                           std::to_string(line_at(open)) + " is never closed",
                       line_at(open));
}

// A delimiter such as $$ or GO made of word characters still ends the
// statement in the middle of a word, as in the mysql client.
std::size_t Splitter::word_end(std::size_t begin) const {
  const bool delimiter_is_wordy = is_word_byte(delimiter_.front());
  std::size_t i = begin + 1;
  while (i < s_.size() && is_word_byte(s_[i]) && !(delimiter_is_wordy && delimiter_at(i))) {
    ++i;
  }
  return i;
}

void Splitter::token(TokenKind kind, std::size_t end) {
  if (!in_statement()) {
    statement_begin_ = pos_;
    statement_line_ = line_;
  }
  if (blocks_) {
    tracker_.feed(Token{kind, s_.substr(pos_, end - pos_), line_});
  }
  move_to(end);
}

void Splitter::end_statement(std::size_t end) {
  if (!in_statement()) {
    return;
  }
  std::size_t last = end;
  while (last > statement_begin_ && is_space(s_[last - 1])) {
    --last;
  }
  statements_.push_back(SqlStatement{
      std::string(s_.substr(statement_begin_, last - statement_begin_)), statement_line_});
  statement_begin_ = kNone;
  tracker_.reset();
}

std::vector<SqlStatement> Splitter::run() {
  while (pos_ < s_.size()) {
    const char c = s_[pos_];
    if (!in_statement() && (c == 'd' || c == 'D') && delimiter_command()) {
      continue;
    }
    // The delimiter comes before comment starts, as in the mysql client, so
    // DELIMITER // works.
    if (delimiter_at(pos_)) {
      if (!blocks_ || tracker_.semicolon_ends_statement()) {
        end_statement(pos_);
      }
      pos_ += delimiter_.size();  // no newline in it
      continue;
    }
    if (is_space(c)) {
      if (c == '\n') {
        ++line_;
      }
      ++pos_;
      continue;
    }
    if (line_comment_at(pos_)) {
      const std::size_t eol = s_.find('\n', pos_);
      pos_ = eol == kNone ? s_.size() : eol;
      continue;
    }
    if (c == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '*') {
      const std::string_view rest = s_.substr(pos_);
      const std::size_t body = rest.starts_with("/*!")    ? pos_ + 3
                               : rest.starts_with("/*M!") ? pos_ + 4
                                                          : kNone;
      if (body != kNone) {
        token(TokenKind::kExecutableComment, executable_comment_end(pos_, body));
        continue;
      }
      const std::size_t close = s_.find("*/", pos_ + 2);
      if (close == kNone) {
        throw SqlSyntaxError("unterminated comment: the /* opened on line " +
                                 std::to_string(line_) + " is never closed",
                             line_);
      }
      move_to(close + 2);
      continue;
    }
    if (c == '\'' || c == '"' || c == '`') {
      token(TokenKind::kQuoted, quoted_end(pos_));
    } else if (is_word_byte(c)) {
      token(TokenKind::kWord, word_end(pos_));
    } else {
      const bool assignment = c == ':' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '=';
      token(TokenKind::kPunct, pos_ + (assignment ? 2 : 1));
    }
  }
  if (in_statement() && blocks_) {
    tracker_.check_closed();
  }
  end_statement(s_.size());
  return std::move(statements_);
}

}  // namespace

std::vector<SqlStatement> split_sql(std::string_view script) {
  // The mysql client skips a UTF-8 byte order mark at the start of its input.
  if (script.starts_with("\xEF\xBB\xBF")) {
    script.remove_prefix(3);
  }
  // The client reads its input line by line, drops the '\r' before each '\n'
  // and joins the lines with '\n' alone: a file saved with CRLF line endings
  // gives the same routine bodies and multi-line strings as one with LF.
  if (script.find("\r\n") == std::string_view::npos) {
    return Splitter(script).run();
  }
  std::string lf;
  lf.reserve(script.size());
  for (std::size_t i = 0; i < script.size(); ++i) {
    if (!(script[i] == '\r' && i + 1 < script.size() && script[i + 1] == '\n')) {
      lf += script[i];
    }
  }
  return Splitter(lf).run();
}

}  // namespace statesink::migrate
