#include <array>
#include <limits>
#include <memory>
#include <string>

#include "simulate/behaviour.h"

namespace statesink::simulate {
namespace {

constexpr std::array<Name, 2> kNames{{{"Heizung", "heizung"}, {"Thermostat", "thermostat"}}};
constexpr std::array<const char*, 3> kModes{"off", "heat", "auto"};

// Temperatures in tenths of a degree, so they print with one decimal.
constexpr int kCurrentLow = 140;
constexpr int kCurrentHigh = 260;
constexpr int kTargetLow = 160;
constexpr int kTargetHigh = 240;

double degrees(int tenths) { return tenths / 10.0; }

class Climate final : public Behaviour {
 public:
  Climate(std::string name, Random& random)
      : name_(std::move(name)),
        mode_(random.below(kModes.size())),
        current_(static_cast<int>(random.between(180, 230))),
        target_(5 * static_cast<int>(random.between(kTargetLow / 5, kTargetHigh / 5))) {}

  unsigned activity() const override { return 3; }

  void step(Random& random) override {
    if (sensor_failed_) {
      sensor_failed_ = false;  // the next reading is good again
      return;
    }
    const auto roll = random.below(20);
    if (roll < 12) {
      // A thermometer that misreads: some integrations pass NaN through.
      if (random.chance(0.02)) {
        sensor_failed_ = true;
        return;
      }
      int delta = static_cast<int>(random.between(1, 3));
      delta *= random.sign();
      if (heating() && random.chance(0.5)) {
        delta = delta < 0 ? -delta : delta;
      }
      if (current_ + delta > kCurrentHigh || current_ + delta < kCurrentLow) {
        delta = -delta;
      }
      current_ += delta;
    } else if (roll < 17) {
      int delta = 5 * static_cast<int>(random.between(1, 3));
      delta *= random.sign();
      if (target_ + delta > kTargetHigh || target_ + delta < kTargetLow) {
        delta = -delta;
      }
      target_ += delta;
    } else {
      mode_ = (mode_ + 1 + random.below(kModes.size() - 1)) % kModes.size();
    }
  }

  std::string state() const override { return kModes[mode_]; }

  Json attributes(bool available) const override {
    Json attributes = Json::object();
    attributes["hvac_modes"] = Json::array({kModes[0], kModes[1], kModes[2]});
    attributes["min_temp"] = 7.0;
    attributes["max_temp"] = 35.0;
    attributes["target_temp_step"] = 0.5;
    if (available) {
      attributes["current_temperature"] =
          sensor_failed_ ? std::numeric_limits<double>::quiet_NaN() : degrees(current_);
      attributes["temperature"] = degrees(target_);
      attributes["hvac_action"] = mode_ == 0 ? "off" : heating() ? "heating" : "idle";
    }
    attributes["friendly_name"] = name_;
    attributes["supported_features"] = 385;  // target temperature, turn on, turn off
    return attributes;
  }

 private:
  bool heating() const { return mode_ != 0 && !sensor_failed_ && current_ < target_; }

  std::string name_;
  std::size_t mode_;
  int current_;
  int target_;
  bool sensor_failed_ = false;
};

}  // namespace

Created make_climate(Random& random, const Site&) {
  EntityName name = room_entity_name(random, random.pick(std::span<const Name>(kNames)));
  return {std::move(name.slug), std::make_unique<Climate>(std::move(name.display), random)};
}

}  // namespace statesink::simulate
