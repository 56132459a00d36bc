#include "history/entity_lookup.h"

#include <stdexcept>

#include "util/error.h"

namespace statesink::history {
namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) {
    text += (text.empty() ? "" : ", ") + item;
  }
  return text;
}

std::vector<std::string> first_column(const std::vector<db::Row>& rows) {
  std::vector<std::string> values;
  values.reserve(rows.size());
  for (const auto& row : rows) {
    values.push_back(row.at(0).value_or(""));
  }
  return values;
}

// A LIKE pattern matching `text` literally; '!' escapes, since a backslash
// means something else under NO_BACKSLASH_ESCAPES.
std::string like_literal(std::string_view text) {
  std::string escaped;
  for (const char c : text) {
    if (c == '%' || c == '_' || c == '!') {
      escaped += '!';
    }
    escaped += c;
  }
  return escaped;
}

// Entity ids that a mistyped one probably meant: those containing what was
// typed (a missing domain, a partial name) and those whose object id starts
// with the same first word. Entities are few, so a scan is cheap.
std::vector<std::string> similar_entities(db::Connection& connection, std::string_view label) {
  const std::string_view object_id =
      label.find('.') == std::string_view::npos ? label : label.substr(label.find('.') + 1);
  const std::string_view first_word = object_id.substr(0, object_id.find('_'));
  const std::string containing = "%" + like_literal(label) + "%";
  const std::string same_start = like_literal(first_word) + "%";
  const db::Param params[] = {std::string_view(containing), std::string_view(same_start)};
  return first_column(
      connection.query("SELECT DISTINCT label FROM entities "
                       "WHERE label LIKE ? ESCAPE '!' OR object_id LIKE ? ESCAPE '!' "
                       "ORDER BY label LIMIT 5",
                       params));
}

[[noreturn]] void no_such_entity(db::Connection& connection, std::string_view label,
                                 std::string_view where) {
  std::string message = "no entity '" + std::string(label) + "'" + std::string(where);
  if (const auto similar = similar_entities(connection, label); !similar.empty()) {
    message += "; similar: " + joined(similar);
  } else {
    message += "; entity ids look like sensor.kitchen_temperature (see the entities table)";
  }
  throw std::runtime_error(message);
}

}  // namespace

EntityRef find_entity(db::Connection& connection, std::string_view argument,
                      const std::optional<std::string>& base_topic) {
  std::string_view label = argument;
  std::optional<std::string> base = base_topic;
  if (!base) {
    if (const auto colon = argument.rfind(':'); colon != std::string_view::npos) {
      base = std::string(argument.substr(0, colon));
      label = argument.substr(colon + 1);
    }
  }
  if (label.empty()) {
    throw UsageError("no entity id given; use ENTITY_ID or BASE_TOPIC:ENTITY_ID");
  }

  if (base) {
    const db::Param base_param[] = {std::string_view(*base)};
    if (connection.query("SELECT id FROM base_topics WHERE label = ?", base_param).empty()) {
      const std::vector<std::string> known =
          first_column(connection.query("SELECT label FROM base_topics ORDER BY label LIMIT 20"));
      throw std::runtime_error(
          "no base topic '" + *base + "'" +
          (known.empty() ? "; the database has no entities yet" : "; known: " + joined(known)));
    }
  }

  const db::Param params[] = {label};
  const std::vector<db::Row> rows = connection.query(
      "SELECT e.id, b.label FROM entities e JOIN base_topics b ON b.id = e.base_topic_id "
      "WHERE e.label = ? ORDER BY b.label, e.id",
      params);
  std::vector<EntityRef> found;
  std::vector<std::string> bases;
  for (const auto& row : rows) {
    EntityRef entity{std::stoull(row.at(0).value_or("0")), row.at(1).value_or(""),
                     std::string(label)};
    bases.push_back(entity.base_topic);
    if (!base || entity.base_topic == *base) {
      found.push_back(std::move(entity));
    }
  }
  if (found.empty()) {
    if (base && !bases.empty()) {
      throw std::runtime_error("no entity '" + std::string(label) + "' under base topic '" + *base +
                               "'; it exists under: " + joined(bases));
    }
    no_such_entity(connection, label, base ? " under base topic '" + *base + "'" : "");
  }
  if (found.size() > 1) {
    // The same entity id from several Home Assistant installations.
    throw UsageError(
        "'" + std::string(label) + "' exists under several base topics: " + joined(bases) +
        "; choose one with BASE_TOPIC:" + std::string(label) + " or --base-topic BASE_TOPIC");
  }
  return found.front();
}

std::vector<StateRef> find_states(db::Connection& connection, const EntityRef& entity,
                                  const std::optional<std::string>& attribute) {
  const db::Param params[] = {entity.id};
  const std::vector<db::Row> rows = connection.query(
      "SELECT id, label FROM states WHERE entity_id = ? ORDER BY label <> 'state', label", params);
  std::vector<StateRef> states;
  std::vector<std::string> labels;
  for (const auto& row : rows) {
    StateRef state{std::stoull(row.at(0).value_or("0")), row.at(1).value_or("")};
    labels.push_back(state.label);
    if (!attribute || state.label == *attribute) {
      states.push_back(std::move(state));
    }
  }
  if (attribute && states.empty()) {
    throw std::runtime_error(entity.label + " has no attribute '" + *attribute + "'" +
                             (labels.empty() ? "" : "; it has: " + joined(labels)));
  }
  return states;
}

}  // namespace statesink::history
