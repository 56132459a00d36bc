#include "config/dotenv.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "util/error.h"

namespace statesink::config {
namespace {

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }

bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Docker compose nests ${A:-${B:-...}} a few levels at most; the limit keeps
// a hostile or broken file from exhausting the stack through recursion.
constexpr int kMaxNesting = 32;
// Settings are URLs, names and passwords. Expanding $A several times per line
// over several lines grows a value exponentially, so a few hundred bytes
// could otherwise ask for gigabytes.
constexpr std::size_t kMaxValueSize = 64 * 1024;

class Parser {
 public:
  Parser(std::string_view text, const Lookup& environment)
      : text_(text), environment_(environment) {}

  std::map<std::string, std::string> parse() {
    while (pos_ < text_.size()) {
      parse_line();
    }
    return values_;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    // Values are never quoted back: they may be passwords.
    throw UsageError(".env line " + std::to_string(line_) + ": " + what +
                     " (lines look like NAME=value, NAME=\"value\" or NAME='value')");
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool at_end() const { return pos_ >= text_.size(); }

  void skip_blanks() {
    while (!at_end() && is_blank(peek())) {
      ++pos_;
    }
  }

  void skip_rest_of_line() {
    while (!at_end() && peek() != '\n') {
      ++pos_;
    }
    if (!at_end()) {
      ++pos_;
      ++line_;
    }
  }

  // After a value only blanks and a comment may follow on the line.
  void finish_line() {
    skip_blanks();
    if (!at_end() && peek() != '\n' && peek() != '#') {
      fail("unexpected text after the closing quote");
    }
    skip_rest_of_line();
  }

  void parse_line() {
    skip_blanks();
    if (at_end() || peek() == '\n' || peek() == '#') {
      skip_rest_of_line();
      return;
    }
    std::string key = parse_key();
    if (key == "export" && is_blank(peek())) {
      skip_blanks();
      key = parse_key();
    }
    skip_blanks();
    if (peek() != '=') {
      fail("expected '=' after " + key);
    }
    ++pos_;
    skip_blanks();
    std::string value;
    if (peek() == '\'') {
      value = parse_single_quoted();
      finish_line();
    } else if (peek() == '"') {
      value = parse_double_quoted();
      finish_line();
    } else {
      value = parse_unquoted();
    }
    values_[key] = std::move(value);
  }

  std::string parse_key() {
    if (!is_name_start(peek())) {
      fail("a variable name must start with a letter or '_'");
    }
    std::size_t start = pos_;
    while (!at_end() && (is_name_char(peek()) || peek() == '.' || peek() == '-')) {
      ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  std::string parse_single_quoted() {
    std::size_t open_line = line_;
    ++pos_;
    std::string out;
    while (!at_end() && peek() != '\'') {
      if (peek() == '\n') {
        ++line_;
      }
      out += text_[pos_++];
    }
    if (at_end()) {
      line_ = open_line;
      fail("single quote not closed");
    }
    ++pos_;
    return out;
  }

  std::string parse_double_quoted() {
    std::size_t open_line = line_;
    ++pos_;
    std::string out;
    while (!at_end() && peek() != '"') {
      char c = text_[pos_];
      if (c == '\\' && pos_ + 1 < text_.size()) {
        char next = text_[pos_ + 1];
        pos_ += 2;
        switch (next) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case '\\':
            out += '\\';
            break;
          case '"':
            out += '"';
            break;
          case '$':
            out += '$';
            break;
          default:
            out += '\\';
            out += next;
        }
        continue;
      }
      if (c == '$') {
        append(out, expand());
        continue;
      }
      if (c == '\n') {
        ++line_;
      }
      out += c;
      ++pos_;
    }
    if (at_end()) {
      line_ = open_line;
      fail("double quote not closed");
    }
    ++pos_;
    return out;
  }

  std::string parse_unquoted() {
    std::string out;
    while (!at_end() && peek() != '\n') {
      char c = peek();
      // " #" starts a comment; a '#' inside a word (a password, a colour) does not.
      if (c == '#' && (out.empty() || is_blank(out.back()))) {
        break;
      }
      if (c == '$') {
        append(out, expand());
        continue;
      }
      out += c;
      ++pos_;
    }
    skip_rest_of_line();
    while (!out.empty() && is_blank(out.back())) {
      out.pop_back();
    }
    return out;
  }

  std::optional<std::string> lookup(const std::string& name) const {
    if (auto it = values_.find(name); it != values_.end()) {
      return it->second;
    }
    return environment_ ? environment_(name) : std::nullopt;
  }

  void append(std::string& out, const std::string& expansion) const {
    if (out.size() + expansion.size() > kMaxValueSize) {
      fail("a value grows beyond " + std::to_string(kMaxValueSize / 1024) +
           " KiB after expanding variables; expand each variable fewer times");
    }
    out += expansion;
  }

  // At a '$': $$, $NAME, ${NAME}, ${NAME:-default}, ${NAME-default},
  // ${NAME:?message}, ${NAME?message}.
  std::string expand() {
    ++pos_;
    if (peek() == '$') {
      ++pos_;
      return "$";
    }
    if (peek() != '{') {
      if (!is_name_start(peek())) {
        return "$";
      }
      std::size_t start = pos_;
      while (!at_end() && is_name_char(peek())) {
        ++pos_;
      }
      return lookup(std::string(text_.substr(start, pos_ - start))).value_or("");
    }
    if (depth_ == kMaxNesting) {
      fail("more than " + std::to_string(kMaxNesting) + " nested ${...}");
    }
    ++pos_;
    std::size_t start = pos_;
    while (!at_end() && is_name_char(peek())) {
      ++pos_;
    }
    std::string name(text_.substr(start, pos_ - start));
    if (name.empty() || !is_name_start(name.front())) {
      fail("'${' must be followed by a variable name");
    }
    bool colon = false;
    if (peek() == ':') {
      colon = true;
      ++pos_;
    }
    char op = peek();
    if (op == '}' && !colon) {
      ++pos_;
      return lookup(name).value_or("");
    }
    if (op == '\n' || at_end()) {
      fail("'${" + name + "' not closed");
    }
    if (op != '-' && op != '?') {
      fail("unsupported form in ${" + name +
           "...}; use ${NAME}, ${NAME:-default} or ${NAME:?message}");
    }
    ++pos_;
    std::string word;
    ++depth_;
    while (!at_end() && peek() != '}') {
      if (peek() == '\n') {
        fail("'${" + name + "' not closed");
      }
      if (peek() == '$') {
        append(word, expand());
        continue;
      }
      word += text_[pos_++];
    }
    if (at_end()) {
      fail("'${" + name + "' not closed");
    }
    --depth_;
    ++pos_;
    auto value = lookup(name);
    bool missing = !value || (colon && value->empty());
    if (op == '-') {
      return missing ? word : *value;
    }
    if (missing) {
      fail(name + " is required: " + (word.empty() ? "set it" : word));
    }
    return *value;
  }

  std::string_view text_;
  const Lookup& environment_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  int depth_ = 0;  // ${NAME-...} words being read, one inside the other
  std::map<std::string, std::string> values_;
};

}  // namespace

std::map<std::string, std::string> parse_dotenv(std::string_view text, const Lookup& environment) {
  return Parser(text, environment).parse();
}

std::map<std::string, std::string> load_dotenv(const std::filesystem::path& path,
                                               const Lookup& environment) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return {};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path.string() + ": " + std::strerror(errno) +
                             " (fix its permissions or remove it)");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  try {
    return parse_dotenv(buffer.str(), environment);
  } catch (const UsageError& error) {
    throw UsageError(path.string() + ": " + error.what());
  }
}

}  // namespace statesink::config
