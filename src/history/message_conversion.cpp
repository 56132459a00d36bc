#include "history/message_conversion.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "db/statement.h"

namespace statesink::history {
namespace {

constexpr const char* kShadow = "messages_partitioned";
constexpr const char* kOld = "messages_unpartitioned";
constexpr const char* kCopyTrigger = "messages_conversion_copy";

struct TriggerOn {
  std::string name;
  std::string table;
};

std::vector<TriggerOn> triggers(db::Connection& connection) {
  std::vector<TriggerOn> result;
  for (const db::Row& row : connection.query(
           "SELECT trigger_name, event_object_table FROM information_schema.triggers "
           "WHERE trigger_schema = DATABASE() AND event_object_table IN "
           "('messages', 'messages_partitioned', 'messages_unpartitioned') "
           "ORDER BY event_object_table, action_timing, event_manipulation, action_order")) {
    result.push_back({row.at(0).value_or(""), row.at(1).value_or("")});
  }
  return result;
}

bool has_trigger(db::Connection& connection, std::string_view name) {
  for (const TriggerOn& t : triggers(connection)) {
    if (t.name == name) {
      return true;
    }
  }
  return false;
}

// `topic`, `payload`, ...: whatever columns migrations gave messages.
std::vector<std::string> message_columns(db::Connection& connection) {
  std::vector<std::string> columns;
  for (const db::Row& row :
       connection.query("SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = DATABASE() AND table_name = 'messages' "
                        "ORDER BY ordinal_position")) {
    columns.push_back(db::quote_identifier(row.at(0).value_or("")));
  }
  if (columns.empty()) {
    throw std::runtime_error("there is no messages table to convert; run statesink migrate up");
  }
  return columns;
}

std::string joined(const std::vector<std::string>& items, std::string_view prefix) {
  std::string list;
  for (const std::string& item : items) {
    if (!list.empty()) {
      list += ", ";
    }
    list += prefix;
    list += item;
  }
  return list;
}

std::uint64_t number(const std::optional<std::string>& value) {
  return std::stoull(value.value_or("0"));
}

std::string copy_trigger_statement(const std::vector<std::string>& columns) {
  return std::string("CREATE TRIGGER ") + kCopyTrigger +
         " AFTER INSERT ON messages FOR EACH ROW INSERT IGNORE INTO " + kShadow + " (" +
         joined(columns, "") + ") VALUES (" + joined(columns, "NEW.") + ")";
}

// The definition of a trigger of messages, with the table it is on replaced:
// "CREATE DEFINER=... TRIGGER name AFTER INSERT ON messages FOR EACH ROW ...".
std::string retarget(const std::string& definition, const std::string& name,
                     std::string_view table) {
  std::string upper = definition.substr(0, std::min<std::size_t>(definition.size(), 2000));
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  auto space = [&upper](std::size_t at) {
    return at < upper.size() && std::isspace(static_cast<unsigned char>(upper[at]));
  };
  // The first ON standing alone after TRIGGER: names cannot hold white space
  // unquoted, and TRIGGER name BEFORE|AFTER event come first.
  std::size_t on = upper.find("TRIGGER");
  while (on != std::string::npos) {
    on = upper.find("ON", on + 1);
    if (on != std::string::npos && space(on - 1) && space(on + 2)) {
      break;
    }
  }
  if (on == std::string::npos) {
    throw std::runtime_error("cannot find the table in the definition of trigger " + name +
                             "; re-create it on messages by hand");
  }
  std::size_t start = on + 2;
  while (start < upper.size() && std::isspace(static_cast<unsigned char>(upper[start]))) {
    ++start;
  }
  for (const std::string_view written : {"`MESSAGES`", "MESSAGES"}) {
    const std::size_t end = start + written.size();
    if (upper.compare(start, written.size(), written) == 0 &&
        (end >= upper.size() || std::isspace(static_cast<unsigned char>(upper[end])))) {
      return definition.substr(0, start) + db::quote_identifier(table) + definition.substr(end);
    }
  }
  throw std::runtime_error("trigger " + name +
                           " names its table in a way statesink does not recognise; "
                           "re-create it on messages by hand");
}

}  // namespace

void refuse_during_conversion(db::Connection& connection, std::string_view what) {
  if (!connection.has_table("messages_conversion")) {
    return;
  }
  if (connection.query_value("SELECT COUNT(*) FROM messages_conversion").value_or("0") != "0") {
    throw std::runtime_error("cannot " + std::string(what) +
                             " while statesink partitions convert has not finished; run it "
                             "again to finish the conversion first");
  }
}

struct MessageConversion::Tables {
  bool live = false;              // `messages` exists
  bool live_partitioned = false;  // ... and is partitioned
  bool shadow = false;
  bool old = false;
  bool state = false;  // a row in messages_conversion
};

MessageConversion::MessageConversion(db::Connection& connection, std::ostream& out,
                                     std::ostream& err, PartitionLayout layout, UtcTime now)
    : db_(connection), out_(out), err_(err), layout_(layout), now_(now) {}

MessageConversion::Tables MessageConversion::inspect() {
  Tables t;
  t.live = db_.has_table("messages");
  t.live_partitioned = t.live && read_partitions(db_).kind != Partitioning::none;
  t.shadow = db_.has_table(kShadow);
  t.old = db_.has_table(kOld);
  if (!db_.has_table("messages_conversion")) {
    throw std::runtime_error(
        "the database lacks migration 0010 (messages_conversion); run statesink migrate up");
  }
  t.state = db_.query_value("SELECT COUNT(*) FROM messages_conversion").value_or("0") != "0";
  return t;
}

bool MessageConversion::run(const ConversionOptions& options) {
  const Tables tables = inspect();
  if (tables.live && tables.live_partitioned && !tables.shadow) {
    if (!options.dry_run && tables.state) {
      finish();
    }
    out_ << "messages is partitioned already; statesink partitions status shows its partitions\n";
    if (tables.old) {
      out_ << "the table it was converted from is kept as " << kOld << ": DROP TABLE " << kOld
           << " once you no longer need it\n";
    }
    return true;
  }
  if (!tables.live && !(tables.shadow && tables.old)) {
    throw std::runtime_error("there is no messages table to convert; run statesink migrate up");
  }
  if (tables.live_partitioned) {
    throw std::runtime_error(std::string("messages is partitioned, yet ") + kShadow +
                             " exists: drop that table, it is not in use");
  }
  if (tables.live && tables.old) {
    throw std::runtime_error(std::string("a table ") + kOld +
                             " exists already: rename or drop it before converting messages");
  }
  if (options.dry_run) {
    describe_plan(tables, options);
    return false;
  }
  if (tables.live) {
    prepare_copy();
    if (!copy(options)) {
      return false;
    }
    verify();
    save_triggers();
  }
  swap(inspect());
  finish();
  out_ << "DROP TABLE " << kOld << " once you no longer need it\n";
  return true;
}

void MessageConversion::describe_plan(const Tables& tables, const ConversionOptions& options) {
  out_ << "dry run: nothing is changed\n";
  if (!tables.live) {
    out_ << "an interrupted swap would be completed: the triggers saved in "
            "messages_conversion_triggers move to "
         << kShadow << ", which is renamed to messages\n";
    return;
  }
  const db::Row range =
      db_.query("SELECT COUNT(*), MIN(id), MAX(id), MIN(received_at) FROM messages").at(0);
  const std::optional<std::string> oldest = range.at(3);
  std::optional<UtcTime> oldest_time;
  if (oldest) {
    oldest_time = parse_time_arg(*oldest, "oldest message", now_);
  }
  out_ << "messages holds " << number(range.at(0)) << " row(s), ids " << range.at(1).value_or("-")
       << " to " << range.at(2).value_or("-") << ", the oldest received " << oldest.value_or("-")
       << " UTC\n";
  if (tables.state) {
    const db::Row state =
        db_.query("SELECT copied_up_to, high_water_id, started_at FROM messages_conversion").at(0);
    out_ << "a conversion started " << state.at(2).value_or("") << " UTC has copied ids up to "
         << state.at(0).value_or("0") << " of " << state.at(1).value_or("0")
         << "; it would go on from there\n";
  } else {
    out_ << "would create " << kShadow << " (as messages, primary key (id, received_at)):\n"
         << "  " << partition_clause(oldest_time, now_, layout_) << "\n"
         << "would create the trigger that copies new rows into it:\n  "
         << copy_trigger_statement(message_columns(db_)) << "\n";
  }
  out_ << "would copy the existing rows in chunks of " << options.chunk << " by id";
  if (options.max_chunks) {
    out_ << ", at most " << *options.max_chunks << " chunk(s) in this run";
  }
  out_ << ", then check the row counts, move the triggers of messages (" << triggers(db_).size()
       << ") and swap the tables: messages becomes " << kOld << " (kept), " << kShadow
       << " becomes messages\n";
}

void MessageConversion::prepare_copy() {
  if (!db_.has_table(kShadow)) {
    db_.execute(std::string("CREATE TABLE ") + kShadow + " LIKE messages");
  }
  if (read_partitions(db_, kShadow).kind == Partitioning::none) {
    std::optional<UtcTime> oldest;
    if (const auto text = db_.query_value("SELECT MIN(received_at) FROM messages")) {
      oldest = parse_time_arg(*text, "oldest message", now_);
    }
    // Empty, so this is quick; the copy then fills every partition directly.
    db_.execute(std::string("ALTER TABLE ") + kShadow +
                " DROP PRIMARY KEY, ADD PRIMARY KEY (id, received_at) " +
                partition_clause(oldest, now_, layout_));
  }
  if (!has_trigger(db_, kCopyTrigger)) {
    db_.execute(copy_trigger_statement(message_columns(db_)));
  }
  // Every row with an id up to the greatest one now existed before the
  // trigger (creating it waited for the writers of messages to commit);
  // those after it are copied by the trigger.
  db_.execute(
      "INSERT IGNORE INTO messages_conversion "
      "(id, high_water_id, copied_up_to, started_at, updated_at) "
      "SELECT 1, COALESCE(MAX(id), 0), 0, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) FROM messages");
}

bool MessageConversion::copy(const ConversionOptions& options) {
  const std::vector<std::string> columns = message_columns(db_);
  const std::string list = joined(columns, "");
  db_.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
  const db::Row state =
      db_.query("SELECT copied_up_to, high_water_id FROM messages_conversion").at(0);
  std::uint64_t copied_up_to = number(state.at(0));
  const std::uint64_t high_water = number(state.at(1));
  db::Statement next_end =
      db_.prepare("SELECT id FROM messages WHERE id > ? ORDER BY id LIMIT 1 OFFSET " +
                  std::to_string(options.chunk - 1));
  db::Statement copy_chunk =
      db_.prepare(std::string("INSERT IGNORE INTO ") + kShadow + " (" + list + ") SELECT " + list +
                  " FROM messages WHERE id > ? AND id <= ?");
  db::Statement record =
      db_.prepare("UPDATE messages_conversion SET copied_up_to = ?, updated_at = UTC_TIMESTAMP(6)");

  std::uint64_t chunks = 0;
  std::uint64_t rows = 0;
  auto last_report = std::chrono::steady_clock::now();
  while (copied_up_to < high_water) {
    if (options.max_chunks && chunks >= *options.max_chunks) {
      out_ << "copied " << rows << " row(s) in " << chunks << " chunk(s), ids up to "
           << copied_up_to << " of " << high_water
           << "; run statesink partitions convert again to go on\n";
      return false;
    }
    const db::Param from[] = {copied_up_to};
    const std::vector<db::Row> end_row = next_end.query(from);
    const std::uint64_t end =
        end_row.empty() ? high_water : std::min(high_water, number(end_row.at(0).at(0)));
    db::Transaction transaction(db_);
    const db::Param range[] = {copied_up_to, end};
    rows += copy_chunk.execute(range);
    const db::Param done[] = {end};
    record.execute(done);
    transaction.commit();
    copied_up_to = end;
    ++chunks;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_report >= std::chrono::seconds(10)) {
      last_report = now;
      err_ << "statesink: copied ids up to " << copied_up_to << " of " << high_water << "\n";
    }
  }
  out_ << "copied " << rows << " row(s) in " << chunks << " chunk(s); every id up to " << high_water
       << " is in " << kShadow << "\n";
  return true;
}

