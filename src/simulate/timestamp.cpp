#include "simulate/timestamp.h"

#include <cstdio>

namespace statesink::simulate {

std::string format_timestamp(Timestamp time) {
  using namespace std::chrono;
  const auto day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock{time - day};
  const auto micros = clock.subseconds().count();

  char text[48];
  int length = std::snprintf(
      text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
      static_cast<int>(clock.seconds().count()));
  if (micros != 0) {
    length += std::snprintf(text + length, sizeof text - static_cast<std::size_t>(length),
                            ".%06lld", static_cast<long long>(micros));
  }
  return std::string(text, static_cast<std::size_t>(length)) + "+00:00";
}

}  // namespace statesink::simulate
