// statesink statistics against a real MariaDB: facts made by the trigger from
// plain INSERTs into messages, and every row of statistics_5min and
// statistics_hourly compared with a computation of its own in this file, done
// bucket by bucket the slow way over the facts read back from the database.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>

#include "cli_fixture.h"
#include "source_files.h"

namespace statesink::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

using Micros = std::int64_t;
constexpr Micros kSecond = 1000000;
constexpr Micros k5Min = 300 * kSecond;
constexpr Micros kHour = 3600 * kSecond;

// "2024-05-01 12:00:03[.512345]" as microseconds since 1970, UTC.
Micros micros_of(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char fraction[8] = "";
  const int got =
      std::sscanf(text.c_str(), "%d-%d-%d %d:%d:%d.%6[0-9]", &y, &mo, &d, &h, &mi, &s, fraction);
  EXPECT_GE(got, 6) << text;
  std::string digits = fraction;
  digits.resize(6, '0');
  const auto day = std::chrono::sys_days{std::chrono::year{y} / std::chrono::month(unsigned(mo)) /
                                         std::chrono::day(unsigned(d))};
  return std::chrono::duration_cast<std::chrono::microseconds>(day.time_since_epoch()).count() +
         ((h * 60LL + mi) * 60 + s) * kSecond + std::stoll(digits);
}

std::vector<std::vector<std::string>> table_of(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::istringstream cells_in(line);
    for (std::string cell; std::getline(cells_in, cell, '\t');) {
      cells.push_back(cell);
    }
    rows.push_back(cells);
  }
  return rows;
}

struct Fact {
  Micros at;
  std::optional<double> value;
};

struct Stat {
  std::uint32_t state = 0;
  Micros bucket = 0;
  std::uint32_t samples = 0;
  double min = 0, max = 0;
  std::optional<double> mean;
  double first = 0, last = 0, covered = 0;
};

std::string describe(const Stat& s) {
  std::ostringstream out;
  out.precision(12);
  out << "state " << s.state << " bucket " << s.bucket / kSecond << " samples " << s.samples
      << " min " << s.min << " max " << s.max << " mean " << s.mean.value_or(NAN) << " first "
      << s.first << " last " << s.last << " covered " << s.covered;
  return out.str();
}

bool near(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b)); }

bool same(const Stat& a, const Stat& b) {
  return a.state == b.state && a.bucket == b.bucket && a.samples == b.samples &&
         near(a.min, b.min) && near(a.max, b.max) && a.mean.has_value() == b.mean.has_value() &&
         (!a.mean || near(*a.mean, *b.mean)) && near(a.first, b.first) && near(a.last, b.last) &&
         near(a.covered, b.covered);
}

// The value of the last fact at or before `t` (facts in order of time and id),
// or nothing when none is or it is not a number.
std::optional<double> value_at(const std::vector<Fact>& facts, Micros t) {
  std::optional<double> value;
  for (const Fact& f : facts) {
    if (f.at > t) break;
    value = f.value;
  }
  return value;
}

// One bucket, the slow way: the values the state took (the one in force when
// the bucket starts, unless a fact replaces it at that instant, then every
// numeric fact in it), and the time-weighted mean integrated piece by piece
// between every fact time.
std::optional<Stat> expected_bucket(std::uint32_t state, const std::vector<Fact>& facts,
                                    Micros start, Micros width) {
  const Micros end = start + width;
  std::optional<double> before;
  bool fact_at_start = false;
  std::vector<double> taken;
  std::vector<Micros> points = {start, end};
  Stat s;
  for (const Fact& f : facts) {
    if (f.at < start) before = f.value;
    if (f.at == start) fact_at_start = true;
  }
  if (before && !fact_at_start) taken.push_back(*before);
  for (const Fact& f : facts) {
    if (f.at >= start && f.at < end) {
      points.push_back(f.at);
      if (f.value) {
        taken.push_back(*f.value);
        ++s.samples;
      }
    }
  }
  if (taken.empty()) return std::nullopt;
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  double weighted = 0;
  Micros covered = 0;
  for (std::size_t i = 0; i + 1 < points.size(); ++i) {
    if (const auto v = value_at(facts, points[i])) {
      weighted += *v * static_cast<double>(points[i + 1] - points[i]);
      covered += points[i + 1] - points[i];
    }
  }
  s.state = state;
  s.bucket = start;
  s.min = *std::min_element(taken.begin(), taken.end());
  s.max = *std::max_element(taken.begin(), taken.end());
  s.first = taken.front();
  s.last = taken.back();
  s.covered = static_cast<double>(covered) / kSecond;
  if (covered > 0) {
    s.mean = weighted / static_cast<double>(covered);
  } else {
    double sum = 0;
    for (double v : taken) sum += v;
    s.mean = sum / static_cast<double>(taken.size());
  }
  return s;
}

