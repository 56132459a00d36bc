#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <string>

#include "simulate/behaviour.h"

namespace statesink::simulate {
namespace {

enum class Trend {
  kWalk,     // wanders between its bounds
  kRising,   // a meter that only counts up
  kFalling,  // a battery, replaced when nearly empty
};

struct SensorKind {
  Name name;
  const char* unit;
  const char* device_class;
  const char* state_class;
  int decimals;
  double low;
  double high;
  double max_step;
  Trend trend;
  unsigned activity;
};

constexpr std::array<SensorKind, 6> kKinds{{
    {{"Temperatur", "temperatur"},
     "\u00b0C",
     "temperature",
     "measurement",
     1,
     16,
     27,
     0.3,
     Trend::kWalk,
     3},
    {{"Luftfeuchtigkeit", "luftfeuchtigkeit"},
     "%",
     "humidity",
     "measurement",
     1,
     30,
     75,
     1.5,
     Trend::kWalk,
     2},
    {{"Leistung", "leistung"}, "W", "power", "measurement", 1, 0, 2500, 150, Trend::kWalk, 8},
    {{"Energie", "energie"},
     "kWh",
     "energy",
     "total_increasing",
     3,
     100,
     1e9,
     0.05,
     Trend::kRising,
     4},
    {{"Batterie", "batterie"}, "%", "battery", "measurement", 0, 5, 100, 1, Trend::kFalling, 1},
    {{"Helligkeit", "helligkeit"},
     "lx",
     "illuminance",
     "measurement",
     0,
     0,
     1500,
     80,
     Trend::kWalk,
     2},
}};

constexpr std::array<double, 4> kScales{1, 10, 100, 1000};

// The reading is kept as a whole number of its last decimal, so repeated
// steps never accumulate rounding error and the text always has the same
// precision.
class Sensor final : public Behaviour {
 public:
  Sensor(const SensorKind& kind, std::string name, Random& random)
      : kind_(kind),
        name_(std::move(name)),
        scale_(kScales[static_cast<std::size_t>(kind.decimals)]),
        low_(to_units(kind.low)),
        high_(to_units(kind.high)),
        max_step_(std::max<std::int64_t>(1, to_units(kind.max_step))) {
    const std::int64_t top = kind.trend == Trend::kRising ? to_units(5000) : high_;
    value_ = random.between(low_, top);
  }

  unsigned activity() const override { return kind_.activity; }

  void step(Random& random) override {
    switch (kind_.trend) {
      case Trend::kWalk: {
        std::int64_t delta = random.between(1, max_step_);
        delta *= random.sign();
        if (value_ + delta > high_ || value_ + delta < low_) {
          delta = -delta;
        }
        value_ = std::clamp(value_ + delta, low_, high_);
        break;
      }
      case Trend::kRising:
        value_ += random.between(1, max_step_);
        break;
      case Trend::kFalling:
        value_ = value_ - 1 < low_ ? high_ : value_ - 1;
        break;
    }
  }

  std::string state() const override {
    if (kind_.decimals == 0) {
      return std::to_string(value_);
    }
    // Home Assistant writes a float state with Python's str().
    return python_float_repr(static_cast<double>(value_) / scale_);
  }

  Json attributes(bool) const override {
    Json attributes = Json::object();
    attributes["state_class"] = kind_.state_class;
    attributes["unit_of_measurement"] = kind_.unit;
    attributes["device_class"] = kind_.device_class;
    attributes["friendly_name"] = name_;
    return attributes;
  }

 private:
  std::int64_t to_units(double value) const { return std::llround(value * scale_); }

  const SensorKind& kind_;
  std::string name_;
  double scale_;
  std::int64_t low_;
  std::int64_t high_;
  std::int64_t max_step_;
  std::int64_t value_ = 0;
};

}  // namespace

Created make_sensor(Random& random, const Site&) {
  const SensorKind& kind = random.pick(std::span<const SensorKind>(kKinds));
  EntityName name = room_entity_name(random, kind.name);
  return {std::move(name.slug), std::make_unique<Sensor>(kind, std::move(name.display), random)};
}

}  // namespace statesink::simulate
