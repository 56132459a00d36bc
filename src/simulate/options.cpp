#include "simulate/options.h"

#include <charconv>
#include <string>

#include "util/error.h"

namespace statesink::simulate {
namespace {

constexpr std::array<std::string_view, kDomainCount> kNames{"sensor", "binary_sensor", "light",
                                                            "switch", "climate",       "person"};

}  // namespace

std::string_view domain_name(Domain domain) { return kNames[static_cast<std::size_t>(domain)]; }

std::optional<Domain> parse_domain(std::string_view name) {
  for (std::size_t i = 0; i < kDomainCount; ++i) {
    if (kNames[i] == name) {
      return static_cast<Domain>(i);
    }
  }
  return std::nullopt;
}

DomainMix parse_domain_mix(std::string_view text, std::string_view setting) {
  const auto fail = [&](const std::string& why) {
    return UsageError(std::string(setting) + ": " + why +
                      " (examples: sensor,light or sensor=4,light=1; domains: sensor, "
                      "binary_sensor, light, switch, climate, person)");
  };
  DomainMix mix{};
  bool any = false;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);

    unsigned weight = 1;
    const std::size_t equals = item.find('=');
    if (equals != std::string_view::npos) {
      const std::string_view number = item.substr(equals + 1);
      auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), weight);
      if (ec != std::errc{} || end != number.data() + number.size() || weight > 1'000'000) {
        throw fail("'" + std::string(number) + "' is not a weight");
      }
      item = item.substr(0, equals);
    }
    const auto domain = parse_domain(item);
    if (!domain) {
      throw fail("'" + std::string(item) + "' is not a domain");
    }
    mix[static_cast<std::size_t>(*domain)] = weight;
    any = any || weight > 0;
  }
  if (!any) {
    throw fail("no domain with a weight above zero");
  }
  return mix;
}

void validate(const Options& options) {
  if (options.installations < 1 || options.installations > 1000) {
    throw UsageError("installations must be between 1 and 1000");
  }
  if (options.entities_per_installation < 1 || options.entities_per_installation > 1'000'000) {
    throw UsageError("entities per installation must be between 1 and 1000000");
  }
  bool any = false;
  for (unsigned weight : options.mix) {
    any = any || weight > 0;
  }
  if (!any) {
    throw UsageError("the domain mix gives no domain a weight above zero");
  }
  if (options.mean_interval.count() < 1) {
    throw UsageError("the mean interval between changes must be at least 1 microsecond");
  }
  if (!(options.unavailable_chance >= 0 && options.unavailable_chance <= 1)) {
    throw UsageError("the unavailable chance must be between 0 and 1");
  }
}

}  // namespace statesink::simulate
