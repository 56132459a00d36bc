#include "simulate/catalog.h"

#include <array>

namespace statesink::simulate {
namespace {

// German, French and English names as households mix them; one with an emoji,
// which JSON must carry as a surrogate pair.
constexpr std::array<Name, 12> kRooms{{
    {"K\u00fcche", "kuche"},
    {"Wohnzimmer", "wohnzimmer"},
    {"Schlafzimmer", "schlafzimmer"},
    {"Bad", "bad"},
    {"B\u00fcro", "buro"},
    {"Flur", "flur"},
    {"Kinderzimmer", "kinderzimmer"},
    {"Garage \U0001F697", "garage"},
    {"Salle de s\u00e9jour", "salle_de_sejour"},
    {"Living Room", "living_room"},
    {"Garden", "garden"},
    {"Keller", "keller"},
}};

struct City {
  double latitude;
  double longitude;
};

constexpr std::array<City, 6> kCities{{
    {52.520008, 13.404954},
    {48.137154, 11.576124},
    {48.208176, 16.373819},
    {47.376888, 8.541694},
    {48.856613, 2.352222},
    {59.913868, 10.752245},
}};

struct ZoneOffset {
  const char* name;
  double north;
  double east;
};

constexpr std::array<ZoneOffset, 4> kZones{{
    {"B\u00fcro", 0.021, 0.034},
    {"Fitnessstudio", -0.012, 0.018},
    {"Schule", 0.007, -0.025},
    {"Caf\u00e9 M\u00fcller", -0.030, -0.010},
}};

std::string base_topic_for(unsigned installation) {
  if (installation == 0) {
    return "homeassistant";
  }
  const std::string number = std::to_string(installation + 1);
  switch (installation % 3) {
    case 1:
      return "home/site" + number;
    case 2:
      return "sites/site" + number + "/ha";
    default:
      return "ha" + number;
  }
}

}  // namespace

std::span<const Name> room_names() { return kRooms; }

Site site_for(unsigned installation) {
  const City& city = kCities[installation % kCities.size()];
  // Installations beyond the city list sit a little apart from each other:
  // a whole number of steps (integer division on purpose) per round of cities.
  const std::size_t round = installation / kCities.size();
  const double shift = 0.01 * static_cast<double>(round);
  Site site;
  site.base_topic = base_topic_for(installation);
  site.home = {"home", city.latitude + shift, city.longitude + shift};
  for (const ZoneOffset& zone : kZones) {
    site.zones.push_back(
        {zone.name, site.home.latitude + zone.north, site.home.longitude + zone.east});
  }
  return site;
}

EntityName room_entity_name(Random& random, const Name& thing) {
  const Name& room = random.pick(room_names());
  return {std::string(room.display) + " " + thing.display,
          std::string(room.slug) + "_" + thing.slug};
}

}  // namespace statesink::simulate