void MessageConversion::verify() {
  // One snapshot sees each insert in both tables or in neither: the copy
  // trigger runs in the inserting transaction.
  db_.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
  db_.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT");
  const std::uint64_t live = number(db_.query_value("SELECT COUNT(*) FROM messages"));
  const std::uint64_t shadow =
      number(db_.query_value(std::string("SELECT COUNT(*) FROM ") + kShadow));
  db_.execute("COMMIT");
  if (live != shadow) {
    throw std::runtime_error("messages holds " + std::to_string(live) + " row(s) but " + kShadow +
                             " " + std::to_string(shadow) +
                             "; were rows deleted meanwhile? Nothing was swapped: DROP TABLE " +
                             kShadow + ", DROP TRIGGER " + kCopyTrigger +
                             ", DELETE FROM messages_conversion, and convert again");
  }
  out_ << "both tables hold " << live << " row(s)\n";
}

void MessageConversion::save_triggers() {
  if (db_.query_value("SELECT COUNT(*) FROM messages_conversion_triggers").value_or("0") != "0") {
    return;
  }
  db::Transaction transaction(db_);
  for (const db::Row& row :
       db_.query("SELECT trigger_name, action_order FROM information_schema.triggers "
                 "WHERE trigger_schema = DATABASE() AND event_object_table = 'messages'")) {
    const std::string name = row.at(0).value_or("");
    if (name == kCopyTrigger) {
      continue;
    }
    const db::Row shown = db_.query("SHOW CREATE TRIGGER " + db::quote_identifier(name)).at(0);
    const std::string order = row.at(1).value_or("0");
    const std::string definition = shown.at(2).value_or("");
    const std::string sql_mode = shown.at(1).value_or("");
    const std::string charset = shown.at(3).value_or("utf8mb4");
    const std::string collation = shown.at(4).value_or("utf8mb4_general_ci");
    const db::Param params[] = {std::string_view(name),      std::string_view(order),
                                std::string_view(sql_mode),  std::string_view(charset),
                                std::string_view(collation), std::string_view(definition)};
    db_.execute(
        "INSERT INTO messages_conversion_triggers "
        "(name, action_order, sql_mode, character_set_client, collation_connection, definition) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        params);
  }
  transaction.commit();
}

void MessageConversion::swap(const Tables& tables) {
  if (tables.live) {
    // From here until the last rename, inserts fail with "no such table".
    db_.execute(std::string("RENAME TABLE messages TO ") + kOld);
  }
  for (const TriggerOn& t : triggers(db_)) {
    if (t.table == kOld) {
      db_.execute("DROP TRIGGER " + db::quote_identifier(t.name));
    }
  }
  const db::Row session =
      db_.query("SELECT @@SESSION.sql_mode, @@character_set_client, @@collation_connection").at(0);
  for (const db::Row& row :
       db_.query("SELECT name, sql_mode, character_set_client, collation_connection, definition "
                 "FROM messages_conversion_triggers ORDER BY action_order")) {
    const std::string name = row.at(0).value_or("");
    if (has_trigger(db_, name)) {
      continue;
    }
    // The trigger is parsed again, so under the settings it was created with.
    const std::string sql_mode = row.at(1).value_or("");
    const std::string charset = row.at(2).value_or("");
    const std::string collation = row.at(3).value_or("");
    const db::Param settings[] = {std::string_view(sql_mode), std::string_view(charset),
                                  std::string_view(collation)};
    db_.execute("SET SESSION sql_mode = ?, character_set_client = ?, collation_connection = ?",
                settings);
    db_.execute(retarget(row.at(4).value_or(""), name, kShadow));
  }
  const std::string sql_mode = session.at(0).value_or("");
  const std::string charset = session.at(1).value_or("utf8mb4");
  const std::string collation = session.at(2).value_or("utf8mb4_general_ci");
  const db::Param restore[] = {std::string_view(sql_mode), std::string_view(charset),
                               std::string_view(collation)};
  db_.execute("SET SESSION sql_mode = ?, character_set_client = ?, collation_connection = ?",
              restore);
  db_.execute(std::string("RENAME TABLE ") + kShadow + " TO messages");
  out_ << "swapped: messages is partitioned, with its triggers; the old table is kept as " << kOld
       << "\n";
}

void MessageConversion::finish() {
  db_.execute("DELETE FROM messages_conversion_triggers");
  db_.execute("DELETE FROM messages_conversion");
  const SplitResult split = split_ahead(db_, now_, layout_);
  if (!split.added.empty()) {
    out_ << "added " << split.added.size() << " partition(s) ahead\n";
  }
}

}  // namespace statesink::history
