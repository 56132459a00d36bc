#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "simulate/timestamp.h"

namespace statesink::simulate {

enum class Domain { kSensor, kBinarySensor, kLight, kSwitch, kClimate, kPerson };
inline constexpr std::size_t kDomainCount = 6;

// "sensor", "binary_sensor", ... as in entity ids and topics.
std::string_view domain_name(Domain domain);
std::optional<Domain> parse_domain(std::string_view name);

// Relative share of each domain among generated entities, indexed by Domain.
using DomainMix = std::array<unsigned, kDomainCount>;
inline constexpr DomainMix kDefaultMix{40, 15, 15, 10, 10, 10};

// "sensor,light" (equal shares) or "sensor=4,light=1,person=1". Throws
// UsageError naming `setting` for unknown domains, bad weights or no domain.
DomainMix parse_domain_mix(std::string_view text, std::string_view setting);

struct Options {
  // Home Assistant installations publishing into one broker, each under its
  // own base topic.
  unsigned installations = 1;
  unsigned entities_per_installation = 20;
  std::uint64_t seed = 1;
  DomainMix mix = kDefaultMix;
  // Simulated time of the first change; entities' earlier history lies before it.
  Timestamp start = std::chrono::sys_days{std::chrono::year{2024} / 5 / 1} + std::chrono::hours{12};
  // Average simulated time between two changes anywhere in the installation(s).
  std::chrono::microseconds mean_interval{std::chrono::seconds{1}};
  // Chance that a change is a device dropping out (state "unavailable").
  double unavailable_chance = 0.01;
  // Whether the message stream starts with every entity's current state, as
  // Home Assistant publishes at start-up.
  bool snapshot_first = true;
};

// Throws UsageError saying which option is out of range.
void validate(const Options& options);

}  // namespace statesink::simulate
