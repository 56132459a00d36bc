#include "util/sql_time.h"

#include <cstdio>

namespace statesink {
namespace {

// Writes `value` as exactly `width` decimal digits, zero-padded.
char* put_digits(char* out, long long value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

}  // namespace

std::string format_sql_datetime(std::chrono::sys_time<std::chrono::microseconds> time) {
  using namespace std::chrono;
  const sys_days day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock{time - day};
  const int year = static_cast<int>(date.year());
  char text[40];
  if (year < 0 || year > 9999) {
    // Outside what DATETIME takes; written out in full for the error message.
    std::snprintf(text, sizeof text, "%04d-%02u-%02u %02d:%02d:%02d.%06lld", year,
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  static_cast<int>(clock.hours().count()),
                  static_cast<int>(clock.minutes().count()),
                  static_cast<int>(clock.seconds().count()),
                  static_cast<long long>(clock.subseconds().count()));
    return text;
  }
  // The ingester formats one per message; snprintf was a visible part of its
  // CPU time.
  char* p = put_digits(text, year, 4);
  *p++ = '-';
  p = put_digits(p, static_cast<unsigned>(date.month()), 2);
  *p++ = '-';
  p = put_digits(p, static_cast<unsigned>(date.day()), 2);
  *p++ = ' ';
  p = put_digits(p, clock.hours().count(), 2);
  *p++ = ':';
  p = put_digits(p, clock.minutes().count(), 2);
  *p++ = ':';
  p = put_digits(p, clock.seconds().count(), 2);
  *p++ = '.';
  p = put_digits(p, clock.subseconds().count(), 6);
  return {text, p};
}

std::string format_sql_datetime_us(std::int64_t micros) {
  return format_sql_datetime(
      std::chrono::sys_time<std::chrono::microseconds>(std::chrono::microseconds(micros)));
}

}  // namespace statesink
