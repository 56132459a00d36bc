#include "ceiling.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

#include "database.h"
#include "db/connection.h"
#include "db/statement.h"
#include "timing.h"
#include "util/sql_time.h"

namespace statesink::bench {

DirectRun run_direct(const Harness& harness, const std::string& name,
                     std::size_t rows_per_statement, std::size_t messages, Normalise normalise,
                     const Background& background) {
  empty_tables(harness.db_url());
  std::jthread beside;
  if (background) beside = std::jthread(background);
  db::Connection c = harness.connect();
  std::string sql = "INSERT INTO messages (topic, payload, qos, retained, received_at) VALUES ";
  for (std::size_t i = 0; i < rows_per_statement; ++i)
    sql += i == 0 ? "(?,?,?,?,?)" : ",(?,?,?,?,?)";
  db::Statement full = c.prepare(sql);

  DirectRun r;
  r.name = name;
  r.rows_per_statement = rows_per_statement;
  r.set_based = normalise == Normalise::set_based;
  r.messages = messages;
  const std::vector<simulate::Message>& stream = harness.messages();
  std::vector<db::Param> params;
  std::vector<std::string> times;
  const CpuSample before = harness.cpu(-1);
  const double client_before = self_cpu_seconds();
  const auto start = Clock::now();
  for (std::size_t done = 0; done < messages;) {
    const std::size_t rows = std::min(rows_per_statement, messages - done);
    // Reception times as the ingester would stamp them: now, in order.
    const std::int64_t stamp = now_micros();
    times.clear();
    for (std::size_t i = 0; i < rows; ++i) {
      times.push_back(format_sql_datetime_us(stamp + static_cast<std::int64_t>(i)));
    }
    params.clear();
    for (std::size_t i = 0; i < rows; ++i) {
      const simulate::Message& m = stream[done + i];
      params.emplace_back(std::string_view(m.topic));
      params.emplace_back(db::Blob{m.payload});
      params.emplace_back(std::int64_t{simulate::kQos});
      // A live delivery reaches a subscriber with RETAIN=0, as in the end-to-end runs.
      params.emplace_back(std::int64_t{0});
      params.emplace_back(std::string_view(times[i]));
    }
    std::optional<db::Transaction> transaction;
    if (r.set_based) {
      transaction.emplace(c);
      c.execute("SET @statesink_batch_ids = ''");
    }
    if (rows == rows_per_statement) {
      full.execute(params);
    } else {
      std::string tail_sql =
          "INSERT INTO messages (topic, payload, qos, retained, received_at) VALUES ";
      for (std::size_t i = 0; i < rows; ++i) tail_sql += i == 0 ? "(?,?,?,?,?)" : ",(?,?,?,?,?)";
      c.execute(tail_sql, params);
    }
    if (transaction) {
      c.execute("CALL normalise_batch()");
      transaction->commit();
    }
    done += rows;
  }
  r.seconds = seconds_since(start);
  const CpuSample after = harness.cpu(-1);
  if (beside.joinable()) {
    beside.request_stop();
    beside.join();
  }
  r.client_cpu = self_cpu_seconds() - client_before;
  r.mariadbd_cpu = delta(before.mariadbd, after.mariadbd);
  r.rate = static_cast<double>(messages) / r.seconds;
  const std::uint64_t stored = count_rows(c, "messages");
  if (stored != messages) {
    throw std::runtime_error(name + ": " + std::to_string(stored) + " rows in messages, expected " +
                             std::to_string(messages));
  }
  r.facts = count_rows(c, "facts");
  return r;
}

}  // namespace statesink::bench
