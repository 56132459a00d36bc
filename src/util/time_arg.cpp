#include "util/time_arg.h"

#include <optional>

#include "util/error.h"
#include "util/units.h"

namespace statesink {
namespace {

using namespace std::chrono;

// Reads fixed-width fields left to right; every take* returns false without
// consuming anything when the text does not match.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  bool done() const { return pos_ == text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }

  bool take(char c) {
    if (peek() != c || done()) {
      return false;
    }
    ++pos_;
    return true;
  }

  // Exactly `count` decimal digits.
  bool take_digits(int count, int& value) {
    if (text_.size() - pos_ < static_cast<std::size_t>(count)) {
      return false;
    }
    int result = 0;
    for (int i = 0; i < count; ++i) {
      const char c = text_[pos_ + static_cast<std::size_t>(i)];
      if (c < '0' || c > '9') {
        return false;
      }
      result = result * 10 + (c - '0');
    }
    pos_ += static_cast<std::size_t>(count);
    value = result;
    return true;
  }

  // One to six digits after a decimal point, as microseconds.
  bool take_fraction(int& micros) {
    int digits = 0;
    micros = 0;
    while (!done() && peek() >= '0' && peek() <= '9') {
      if (++digits > 6) {
        return false;
      }
      micros = micros * 10 + (peek() - '0');
      ++pos_;
    }
    for (int i = digits; i < 6; ++i) {
      micros *= 10;
    }
    return digits > 0;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

// Z, +HH:MM, -HH:MM, +HHMM or +HH; nothing at all means UTC.
std::optional<minutes> take_zone(Cursor& cursor) {
  if (cursor.done() || cursor.take('Z')) {
    return minutes{0};
  }
  const char sign = cursor.peek();
  if (!cursor.take('+') && !cursor.take('-')) {
    return std::nullopt;
  }
  int h = 0;
  int m = 0;
  if (!cursor.take_digits(2, h)) {
    return std::nullopt;
  }
  if (!cursor.done()) {
    cursor.take(':');
    if (!cursor.take_digits(2, m)) {
      return std::nullopt;
    }
  }
  if (h > 23 || m > 59) {
    return std::nullopt;
  }
  const minutes offset = hours{h} + minutes{m};
  return sign == '-' ? -offset : offset;
}

std::optional<UtcTime> parse_iso(std::string_view text) {
  Cursor cursor(text);
  int y = 0;
  int mo = 0;
  int d = 0;
  if (!cursor.take_digits(4, y) || !cursor.take('-') || !cursor.take_digits(2, mo) ||
      !cursor.take('-') || !cursor.take_digits(2, d)) {
    return std::nullopt;
  }
  // DATETIME starts at year 1000.
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)},
                            day{static_cast<unsigned>(d)}};
  if (y < 1000 || !date.ok()) {
    return std::nullopt;
  }
  if (cursor.done()) {
    return UtcTime{sys_days{date}};
  }
  if (!cursor.take('T') && !cursor.take(' ')) {
    return std::nullopt;
  }
  int h = 0;
  int mi = 0;
  int s = 0;
  int micros = 0;
  if (!cursor.take_digits(2, h) || !cursor.take(':') || !cursor.take_digits(2, mi)) {
    return std::nullopt;
  }
  if (cursor.take(':')) {
    if (!cursor.take_digits(2, s)) {
      return std::nullopt;
    }
    if (cursor.take('.') && !cursor.take_fraction(micros)) {
      return std::nullopt;
    }
  }
  // No leap seconds: DATETIME cannot hold them either.
  if (h > 23 || mi > 59 || s > 59) {
    return std::nullopt;
  }
  const std::optional<minutes> offset = take_zone(cursor);
  if (!offset || !cursor.done()) {
    return std::nullopt;
  }
  return sys_days{date} + hours{h} + minutes{mi} + seconds{s} + microseconds{micros} - *offset;
}

[[noreturn]] void reject(std::string_view text, std::string_view option) {
  throw UsageError(std::string(option) + ": '" + std::string(text) + "' is not a time; use " +
                   std::string(kTimeForms));
}

}  // namespace

UtcTime parse_time_arg(std::string_view text, std::string_view option, UtcTime now) {
  if (text == "now") {
    return now;
  }
  std::string_view before_now;
  if (text.starts_with("now-")) {
    before_now = text.substr(4);
  } else if (text.starts_with("-")) {
    before_now = text.substr(1);
  } else if (std::optional<UtcTime> time = parse_iso(text)) {
    return *time;
  } else {
    reject(text, option);
  }
  milliseconds ago{0};
  try {
    ago = parse_duration(before_now, option);
  } catch (const UsageError&) {
    reject(text, option);
  }
  // About 300 years: far enough back for any history, and safe from overflow.
  constexpr milliseconds kLongest = hours{24} * 365 * 300;
  if (ago > kLongest) {
    throw UsageError(std::string(option) + ": '" + std::string(text) +
                     "' reaches back too far (at most 300 years)");
  }
  return now - ago;
}

UtcTime utc_now() { return floor<microseconds>(system_clock::now()); }

}  // namespace statesink
