#pragma once

// Running `statesink ingest` for a phase: starting it, knowing when it
// listens, following its progress through the table, reading its metrics,
// and clearing its traces from the broker afterwards.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "child.h"
#include "db/connection.h"
#include "harness.h"
#include "mqtt/publisher.h"

namespace statesink::bench {

// One value from the ingester's Prometheus text; nullopt when unavailable.
std::optional<double> ingest_metric(std::uint16_t port, const std::string& name);

// `db` replaces the harness's database URL when given; `topics` are its
// --topic filters.
std::unique_ptr<Child> start_ingester(const Harness& harness, const std::filesystem::path& dir,
                                      const std::string& client_id, std::size_t batch_size,
                                      std::uint16_t metrics_port,
                                      const std::vector<std::string>& extra_args = {},
                                      const std::string& db = {},
                                      const std::vector<std::string>& topics = {"#"});

// Returns once the ingester stores what is published; the highest id then.
std::uint64_t wait_until_subscribed(const Harness& harness, Child& ingester, db::Connection& c);

// Returns once `target` rows are in `messages`; throws when the ingester or
// the simulator (when given) fails, or nothing arrives for 60 s.
void wait_for_rows(Child& ingester, Child* simulate, db::Connection& c, std::uint64_t target);

// Waits until the broker has acknowledged everything `publisher` sent;
// throws at the timeout.
void drain(mqtt::Publisher& publisher, std::chrono::seconds timeout);

// Leaves the broker as the next phase needs it.
void tidy_broker(const Harness& harness, const std::string& ingest_client_id);

}  // namespace statesink::bench
