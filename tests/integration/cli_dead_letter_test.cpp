// statesink dead-letter list and replay against a real MariaDB: what the
// ingester set aside goes back into `messages` with its exact bytes, through
// the trigger, exactly once; what is still refused stays in the file.
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli_fixture.h"
#include "ingest/dead_letter.h"

namespace statesink::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSpool = "5b0c1d2e3f405162";
// 2024-05-01 12:00:03.512345 UTC
constexpr std::int64_t kReceivedUs = 1'714'564'803'512'345;

class DeadLetterCli : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    spool_ = work_ / "spool";
    std::filesystem::create_directories(spool_);
  }

  std::filesystem::path file() const { return spool_ / "dead-letter.jsonl"; }

  // Written by the class the ingester writes with.
  void dead_letter(std::uint64_t seq, const std::string& topic, const std::string& payload,
                   const std::string& reason = "refused by the database") {
    spool::Record r;
    r.seq = seq;
    r.received_at_us = kReceivedUs + static_cast<std::int64_t>(seq);
    r.topic = topic;
    r.payload = payload;
    r.qos = 1;
    r.retain = seq % 2 == 0;
    ingest::DeadLetterFile(file(), kSpool).write(r, reason);
  }

  // statesink dead-letter ARGS --spool-dir <spool> --db <database>
  CommandResult dead_letters(std::vector<std::string> args) {
    args.insert(args.begin(), "dead-letter");
    args.insert(args.end(), {"--spool-dir", spool_.string()});
    return run(args);
  }

  std::string file_text() const {
    std::ifstream in(file(), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  std::filesystem::path spool_;
};

const std::string kBinary("\0\x01\xff{bin", 7);

TEST_F(DeadLetterCli, ListShowsEachDeadLetterInEveryFormat) {
  dead_letter(3, "homeassistant/sensor/t/state", "21.5", "larger than allowed");
  dead_letter(8, "homeassistant/sensor/t/raw", kBinary);

  const CommandResult table = dead_letters({"list"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("homeassistant/sensor/t/state"));
  EXPECT_THAT(table.out, HasSubstr("2024-05-01 12:00:03.512348"));
  EXPECT_THAT(table.out, HasSubstr("larger than allowed"));
  EXPECT_THAT(table.out, HasSubstr("...{bin"));  // unprintable bytes as dots
  EXPECT_EQ(std::count(table.out.begin(), table.out.end(), '\n'), 2 + 2) << table.out;

  const CommandResult json = dead_letters({"list", "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto rows = nlohmann::json::parse(json.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["spool_id"], kSpool);
  EXPECT_EQ(rows[0]["seq"], 3);
  EXPECT_EQ(rows[0]["received_at"], "2024-05-01T12:00:03.512348Z");
  EXPECT_EQ(rows[0]["payload_bytes"], 4);
  EXPECT_EQ(rows[0]["payload_preview"], "21.5");
  EXPECT_EQ(rows[0]["replayed"], "no");
  EXPECT_TRUE(rows[0]["message_id"].is_null());
  EXPECT_EQ(rows[1]["seq"], 8);
  EXPECT_EQ(rows[1]["payload_bytes"], 7);

  const CommandResult csv = dead_letters({"list", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(csv.out, HasSubstr("spool_id,seq,received_at,topic,payload_bytes,payload_preview,"
                                 "reason,replayed,message_id\r\n"));
  EXPECT_THAT(csv.out,
              HasSubstr(std::string(kSpool) +
                        ",3,2024-05-01 12:00:03.512348,"
                        "homeassistant/sensor/t/state,4,21.5,larger than allowed,no,\r\n"));

  ASSERT_EQ(dead_letters({"replay"}).exit_code, 0);
  const auto after = nlohmann::json::parse(dead_letters({"list", "--format", "json"}).out);
  EXPECT_EQ(after[0]["replayed"], "yes");
  EXPECT_EQ(after[0]["message_id"].dump() + "\n",
            sql("SELECT message_id FROM dead_letter_replays WHERE seq = 3"));
}

TEST_F(DeadLetterCli, ListWithoutTheDatabaseSaysTheReplayStateIsUnknown) {
  dead_letter(3, "homeassistant/sensor/t/state", "21.5");
  const CommandResult r =
      statesink({"dead-letter", "list", "--format", "json", "--spool-dir", spool_.string(), "--db",
                 "mysql://nobody@127.0.0.1:1/statesink?connect-timeout=2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("statesink: replay state unknown: "));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  const auto rows = nlohmann::json::parse(r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["replayed"], "unknown");
  EXPECT_EQ(rows[0]["topic"], "homeassistant/sensor/t/state");
}

TEST_F(DeadLetterCli, ListOfNoFileSaysSo) {
  const CommandResult r = dead_letters({"list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("no dead letters in "));
  EXPECT_THAT(r.out, HasSubstr("(there is no such file)"));
}

TEST_F(DeadLetterCli, ReplayInsertsTheExactMessagesOnceThroughTheTrigger) {
  dead_letter(3, "homeassistant/sensor/t/state", "21.5");
  dead_letter(8, "homeassistant/sensor/t/raw", kBinary);
  const std::string before = file_text();

  const CommandResult r = dead_letters({"replay"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("line 1 (seq 3, topic 'homeassistant/sensor/t/state'): "
                               "replayed as message "));
  EXPECT_THAT(r.out, HasSubstr("replayed 2, already replayed 0, refused 0"));
  EXPECT_EQ(r.err, "");

  EXPECT_EQ(sql("SELECT topic, HEX(payload), qos, retained, received_at FROM messages ORDER BY id"),
            "homeassistant/sensor/t/state\t32312E35\t1\t0\t2024-05-01 12:00:03.512348\n"
            "homeassistant/sensor/t/raw\t0001FF7B62696E\t1\t1\t2024-05-01 12:00:03.512353\n");
  // The trigger normalised the replayed message like any other insert.
  EXPECT_EQ(sql("SELECT f.fact, f.num_value FROM facts f JOIN states s ON f.state_id = s.id "
                "JOIN entities e ON s.entity_id = e.id "
                "WHERE e.label = 'sensor.t' AND s.label = 'state'"),
            "21.5\t21.5\n");
  EXPECT_EQ(sql("SELECT r.spool_id, r.seq, r.message_id = m.id FROM dead_letter_replays r "
                "JOIN messages m ON m.id = r.message_id ORDER BY r.seq"),
            std::string(kSpool) + "\t3\t1\n" + kSpool + "\t8\t1\n");

  // Again: nothing twice, and the file is what it was.
  const CommandResult again = dead_letters({"replay"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("already replayed as message "));
  EXPECT_THAT(again.out, HasSubstr("replayed 0, already replayed 2, refused 0"));
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages"), "2\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM facts"), "1\n");
  EXPECT_EQ(file_text(), before);
}

TEST_F(DeadLetterCli, DryRunInsertsNothing) {
  dead_letter(3, "homeassistant/sensor/t/state", "21.5");
  const CommandResult r = dead_letters({"replay", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("would be replayed (dry run)"));
  EXPECT_THAT(r.out, HasSubstr("dry run: would replay 1, already replayed 0, refused 0"));
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages"), "0\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM dead_letter_replays"), "0\n");
}

TEST_F(DeadLetterCli, StillRefusedMessagesFailTheRunAndStayInTheFile) {
  const std::uint64_t max_packet = std::stoull(sql("SELECT @@max_allowed_packet"));
  dead_letter(3, "homeassistant/sensor/big/state", std::string(max_packet + 1, 'x'));
  dead_letter(4, "homeassistant/sensor/t/state", "21.5");
  // Longer than a TEXT column holds: the server refuses the row itself.
  dead_letter(5, "homeassistant/sensor/" + std::string(70000, 'l') + "/state", "1");
  const std::string before = file_text();

  const CommandResult r = dead_letters({"replay"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("line 1 (seq 3, topic 'homeassistant/sensor/big/state'): refused "
                               "again, kept in the file: larger than the server's "
                               "max_allowed_packet allows"));
  EXPECT_THAT(r.out, HasSubstr("raise max_allowed_packet on the server"));
  EXPECT_THAT(r.out, HasSubstr("line 3 (seq 5"));
  EXPECT_THAT(r.out, HasSubstr("Data too long"));
  EXPECT_THAT(r.out, HasSubstr("replayed 1, already replayed 0, refused 2"));
  EXPECT_THAT(r.err, HasSubstr("statesink: 2 dead letter(s) refused again by the database and "
                               "kept in "));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  // The one the server took is in; the others are not, not even in part.
  EXPECT_EQ(sql("SELECT topic FROM messages"), "homeassistant/sensor/t/state\n");
  EXPECT_EQ(sql("SELECT GROUP_CONCAT(seq) FROM dead_letter_replays"), "4\n");
  EXPECT_EQ(file_text(), before);

  // Only the one that went in can be asked for and succeed.
  const CommandResult one = dead_letters({"replay", "--seq", "4"});
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_THAT(one.out, HasSubstr("replayed 0, already replayed 1, refused 0"));
}

TEST_F(DeadLetterCli, SeqReplaysOnlyTheNamedDeadLetters) {
  dead_letter(3, "homeassistant/sensor/a/state", "1");
  dead_letter(4, "homeassistant/sensor/b/state", "2");
  dead_letter(5, "homeassistant/sensor/c/state", "3");
  const CommandResult r = dead_letters({"replay", "--seq", "3", "--seq", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(sql("SELECT GROUP_CONCAT(payload ORDER BY id) FROM messages"), "1,3\n");

  const CommandResult unknown = dead_letters({"replay", "--seq", "99"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("no dead letter with seq 99 in "));
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages"), "2\n");
}

TEST_F(DeadLetterCli, OlderLinesWithoutSpoolIdOrSeqReplayOnceUnderTheDirectorysSpool) {
  std::ofstream(spool_ / "spool-id") << kSpool << "\n";
  std::ofstream(file()) << R"({"payload_base64":"MjEuNQ==","payload_bytes":4,"qos":1,)"
                        << R"("reason":"old","received_at":"2024-05-01 12:00:00.000001",)"
                        << R"("retained":true,"topic":"homeassistant/sensor/t/state"})"
                        << "\n";
  ASSERT_EQ(dead_letters({"replay"}).exit_code, 0);
  ASSERT_EQ(dead_letters({"replay"}).exit_code, 0);
  EXPECT_EQ(sql("SELECT topic, payload, retained, received_at FROM messages"),
            "homeassistant/sensor/t/state\t21.5\t1\t2024-05-01 12:00:00.000001\n");
  EXPECT_EQ(sql("SELECT spool_id, seq >= POW(2, 63) FROM dead_letter_replays"),
            std::string(kSpool) + "\t1\n");
}

TEST_F(DeadLetterCli, UnreadableLinesAreNamedAndFailTheReplay) {
  dead_letter(3, "homeassistant/sensor/t/state", "21.5");
  std::ofstream(file(), std::ios::app) << "{\"topic\": \"cut\n";
  const CommandResult r = dead_letters({"replay"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("dead-letter.jsonl line 2 cannot be read: not valid JSON"));
  EXPECT_THAT(r.err, HasSubstr("statesink: 1 line(s) of "));
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages"), "1\n");  // the good one went in
}

TEST_F(DeadLetterCli, TheIngestAccountOfTheGrantsScriptMayListAndReplay) {
  std::ifstream in(std::filesystem::path(STATESINK_SOURCE_DIR) / "sql" / "grants.sql");
  std::string grants{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const std::string placeholder = "CHANGE_ME_ingest_password";
  ASSERT_NE(grants.find(placeholder), std::string::npos);
  grants.replace(grants.find(placeholder), placeholder.size(), "ingest-secret");
  sql(grants);
  dead_letter(3, "homeassistant/sensor/t/state", "21.5");
  const std::string ingest = "mysql://statesink_ingest:ingest-secret@127.0.0.1:" +
                             std::to_string(servers().mariadb.port()) + "/" + database_;

  const CommandResult r =
      statesink({"dead-letter", "replay", "--spool-dir", spool_.string(), "--db", ingest});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const CommandResult list = statesink(
      {"dead-letter", "list", "--format", "json", "--spool-dir", spool_.string(), "--db", ingest});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.err, "");
  EXPECT_EQ(nlohmann::json::parse(list.out)[0]["replayed"], "yes");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM messages"), "1\n");
}

TEST_F(DeadLetterCli, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"dead-letter"},
        std::vector<std::string>{"dead-letter", "list", "--format", "xml"},
        std::vector<std::string>{"dead-letter", "replay", "--seq", "abc"},
        std::vector<std::string>{"dead-letter", "replay", "--prune-everything"},
        std::vector<std::string>{"dead-letter", "replay", "--db", "postgres://x/y"}}) {
    const CommandResult r = statesink(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("statesink: ")) << args.back();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

}  // namespace
}  // namespace statesink::testing
