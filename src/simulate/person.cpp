#include <array>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "simulate/behaviour.h"

namespace statesink::simulate {
namespace {

constexpr std::array<Name, 8> kPeople{{
    {"J\u00fcrgen", "jurgen"},
    {"Anna", "anna"},
    {"Zo\u00eb", "zoe"},
    {"Mehmet", "mehmet"},
    {"Sophie", "sophie"},
    {"\u0141ukasz", "lukasz"},
    {"Ingrid", "ingrid"},
    {"Kenji", "kenji"},
}};

// Phones report positions to about a decimetre.
double round6(double value) { return std::round(value * 1e6) / 1e6; }

// Walks between home and the site's zones. Between places the state is
// "not_home" and each step is a position update on the way.
class Person final : public Behaviour {
 public:
  Person(const Site& site, const Name& name, Random& random)
      : name_(name.display), slug_(name.slug), source_("device_tracker." + slug_ + "_phone") {
    places_.push_back(site.home);
    places_.insert(places_.end(), site.zones.begin(), site.zones.end());
    at_ = random.chance(0.7) ? 0 : random.below(places_.size());
    target_ = *at_;
    settle(random);
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < 32; ++i) {
      user_id_ += kHex[random.below(16)];
    }
  }

  unsigned activity() const override { return 2; }
  bool can_fail() const override { return false; }

  void step(Random& random) override {
    if (at_ && random.chance(0.6)) {
      settle(random);  // a fresh GPS fix while staying put
    } else if (at_) {
      target_ = (*at_ + 1 + random.below(places_.size() - 1)) % places_.size();
      at_.reset();
      move(random, random.uniform(0.2, 0.4));
    } else if (near_target() || random.chance(0.35)) {
      at_ = target_;
      settle(random);
    } else {
      move(random, random.uniform(0.3, 0.6));
    }
    accuracy_ = static_cast<int>(random.between(5, 40));
  }

  std::string state() const override { return at_ ? places_[*at_].name : "not_home"; }

  Json attributes(bool) const override {
    Json attributes = Json::object();
    attributes["editable"] = true;
    attributes["id"] = slug_;
    attributes["latitude"] = latitude_;
    attributes["longitude"] = longitude_;
    attributes["gps_accuracy"] = accuracy_;
    attributes["source"] = source_;
    attributes["user_id"] = user_id_;
    attributes["device_trackers"] = Json::array({source_});
    attributes["friendly_name"] = name_;
    return attributes;
  }

 private:
  bool near_target() const {
    const Place& target = places_[target_];
    const double north = target.latitude - latitude_;
    const double east = target.longitude - longitude_;
    return north * north + east * east < 0.002 * 0.002;
  }

  // A position somewhere inside the place's zone.
  void settle(Random& random) {
    const Place& place = places_[*at_];
    latitude_ = round6(place.latitude + random.uniform(-0.0002, 0.0002));
    longitude_ = round6(place.longitude + random.uniform(-0.0002, 0.0002));
  }

  // Part of the way to the target, off the straight line as roads are.
  void move(Random& random, double fraction) {
    const Place& target = places_[target_];
    latitude_ = round6(latitude_ + (target.latitude - latitude_) * fraction +
                       random.uniform(-0.001, 0.001));
    longitude_ = round6(longitude_ + (target.longitude - longitude_) * fraction +
                        random.uniform(-0.001, 0.001));
  }

  std::string name_;
  std::string slug_;
  std::string source_;
  std::string user_id_;
  std::vector<Place> places_;
  std::optional<std::size_t> at_;
  std::size_t target_ = 0;
  double latitude_ = 0;
  double longitude_ = 0;
  int accuracy_ = 10;
};

}  // namespace

Created make_person(Random& random, const Site& site) {
  const Name& name = random.pick(std::span<const Name>(kPeople));
  return {name.slug, std::make_unique<Person>(site, name, random)};
}

}  // namespace statesink::simulate
