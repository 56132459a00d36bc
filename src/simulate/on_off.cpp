#include <array>
#include <memory>
#include <string>

#include "simulate/behaviour.h"

namespace statesink::simulate {
namespace {

struct OnOffKind {
  Name name;
  const char* device_class;  // null for switches, which have none here
  unsigned activity;
};

constexpr std::array<OnOffKind, 4> kBinarySensors{{
    {{"Bewegung", "bewegung"}, "motion", 4},
    {{"T\u00fcr", "tur"}, "door", 2},
    {{"Fenster", "fenster"}, "window", 1},
    {{"Anwesenheit", "anwesenheit"}, "occupancy", 2},
}};

constexpr std::array<OnOffKind, 4> kSwitches{{
    {{"Kaffeemaschine", "kaffeemaschine"}, nullptr, 1},
    {{"Steckdose", "steckdose"}, nullptr, 2},
    {{"Ventilator", "ventilator"}, nullptr, 1},
    {{"Bew\u00e4sserung", "bewasserung"}, nullptr, 1},
}};

class OnOff final : public Behaviour {
 public:
  OnOff(const OnOffKind& kind, std::string name, bool on)
      : kind_(kind), name_(std::move(name)), on_(on) {}

  unsigned activity() const override { return kind_.activity; }
  void step(Random&) override { on_ = !on_; }
  std::string state() const override { return on_ ? "on" : "off"; }

  Json attributes(bool) const override {
    Json attributes = Json::object();
    if (kind_.device_class != nullptr) {
      attributes["device_class"] = kind_.device_class;
    }
    attributes["friendly_name"] = name_;
    return attributes;
  }

 private:
  const OnOffKind& kind_;
  std::string name_;
  bool on_;
};

Created make_on_off(std::span<const OnOffKind> kinds, Random& random) {
  const OnOffKind& kind = random.pick(kinds);
  EntityName name = room_entity_name(random, kind.name);
  return {std::move(name.slug),
          std::make_unique<OnOff>(kind, std::move(name.display), random.chance(0.3))};
}

}  // namespace

Created make_binary_sensor(Random& random, const Site&) {
  return make_on_off(kBinarySensors, random);
}

Created make_switch(Random& random, const Site&) { return make_on_off(kSwitches, random); }

}  // namespace statesink::simulate
