#include "util/sql_time.h"

#include <cstdio>

namespace statesink {

std::string format_sql_datetime(std::chrono::sys_time<std::chrono::microseconds> time) {
  using namespace std::chrono;
  const sys_days day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock{time - day};
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u %02d:%02d:%02d.%06lld",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(clock.hours().count()),
                static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()),
                static_cast<long long>(clock.subseconds().count()));
  return text;
}

std::string format_sql_datetime_us(std::int64_t micros) {
  return format_sql_datetime(
      std::chrono::sys_time<std::chrono::microseconds>(std::chrono::microseconds(micros)));
}

}  // namespace statesink
