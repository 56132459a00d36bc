#pragma once

// Helpers for the unit tests: read generated messages back the way a
// consumer of statestream topics would, from the right.

#include <string>
#include <utility>
#include <vector>

#include "simulate/message.h"

namespace statesink::simulate::testing {

struct TopicParts {
  std::string base;  // may hold several levels
  std::string domain;
  std::string object_id;
  std::string leaf;  // "state", "last_updated", "last_changed" or an attribute
};

inline TopicParts split_topic(const std::string& topic) {
  TopicParts parts;
  std::string rest = topic;
  for (std::string* part : {&parts.leaf, &parts.object_id, &parts.domain}) {
    const std::size_t slash = rest.rfind('/');
    if (slash == std::string::npos) {
      return {};
    }
    *part = rest.substr(slash + 1);
    rest.resize(slash);
  }
  parts.base = rest;
  return parts;
}

// One state write as published: its three plain-text topics and its attributes.
struct Change {
  std::string entity;  // "BASE/DOMAIN/OBJECT_ID"
  std::string domain;
  std::string state;
  std::string last_updated;
  std::string last_changed;
  std::vector<std::pair<std::string, std::string>> attributes;  // name, payload

  const std::string* attribute(const std::string& name) const {
    for (const auto& [key, payload] : attributes) {
      if (key == name) {
        return &payload;
      }
    }
    return nullptr;
  }
};

// Groups messages into changes; a "state" topic starts each one. The topic
// order within a change is checked by the tests themselves.
inline std::vector<Change> split_changes(const std::vector<Message>& messages) {
  std::vector<Change> changes;
  for (const Message& message : messages) {
    const TopicParts parts = split_topic(message.topic);
    if (parts.leaf == "state" || changes.empty()) {
      changes.emplace_back();
      changes.back().entity = parts.base + "/" + parts.domain + "/" + parts.object_id;
      changes.back().domain = parts.domain;
    }
    Change& change = changes.back();
    if (parts.leaf == "state") {
      change.state = message.payload;
    } else if (parts.leaf == "last_updated") {
      change.last_updated = message.payload;
    } else if (parts.leaf == "last_changed") {
      change.last_changed = message.payload;
    } else {
      change.attributes.emplace_back(parts.leaf, message.payload);
    }
  }
  return changes;
}

}  // namespace statesink::simulate::testing
