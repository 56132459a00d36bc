#pragma once

#include <memory>
#include <string>

#include "simulate/catalog.h"
#include "simulate/options.h"
#include "simulate/python_json.h"
#include "simulate/random.h"

namespace statesink::simulate {

// How one kind of device behaves over time: its state, its attributes in Home
// Assistant's order, and how they move from one change to the next.
class Behaviour {
 public:
  virtual ~Behaviour() = default;

  // How often this entity changes relative to the others: a power meter
  // reports far more often than a door.
  virtual unsigned activity() const = 0;
  // Whether its device can drop out; a person never becomes unavailable.
  virtual bool can_fail() const { return true; }
  // Moves to the next plausible reading or action. Each step changes the
  // state or an attribute, since Home Assistant reports only real changes.
  virtual void step(Random& random) = 0;
  // The state while the device is reachable.
  virtual std::string state() const = 0;
  // While unavailable Home Assistant keeps only the attributes that describe
  // the entity (capabilities, unit, device class, name) and drops the rest.
  virtual Json attributes(bool available) const = 0;
};

struct Created {
  std::string object_id;  // before making it unique within its installation
  std::unique_ptr<Behaviour> behaviour;
};

Created make_sensor(Random& random, const Site& site);
Created make_binary_sensor(Random& random, const Site& site);
Created make_switch(Random& random, const Site& site);
Created make_light(Random& random, const Site& site);
Created make_climate(Random& random, const Site& site);
Created make_person(Random& random, const Site& site);

Created make_behaviour(Domain domain, Random& random, const Site& site);

}  // namespace statesink::simulate
