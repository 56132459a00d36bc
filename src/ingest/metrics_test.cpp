#include "ingest/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace statesink::ingest {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

TEST(Metrics, HealthyNeedsBothConnectionsAndADrainingBacklog) {
  Metrics m;
  const auto now = std::chrono::steady_clock::now();
  EXPECT_FALSE(m.healthy(now, seconds(30)));
  m.broker_connected = true;
  m.db_connected = true;
  EXPECT_TRUE(m.healthy(now, seconds(30)));  // nothing waiting

  m.backlog_records = 500;
  EXPECT_FALSE(m.healthy(now, seconds(30)));  // waiting, never committed
  m.last_commit_steady_us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  EXPECT_TRUE(m.healthy(now + seconds(10), seconds(30)));
  EXPECT_FALSE(m.healthy(now + seconds(31), seconds(30)));  // stalled

  m.db_connected = false;
  EXPECT_FALSE(m.healthy(now, seconds(30)));
}

TEST(Metrics, PrometheusTextHasTypesAndValues) {
  Metrics m;
  m.received = 12345;
  m.last_batch_micros = 2500;
  m.broker_connected = true;
  m.spool_syncs = 42;
  const std::string text = m.prometheus();
  EXPECT_THAT(text, HasSubstr("# TYPE statesink_messages_received_total counter\n"
                              "statesink_messages_received_total 12345\n"));
  EXPECT_THAT(text, HasSubstr("statesink_last_batch_seconds 0.0025\n"));
  EXPECT_THAT(text, HasSubstr("statesink_broker_connected 1\n"));
  EXPECT_THAT(text, HasSubstr("statesink_database_connected 0\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE statesink_spool_syncs_total counter\n"
                              "statesink_spool_syncs_total 42\n"));
}

TEST(Reporter, RatesComeFromTheDifferenceBetweenReadings) {
  Metrics m;
  m.received = 100;
  Reporter reporter(m);
  const auto start = std::chrono::steady_clock::now();
  m.received = 2100;
  m.inserted = 1000;
  m.backlog_records = 1100;
  m.last_batch_size = 500;
  m.last_batch_micros = 1500;
  const std::string line = reporter.line(start + seconds(10));
  EXPECT_THAT(line, HasSubstr("received 200/s"));
  EXPECT_THAT(line, HasSubstr("inserted 100/s"));
  EXPECT_THAT(line, HasSubstr("backlog 1100 messages"));
  EXPECT_THAT(line, HasSubstr("last batch 500 in 1.5 ms"));
}

}  // namespace
}  // namespace statesink::ingest
