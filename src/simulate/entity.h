#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "simulate/message.h"
#include "simulate/options.h"
#include "simulate/python_json.h"
#include "simulate/timestamp.h"

namespace statesink::simulate {

// An entity as Home Assistant last wrote it: what statestream publishes.
struct Entity {
  std::string base_topic;  // "homeassistant", "home/site2": one or more levels
  Domain domain = Domain::kSensor;
  std::string object_id;  // "kuche_temperatur"
  std::string state;      // "21.5", "on", "unavailable", "Büro"
  Json attributes = Json::object();
  Timestamp last_updated;
  Timestamp last_changed;  // moves only when `state` does

  std::string entity_id() const;                   // "sensor.kuche_temperatur"
  std::string topic(std::string_view leaf) const;  // "BASE/sensor/kuche_temperatur/LEAF"
};

// What statestream publishes for one write of the entity's state, in its
// order: state, last_updated, last_changed, then every attribute.
std::vector<Message> publish(const Entity& entity);

}  // namespace statesink::simulate
