// Ingestion when the ingester itself dies or is stopped: SIGKILL at random
// moments of a fast stream, SIGTERM under load, and two ingesters sharing one
// stream. Every published number must be stored exactly once.
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ingest_fixture.h"

namespace statesink::testing {
namespace {

using ::testing::HasSubstr;

TEST_F(IngestTest, SigkillMidStreamThreeTimesLosesAndRepeatsNothing) {
  constexpr std::uint64_t kTotal = 20000;
  Ingester ingester = start_ingester();
  Stream stream(prefix(), 0, kTotal, name_ + "-pub");
  for (int kill = 1; kill <= 3; ++kill) {
    // Kill while messages are still arriving: after a quarter more is stored.
    ASSERT_TRUE(wait_for_rows(kTotal * kill / 5)) << read_text(ingester.log);
    ingester.process->signal(SIGKILL);
    ASSERT_EQ(ingester.process->wait(std::chrono::seconds(10)), 128 + SIGKILL);
    ingester = start_ingester();
  }
  ASSERT_TRUE(stream.finish()) << "the broker did not acknowledge every publish";
  ASSERT_TRUE(wait_for_rows(kTotal)) << read_text(ingester.log);
  // A clean stop commits anything still held; a duplicate would show now.
  ASSERT_EQ(ingester.process->stop(std::chrono::seconds(30)), 0) << read_text(ingester.log);
  expect_exactly_once(kTotal);
}

// A CA and a certificate for 127.0.0.1 signed by it, made with the openssl
// command; returns the paths of the CA file, the certificate and its key.
struct TlsFiles {
  std::filesystem::path ca, cert, key;
};

TlsFiles make_tls_files(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const TlsFiles files{dir / "ca.pem", dir / "server.pem", dir / "server.key"};
  const std::string ca_key = (dir / "ca.key").string();
  const std::string csr = (dir / "server.csr").string();
  const std::string extensions = (dir / "server.ext").string();
  std::ofstream(extensions) << "subjectAltName = IP:127.0.0.1\n";
  const std::vector<std::vector<std::string>> commands = {
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-keyout", ca_key, "-out", files.ca.string(), "-days", "2", "-subj",
       "/CN=statesink test CA"},
      {"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
       "-keyout", files.key.string(), "-out", csr, "-subj", "/CN=127.0.0.1"},
      {"openssl", "x509", "-req", "-in", csr, "-CA", files.ca.string(), "-CAkey", ca_key,
       "-CAcreateserial", "-out", files.cert.string(), "-days", "2", "-extfile", extensions},
  };
  for (const auto& command : commands) {
    const CommandResult r = run_command(command);
    if (r.exit_code != 0) {
      throw std::runtime_error("making test certificates failed: " + r.err);
    }
  }
  return files;
}

// Over TLS, reading stops at what the socket holds as well, also when
// OpenSSL holds more of it decrypted: a backlog drained through a SIGKILL,
// then a live stream, each message stored once.
TEST_F(IngestTest, OverTlsABacklogAndALiveStreamThroughASigkillAreStoredExactlyOnce) {
  constexpr std::uint64_t kBacklog = 10000;
  constexpr std::uint64_t kTotal = 20000;
  const TlsFiles tls = make_tls_files(work_ / "tls");
  const std::string tls_port = std::to_string(free_loopback_port());
  MosquittoBroker broker(
      work_ / "broker",
      MosquittoBroker::Options{{"listener " + tls_port + " 127.0.0.1", "cafile " + tls.ca.string(),
                                "certfile " + tls.cert.string(), "keyfile " + tls.key.string()}});
  broker.start();
  mqtt_url_ = "mqtts://127.0.0.1:" + tls_port + "?ca=" + tls.ca.string();
  {
    Ingester first = start_ingester();
    ASSERT_EQ(first.process->stop(), 0) << read_text(first.log);
    EXPECT_THAT(read_text(first.log), HasSubstr("connected to mqtts://127.0.0.1:" + tls_port));
  }
  {
    Stream backlog(prefix(), 0, kBacklog, name_ + "-pub1", broker.url());
    ASSERT_TRUE(backlog.finish()) << "the broker did not acknowledge every publish";
  }
  Ingester ingester = start_ingester();
  ASSERT_TRUE(wait_for_rows(kBacklog / 3)) << read_text(ingester.log);
  ingester.process->signal(SIGKILL);
  ASSERT_EQ(ingester.process->wait(std::chrono::seconds(10)), 128 + SIGKILL);
  ingester = start_ingester();
  Stream live(prefix(), kBacklog, kTotal, name_ + "-pub2", broker.url());
  ASSERT_TRUE(live.finish()) << "the broker did not acknowledge every publish";
  ASSERT_TRUE(wait_for_rows(kTotal)) << read_text(ingester.log);
  ASSERT_EQ(ingester.process->stop(std::chrono::seconds(30)), 0) << read_text(ingester.log);
  expect_exactly_once(kTotal);
}

TEST_F(IngestTest, SigtermUnderLoadExitsPromptlyAndKeepsEverything) {
  constexpr std::uint64_t kTotal = 20000;
  Ingester ingester = start_ingester();
  Stream stream(prefix(), 0, kTotal, name_ + "-pub");
  ASSERT_TRUE(wait_for_rows(kTotal / 10)) << read_text(ingester.log);
  ingester.process->signal(SIGTERM);
  // The wait's limit is a safety net for a hang, not a measurement.
  ASSERT_EQ(ingester.process->wait(std::chrono::seconds(60)), 0) << read_text(ingester.log);
  const std::string log = read_text(ingester.log);
  EXPECT_THAT(log, HasSubstr("received SIGTERM"));
  EXPECT_THAT(log, HasSubstr(" left in the spool"));
  EXPECT_THAT(log, HasSubstr(", 0 left in the spool"));
  // What it had received is all in the database: nothing was held back.
  const std::uint64_t at_exit = count();
  EXPECT_GT(at_exit, 0U);

  // The broker kept the rest for the session; the next run takes it.
  ingester = start_ingester();
  ASSERT_TRUE(stream.finish());
  ASSERT_TRUE(wait_for_rows(kTotal)) << read_text(ingester.log);
  ASSERT_EQ(ingester.process->stop(std::chrono::seconds(30)), 0);
  expect_exactly_once(kTotal);
}

TEST_F(IngestTest, TwoIngestersInAShareGroupSplitTheStream) {
  constexpr std::uint64_t kTotal = 6000;
  const std::string group = std::string("g").append(std::to_string(::getpid()));
  Ingester a = start_ingester("a", {"--share-group", group});
  Ingester b = start_ingester("b", {"--share-group", group});
  EXPECT_THAT(read_text(a.log), HasSubstr("subscribing to $share/g"));
  Stream stream(prefix(), 0, kTotal, name_ + "-pub");
  ASSERT_TRUE(stream.finish());
  ASSERT_TRUE(wait_for_rows(kTotal)) << read_text(a.log) << read_text(b.log);
  ASSERT_EQ(a.process->stop(std::chrono::seconds(30)), 0);
  ASSERT_EQ(b.process->stop(std::chrono::seconds(30)), 0);
  expect_exactly_once(kTotal);
  // Both took part: each spool has its own progress row, both well past zero.
  const std::string progress = sql("SELECT last_seq FROM ingest_progress ORDER BY last_seq");
  std::istringstream lines(progress);
  std::uint64_t first = 0;
  std::uint64_t second = 0;
  lines >> first >> second;
  EXPECT_GT(first, kTotal / 10) << progress;
  EXPECT_EQ(first + second, kTotal) << progress;
}

}  // namespace
}  // namespace statesink::testing
