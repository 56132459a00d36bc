#include <array>
#include <cmath>
#include <memory>
#include <string>

#include "simulate/behaviour.h"

namespace statesink::simulate {
namespace {

struct LightKind {
  Name name;
  bool colour;  // hs colour mode, else brightness only
  int supported_features;
};

constexpr std::array<LightKind, 4> kKinds{{
    {{"Deckenlicht", "deckenlicht"}, true, 40},
    {{"Stehlampe", "stehlampe"}, false, 32},
    {{"Lichterkette", "lichterkette"}, true, 44},
    {{"Spots", "spots"}, false, 32},
}};

struct Colour {
  double hue;         // degrees
  double saturation;  // percent
};

// Colours people pick from the app's palette; the rest are free picks.
constexpr std::array<Colour, 6> kPalette{{
    {30, 100},
    {0, 100},
    {240, 100},
    {120, 50},
    {45, 80},
    {200, 60},
}};

double round3(double value) { return std::round(value * 1000) / 1000; }

// The rgb_color Home Assistant derives from hs_color at full value, rounded
// the way Python's round() does (halves to even, as nearbyint does by default).
Json rgb_from_hs(const Colour& colour) {
  const double h = colour.hue / 360.0;
  const double s = colour.saturation / 100.0;
  const double sector_position = h * 6.0;
  const int sector = static_cast<int>(sector_position);
  const double f = sector_position - sector;
  const double p = 1.0 - s;
  const double q = 1.0 - s * f;
  const double t = 1.0 - s * (1.0 - f);
  std::array<double, 3> rgb{};
  switch (sector % 6) {
    case 0:
      rgb = {1.0, t, p};
      break;
    case 1:
      rgb = {q, 1.0, p};
      break;
    case 2:
      rgb = {p, 1.0, t};
      break;
    case 3:
      rgb = {p, q, 1.0};
      break;
    case 4:
      rgb = {t, p, 1.0};
      break;
    default:
      rgb = {1.0, p, q};
      break;
  }
  Json out = Json::array();
  for (double channel : rgb) {
    out.push_back(static_cast<int>(std::nearbyint(channel * 255.0)));
  }
  return out;
}

class Light final : public Behaviour {
 public:
  Light(const LightKind& kind, std::string name, Random& random)
      : kind_(kind), name_(std::move(name)), on_(random.chance(0.4)) {
    brightness_ = static_cast<int>(random.between(3, 255));
    colour_ = kPalette[random.below(kPalette.size())];
  }

  unsigned activity() const override { return 2; }

  void step(Random& random) override {
    if (!on_) {
      on_ = true;  // back on at the brightness and colour it had
      return;
    }
    const auto roll = random.below(10);
    if (roll < 4) {
      on_ = false;
    } else if (roll < 7 || !kind_.colour) {
      const int previous = brightness_;
      while (brightness_ == previous) {
        brightness_ = static_cast<int>(random.between(3, 255));
      }
    } else {
      const Colour previous = colour_;
      while (colour_.hue == previous.hue && colour_.saturation == previous.saturation) {
        colour_ = random.chance(0.5)
                      ? kPalette[random.below(kPalette.size())]
                      : Colour{round3(random.uniform(0, 360)), round3(random.uniform(20, 100))};
      }
    }
  }

  std::string state() const override { return on_ ? "on" : "off"; }

  Json attributes(bool available) const override {
    Json attributes = Json::object();
    attributes["supported_color_modes"] = Json::array({kind_.colour ? "hs" : "brightness"});
    if (available) {
      // An off light keeps these keys, with null values.
      attributes["color_mode"] = on_ ? Json(kind_.colour ? "hs" : "brightness") : Json();
      attributes["brightness"] = on_ ? Json(brightness_) : Json();
      if (kind_.colour) {
        attributes["hs_color"] = on_ ? Json::array({colour_.hue, colour_.saturation}) : Json();
        attributes["rgb_color"] = on_ ? rgb_from_hs(colour_) : Json();
      }
    }
    attributes["friendly_name"] = name_;
    attributes["supported_features"] = kind_.supported_features;
    return attributes;
  }

 private:
  const LightKind& kind_;
  std::string name_;
  bool on_;
  int brightness_ = 255;
  Colour colour_{};
};

}  // namespace

Created make_light(Random& random, const Site&) {
  const LightKind& kind = random.pick(std::span<const LightKind>(kKinds));
  EntityName name = room_entity_name(random, kind.name);
  return {std::move(name.slug), std::make_unique<Light>(kind, std::move(name.display), random)};
}

}  // namespace statesink::simulate
