#include "format.h"

#include <cmath>
#include <cstdio>

namespace statesink::bench {

std::string number(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string cell(std::optional<double> v, int decimals) { return v ? number(*v, decimals) : "-"; }

Json optional_json(std::optional<double> v, int decimals) {
  if (!v) return nullptr;
  const double scale = std::pow(10.0, decimals);
  return std::round(*v * scale) / scale;
}

double per_100k(double cpu, std::size_t messages) {
  return messages == 0 ? 0 : cpu * 100'000.0 / static_cast<double>(messages);
}

std::optional<double> per_100k(std::optional<double> cpu, std::size_t messages) {
  if (!cpu) return std::nullopt;
  return per_100k(*cpu, messages);
}

std::optional<double> mib(std::optional<std::uint64_t> bytes) {
  if (!bytes) return std::nullopt;
  return static_cast<double>(*bytes) / (1024.0 * 1024.0);
}

}  // namespace statesink::bench
