#pragma once

#include <span>
#include <string>
#include <vector>

#include "simulate/random.h"

namespace statesink::simulate {

// A display name and the object id Home Assistant derives from it.
struct Name {
  const char* display;  // UTF-8, may be non-ASCII ("Küche")
  const char* slug;     // "kuche"
};

// Names of rooms, the first part of most entity names ("Küche Temperatur").
std::span<const Name> room_names();

// Where a person can be: "home" or a zone named by its owner.
struct Place {
  std::string name;  // the person's state while there
  double latitude = 0;
  double longitude = 0;
};

// One Home Assistant installation.
struct Site {
  std::string base_topic;
  Place home;
  std::vector<Place> zones;
};

// Installation 0 publishes under "homeassistant"; the others under base
// topics of one to three levels, so consumers must read topics from the right.
Site site_for(unsigned installation);

// "Küche Temperatur" / "kuche_temperatur" for a random room and the thing.
struct EntityName {
  std::string display;
  std::string slug;
};
EntityName room_entity_name(Random& random, const Name& thing);

}  // namespace statesink::simulate