Micros floor_to(Micros t, Micros width) { return t - ((t % width) + width) % width; }

class StatisticsCli : public CliTest {
 protected:
  // Runs statesink in a zone with daylight saving time: nothing may shift.
  CommandResult statistics(std::vector<std::string> args) {
    args.insert(args.begin(), {servers().statesink.string(), "statistics"});
    args.insert(args.end(), {"--db", url_});
    Process::Options options;
    options.cwd = work_;
    options.unset_env = {"STATESINK_DB", "STATESINK_DB_PASSWORD"};
    options.env = {{"TZ", "Europe/Berlin"}};
    return run_command(args, options);
  }

  void update() {
    const CommandResult r = statistics({"update", "--settle", "0s"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  void add(const std::string& topic, const std::vector<std::pair<std::string, std::string>>& at) {
    std::vector<Message> messages;
    for (const auto& [time, payload] : at) {
      messages.push_back({"homeassistant/" + topic + "/state", payload, "'" + time + "'"});
    }
    insert(messages);
  }

  // Every series ends unavailable, so that no value is still in force now
  // and the tables hold a bounded number of rows.
  void load() {
    // Readings across an hour, a day and a month boundary (UTC), with an
    // unavailable stretch in the middle, a fact exactly on a bucket start, and
    // a number replaced within the same microsecond.
    add("sensor/temperature", {{"2024-05-31 22:41:07.250000", "18.5"},
                               {"2024-05-31 22:44:59.999999", "19"},
                               {"2024-05-31 22:50:00", "19.25"},
                               {"2024-05-31 23:03:10", "unavailable"},
                               {"2024-05-31 23:15:00", "17"},
                               {"2024-05-31 23:58:30", "16.5"},
                               {"2024-06-01 00:00:00", "16"},
                               {"2024-06-01 00:07:00", "-3e1"},
                               {"2024-06-01 00:07:00.000001", "unknown"},
                               {"2024-06-01 00:07:00.000001", "12"},
                               {"2024-06-01 00:20:00", "12.5"},
                               {"2024-06-01 01:10:00", "unavailable"}});
    // One value holding for a day and a half.
    add("sensor/steady", {{"2024-05-30 10:02:17", "5.5"}, {"2024-06-01 00:31:00", "unavailable"}});
    // on/off: the mean is the fraction of time on.
    add("binary_sensor/door", {{"2024-05-31 23:00:00", "off"},
                               {"2024-05-31 23:01:30", "on"},
                               {"2024-05-31 23:02:00", "off"},
                               {"2024-05-31 23:59:00", "on"},
                               {"2024-06-01 00:02:00", "unavailable"}});
    // Across the change to summer time (01:00 UTC) and back (01:00 UTC) in
    // Europe/Berlin, where statesink runs in these tests.
    add("sensor/dst", {{"2024-03-31 00:48:00", "1"},
                       {"2024-03-31 01:00:00", "2"},
                       {"2024-03-31 01:58:00", "3"},
                       {"2024-03-31 02:30:00", "unavailable"},
                       {"2024-10-27 00:31:00", "4"},
                       {"2024-10-27 01:01:00", "5"},
                       {"2024-10-27 02:02:00", "unavailable"}});
    // Text only: no statistics.
    add("climate/mode", {{"2024-05-31 23:00:00", "eco"}, {"2024-05-31 23:30:00", "comfort"}});
  }

  std::map<std::uint32_t, std::vector<Fact>> facts() {
    std::map<std::uint32_t, std::vector<Fact>> by_state;
    // Facts count at their event time (happened_at: Home Assistant's
    // last_updated where given, else the reception time).
    for (const auto& row : table_of(sql("SELECT state_id, happened_at, num_value FROM facts "
                                        "ORDER BY state_id, happened_at, id"))) {
      Fact f{micros_of(row.at(1)), std::nullopt};
      if (row.at(2) != "NULL") f.value = std::stod(row.at(2));
      by_state[static_cast<std::uint32_t>(std::stoul(row.at(0)))].push_back(f);
    }
    return by_state;
  }

  // Every row the table should hold for buckets in [from, to).
  std::vector<Stat> expected(Micros width, Micros from, Micros to) {
    std::vector<Stat> rows;
    for (const auto& [state, list] : facts()) {
      EXPECT_FALSE(list.back().value) << "state " << state << " must end without a number";
      const Micros first = std::max(from, floor_to(list.front().at, width));
      const Micros last = std::min(to, floor_to(list.back().at, width) + width);
      for (Micros b = first; b < last; b += width) {
        if (auto s = expected_bucket(state, list, b, width)) rows.push_back(*s);
      }
    }
    return rows;
  }

  std::vector<Stat> actual(const std::string& table, Micros from, Micros to) {
    std::vector<Stat> rows;
    for (const auto& row :
         table_of(sql("SELECT state_id, TIMESTAMPDIFF(SECOND, '1970-01-01', bucket_start), "
                      "samples, min_value, max_value, "
                      "mean_value, first_value, last_value, covered_seconds FROM " +
                      table + " ORDER BY state_id, bucket_start"))) {
      Stat s;
      s.state = static_cast<std::uint32_t>(std::stoul(row.at(0)));
      s.bucket = std::stoll(row.at(1)) * kSecond;
      if (s.bucket < from || s.bucket >= to) continue;
      s.samples = static_cast<std::uint32_t>(std::stoul(row.at(2)));
      s.min = std::stod(row.at(3));
      s.max = std::stod(row.at(4));
      if (row.at(5) != "NULL") s.mean = std::stod(row.at(5));
      s.first = std::stod(row.at(6));
      s.last = std::stod(row.at(7));
      s.covered = std::stod(row.at(8));
      rows.push_back(s);
    }
    return rows;
  }

  // Compares one table over [from, to) and says how many rows matched.
  std::size_t check(const std::string& table, Micros width, Micros from = INT64_MIN / 2,
                    Micros to = INT64_MAX / 2) {
    const std::vector<Stat> want = expected(width, from, to);
    const std::vector<Stat> got = actual(table, from, to);
    EXPECT_EQ(got.size(), want.size()) << table;
    for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
      EXPECT_TRUE(same(got[i], want[i])) << table << " row " << i << "\n got:  " << describe(got[i])
                                         << "\n want: " << describe(want[i]);
      if (!same(got[i], want[i])) break;
    }
    return want.size();
  }

  void check_both() {
    EXPECT_GT(check("statistics_5min", k5Min), 500u);
    EXPECT_GT(check("statistics_hourly", kHour), 40u);
  }

  std::string snapshot() {
    return sql(
        "SELECT * FROM statistics_5min ORDER BY state_id, bucket_start; "
        "SELECT * FROM statistics_hourly ORDER BY state_id, bucket_start; "
        "SELECT granularity, last_fact_id FROM statistics_progress "
        "ORDER BY granularity");
  }

  std::string state_of(const std::string& entity) {
    const std::string id =
        sql("SELECT s.id FROM states s JOIN entities e ON e.id = s.entity_id WHERE e.label = '" +
            entity + "' AND s.label = 'state'");
    return id.substr(0, id.size() - 1);
  }
};

TEST_F(StatisticsCli, UpdateMatchesAnIndependentComputationAndTwiceChangesNothing) {
  load();
  const CommandResult r = statistics({"update", "--settle", "0s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, MatchesRegex("statistics_5min complete up to [0-9-]+ [0-9:]+ UTC \\(.*\\); "
                                  "statistics_hourly complete up to .* [0-9.]+ s\n"));
  check_both();

  // Spot checks of what the comparison above relies on.
  const std::string steady = state_of("sensor.steady");
  // 10:02:17 on the 30th to 00:31 on the 2nd day after: every bucket between has a row.
  EXPECT_EQ(sql("SELECT COUNT(*), SUM(samples), MIN(mean_value), MAX(mean_value) FROM "
                "statistics_hourly WHERE state_id = " +
                steady),
            "39\t1\t5.5\t5.5\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM statistics_5min WHERE state_id = " + steady), "463\n");
  // The door was on from 23:01:30 to 23:02:00 in the 23:00 bucket: 30 s of 300.
  EXPECT_EQ(sql("SELECT mean_value FROM statistics_5min WHERE state_id = " +
                state_of("binary_sensor.door") + " AND bucket_start = '2024-05-31 23:00:00'"),
            "0.1\n");
  // Text states have no statistics.
  EXPECT_EQ(
      sql("SELECT COUNT(*) FROM statistics_5min WHERE state_id = " + state_of("climate.mode")),
      "0\n");
  // DST: hourly buckets on the UTC hour on both days, none shifted.
  EXPECT_EQ(sql("SELECT GROUP_CONCAT(DATE_FORMAT(bucket_start, '%m-%d %H:%i') ORDER BY "
                "bucket_start) FROM statistics_hourly WHERE state_id = " +
                state_of("sensor.dst")),
            "03-31 00:00,03-31 01:00,03-31 02:00,10-27 00:00,10-27 01:00,10-27 02:00\n");

  const std::string before = snapshot();
  const CommandResult again = statistics({"update", "--settle", "0s"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(snapshot(), before);
  // Nothing new: the first run's facts are not taken for late ones.
  EXPECT_THAT(again.out, HasSubstr("(0 new fact(s), 0 range(s) recomputed, 0 row(s) written"));
}

TEST_F(StatisticsCli, LateAndOutOfOrderFactsRecomputeTheirBuckets) {
  load();
  update();
  const std::string steady = state_of("sensor.steady");
  // Facts older than what the tables hold, in one batch out of order: in the
  // middle of the steady value, and a state older than every fact so far.
  add("sensor/steady", {{"2024-05-31 03:03:03", "9"}, {"2024-05-31 02:00:00", "7"}});
  add("sensor/older", {{"2024-05-29 23:57:00", "100"}, {"2024-05-30 00:04:00", "unavailable"}});
  // A late "off" cutting the door's on time short.
  add("binary_sensor/door", {{"2024-05-31 23:59:30", "off"}});
  update();
  check_both();
  EXPECT_EQ(sql("SELECT last_value FROM statistics_hourly WHERE state_id = " + steady +
                " AND bucket_start = '2024-05-31 12:00:00'"),
            "9\n");

  const std::string before = snapshot();
  update();
  EXPECT_EQ(snapshot(), before);
}

// A backlog delivered an hour late, with Home Assistant's own times: its
// numbers go to the buckets of when they happened, not of when they arrived.
TEST_F(StatisticsCli, FactsCountAtTheirEventTime) {
  load();
  update();
  const std::string e = "homeassistant/sensor/backlog/";
  insert({{e + "state", "40", "'2024-06-01 02:00:00'"},
          {e + "last_updated", "2024-06-01T01:00:00+00:00", "'2024-06-01 02:00:00.000100'"},
          {e + "state", "60", "'2024-06-01 02:00:01'"},
          {e + "last_updated", "2024-06-01T01:30:00+00:00", "'2024-06-01 02:00:01.000100'"},
          {e + "state", "unavailable", "'2024-06-01 02:00:02'"},
          {e + "last_updated", "2024-06-01T01:45:00+00:00", "'2024-06-01 02:00:02.000100'"}});
  update();
  check_both();
  const std::string state = state_of("sensor.backlog");
  EXPECT_EQ(sql("SELECT bucket_start, samples, min_value, max_value, mean_value FROM "
                "statistics_hourly WHERE state_id = " +
                state),
            "2024-06-01 01:00:00\t2\t40\t60\t46.666666666666664\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM statistics_5min WHERE state_id = " + state +
                " AND bucket_start >= '2024-06-01 02:00:00'"),
            "0\n");
}

TEST_F(StatisticsCli, LateFactsWaitUntilTheirIdsHaveSettled) {
  load();
  ASSERT_EQ(statistics({"update"}).exit_code, 0);
  check_both();
  add("sensor/steady", {{"2024-05-31 03:03:03", "9"}});
  // Seen by the run before, but only just: not yet relied upon.
  ASSERT_EQ(statistics({"update"}).exit_code, 0);
  EXPECT_EQ(sql("SELECT MAX(max_value) FROM statistics_hourly WHERE state_id = " +
                state_of("sensor.steady")),
            "5.5\n");
  // As if the timer's next run came a minute later.
  sql("UPDATE statistics_progress SET observed_at = observed_at - INTERVAL 61 SECOND");
  ASSERT_EQ(statistics({"update"}).exit_code, 0);
  check_both();
}

TEST_F(StatisticsCli, AnInterruptedUpdateResumesFromItsProgress) {
  load();
  update();
  const std::string complete = snapshot();
  // What a crash after some transactions leaves: the progress of an earlier
  // point, rows beyond it half replaced.
  sql("UPDATE statistics_progress SET computed_until = '2024-05-31 23:00:00', "
      "last_fact_id = 3");
  sql("DELETE FROM statistics_5min WHERE bucket_start >= '2024-06-01 00:00:00'");
  sql("UPDATE statistics_hourly SET mean_value = -1 WHERE bucket_start >= '2024-05-31 23:00:00'");
  update();
  check_both();
  EXPECT_EQ(snapshot(), complete);
}

TEST_F(StatisticsCli, RebuildRecomputesOnlyTheRangeAsked) {
  load();
  update();
  sql("UPDATE statistics_5min SET mean_value = -1; UPDATE statistics_hourly SET mean_value = -1; "
      "DELETE FROM statistics_hourly WHERE bucket_start = '2024-05-31 23:00:00'; "
      "INSERT INTO statistics_5min VALUES "
      "(999999, '2024-05-31 23:10:00', 1, 1, 1, 1, 1, 1, 300)");
  const CommandResult r = statistics(
      {"rebuild", "--from", "2024-05-31T23:00:00Z", "--to", "2024-06-01T02:00:00+02:00"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("statistics rebuilt from 2024-05-31 23:00:00 UTC up to "
                               "2024-06-01 00:00:00 UTC (hourly) and 2024-06-01 00:00:00 UTC "
                               "(5-minute)"));
  const Micros from = micros_of("2024-05-31 23:00:00");
  const Micros to = micros_of("2024-06-01 00:00:00");
  EXPECT_GT(check("statistics_5min", k5Min, from, to), 20u);
  EXPECT_GT(check("statistics_hourly", kHour, from, to), 2u);
  EXPECT_EQ(sql("SELECT COUNT(*) FROM statistics_5min WHERE state_id = 999999"), "0\n");
  // Outside the range nothing was touched.
  EXPECT_EQ(sql("SELECT COUNT(*) FROM statistics_5min WHERE mean_value <> -1 AND "
                "(bucket_start < '2024-05-31 23:00:00' OR bucket_start >= '2024-06-01 00:00:00')"),
            "0\n");

  // A rebuild of everything puts every row right, and removes rows from before the oldest fact.
  sql("INSERT INTO statistics_hourly VALUES "
      "(999999, '2024-02-01 10:00:00', 1, 1, 1, 1, 1, 1, 3600)");
  ASSERT_EQ(statistics({"rebuild", "--from", "2024-01-01"}).exit_code, 0);
  check_both();
}

TEST_F(StatisticsCli, ReadyQueriesReadTheStatistics) {
  load();
  update();
  const std::string series =
      sql("SET @entity_id = 'sensor.steady', @attribute = 'state', @base_topic = NULL, "
          "@from = '2024-05-31 22:00:00', @to = '2024-06-02 00:00:00';\n" +
          read_source_file("sql/statistics_hourly_series.sql"));
  EXPECT_EQ(series,
            "2024-05-31 22:00:00\tsensor.steady\t5.5\t5.5\t5.5\t5.5\t5.5\t0\t3600\n"
            "2024-05-31 23:00:00\tsensor.steady\t5.5\t5.5\t5.5\t5.5\t5.5\t0\t3600\n"
            "2024-06-01 00:00:00\tsensor.steady\t5.5\t5.5\t5.5\t5.5\t5.5\t0\t1860\n");
  // The temperature's day: hours weighted by the time they had a number.
  const std::string daily =
      sql("SET @from = '2024-05-31 00:00:00', @to = '2024-06-01 00:00:00';\n" +
          read_source_file("sql/statistics_daily_numeric.sql"));
  const auto rows = table_of(daily);
  ASSERT_EQ(rows.size(), 2u) << daily;  // the sensors with numbers that day
  EXPECT_EQ(rows[0].at(1), "sensor.steady");
  EXPECT_EQ(rows[1].at(1), "sensor.temperature");
  double weighted = 0, covered = 0;
  for (const Stat& s : actual("statistics_hourly", micros_of("2024-05-31 00:00:00"),
                              micros_of("2024-06-01 00:00:00"))) {
    if (std::to_string(s.state) == state_of("sensor.temperature")) {
      weighted += *s.mean * s.covered;
      covered += s.covered;
    }
  }
  EXPECT_TRUE(near(std::stod(rows[1].at(3)), weighted / covered)) << daily;
}

TEST_F(StatisticsCli, UsageErrors) {
  EXPECT_EQ(statistics({"rebuild"}).exit_code, 2);
  const CommandResult r = statistics({"rebuild", "--from", "2024-06-01", "--to", "2024-05-01"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--to"));
  EXPECT_EQ(statistics({"update", "--settle", "soon"}).exit_code, 2);
}

}  // namespace
}  // namespace statesink::testing
