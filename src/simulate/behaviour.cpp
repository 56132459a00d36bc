#include "simulate/behaviour.h"

namespace statesink::simulate {

Created make_behaviour(Domain domain, Random& random, const Site& site) {
  switch (domain) {
    case Domain::kSensor:
      return make_sensor(random, site);
    case Domain::kBinarySensor:
      return make_binary_sensor(random, site);
    case Domain::kLight:
      return make_light(random, site);
    case Domain::kSwitch:
      return make_switch(random, site);
    case Domain::kClimate:
      return make_climate(random, site);
    case Domain::kPerson:
      return make_person(random, site);
  }
  return make_sensor(random, site);
}

}  // namespace statesink::simulate
