#include "config/url.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace statesink::config {
namespace {

std::string usage_error(std::string_view url, bool mqtt = false) {
  try {
    if (mqtt) {
      parse_mqtt_url(url);
    } else {
      parse_db_url(url);
    }
  } catch (const UsageError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(DbUrl, FullFormParsesEveryPart) {
  DbUrl url = parse_db_url("mysql://ingest:s3cret@db.example:3307/homes?ssl-mode=required");
  EXPECT_EQ(url.user, "ingest");
  EXPECT_EQ(url.password, "s3cret");
  EXPECT_EQ(url.host, "db.example");
  EXPECT_EQ(url.port, 3307);
  EXPECT_EQ(url.database, "homes");
  EXPECT_EQ(url.options.at("ssl-mode"), "REQUIRED");
}

TEST(DbUrl, DefaultsFillMissingParts) {
  DbUrl url = parse_db_url("mariadb://localhost");
  EXPECT_EQ(url.user, "statesink");
  EXPECT_EQ(url.password, "");
  EXPECT_EQ(url.port, 3306);
  EXPECT_EQ(url.database, "statesink");
}

TEST(DbUrl, PercentEscapesAreDecoded) {
  DbUrl url = parse_db_url("mysql://a%40b:p%3Aw%2Fd%25@h/d%20b");
  EXPECT_EQ(url.user, "a@b");
  EXPECT_EQ(url.password, "p:w/d%");
  EXPECT_EQ(url.database, "d b");
}

TEST(DbUrl, UnencodedAtInPasswordUsesLastAt) {
  DbUrl url = parse_db_url("mysql://u:p@ss@host/db");
  EXPECT_EQ(url.password, "p@ss");
  EXPECT_EQ(url.host, "host");
}

TEST(DbUrl, Ipv6HostInBrackets) {
  DbUrl url = parse_db_url("mysql://u@[::1]:3310/db");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 3310);
  EXPECT_EQ(url.redacted(), "mysql://u@[::1]:3310/db");
}

TEST(DbUrl, SocketAndTimeoutOptions) {
  DbUrl url = parse_db_url("mysql://u@localhost/db?socket=%2Frun%2Fm.sock&connect-timeout=5");
  EXPECT_EQ(url.options.at("socket"), "/run/m.sock");
  EXPECT_EQ(url.options.at("connect-timeout"), "5");
}

TEST(DbUrl, MalformedUrlsSayWhatIsWrong) {
  EXPECT_NE(usage_error("postgres://h/db").find("scheme 'postgres'"), std::string::npos);
  EXPECT_NE(usage_error("h:3306/db").find("no scheme"), std::string::npos);
  EXPECT_NE(usage_error("mysql://h:99999/db").find("port '99999'"), std::string::npos);
  EXPECT_NE(usage_error("mysql://h:/db").find("empty port"), std::string::npos);
  EXPECT_NE(usage_error("mysql:///db").find("no host"), std::string::npos);
  EXPECT_NE(usage_error("mysql://h/db?colour=red").find("unknown option 'colour'"),
            std::string::npos);
  EXPECT_NE(usage_error("mysql://h/db?ssl-mode=maybe").find("ssl-mode"), std::string::npos);
  EXPECT_NE(usage_error("mysql://h/db?ssl-ca=a&ssl-ca=b").find("twice"), std::string::npos);
  EXPECT_NE(usage_error("mysql://h/db?read-timeout=0").find("read-timeout"), std::string::npos);
  EXPECT_NE(usage_error("mysql://h/a/b").find("database name"), std::string::npos);
  EXPECT_NE(usage_error("mysql://[::1/db").find("IPv6"), std::string::npos);
}

TEST(DbUrl, ExpectedShapeSurvivesRedaction) {
  // Error lines pass through redact_urls; the example must stay readable.
  for (const auto& message : {usage_error("h:3306/db"), usage_error("h:1883", true)}) {
    EXPECT_EQ(redact_urls(message), message);
    EXPECT_NE(message.find("user:password@"), std::string::npos) << message;
  }
}

TEST(DbUrl, ErrorsNeverRepeatThePassword) {
  for (const char* url : {"mysql://u:hunter2@h:0/db", "mysql://u:hunter2%zz@h/db",
                          "mysql://u:hunter2@h/db?x=1", "mysql://u:hunter2@/db"}) {
    std::string message = usage_error(url);
    EXPECT_NE(message, "(no error)") << url;
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  }
}

TEST(DbUrl, RedactedHidesPasswordAndRoundTrips) {
  DbUrl url = parse_db_url("mysql://u:top%20secret@h:3307/db?ssl-ca=%2Fetc%2Fca.pem");
  std::string shown = url.redacted();
  EXPECT_EQ(shown, "mysql://u:***@h:3307/db?ssl-ca=%2Fetc%2Fca.pem");
  DbUrl again = parse_db_url(shown);
  EXPECT_EQ(again.options, url.options);
  EXPECT_EQ(parse_db_url("mysql://u@h/db").redacted(), "mysql://u@h:3306/db");
}

TEST(DbUrl, SeveralHostsInOrderEachWithItsPort) {
  DbUrl url = parse_db_url("mysql://u:pw@n1:3307,n2,[::1]:3309/db?connect-timeout=2");
  const std::vector<DbHost> expected = {
      {"n1", 3307, false}, {"n2", 3306, false}, {"::1", 3309, true}};
  EXPECT_EQ(url.hosts, expected);
  EXPECT_EQ(url.host, "n1");
  EXPECT_EQ(url.port, 3307);
  EXPECT_EQ(url.host_count(), 3U);
  EXPECT_EQ(url.redacted(), "mysql://u:***@n1:3307,n2:3306,[::1]:3309/db?connect-timeout=2");
  EXPECT_EQ(parse_db_url(url.redacted()).hosts, expected);
  const DbUrl second = url.only_host(1);
  EXPECT_EQ(second.host, "n2");
  EXPECT_EQ(second.host_count(), 1U);
  EXPECT_EQ(second.redacted(), "mysql://u:***@n2:3306/db?connect-timeout=2");
  EXPECT_EQ(second.password, "pw");
}

TEST(DbUrl, AnEmptyHostInTheListIsAnError) {
  EXPECT_NE(usage_error("mysql://n1,,n2/db").find("no host"), std::string::npos);
  EXPECT_NE(usage_error("mysql://n1:3306,/db").find("no host"), std::string::npos);
}

TEST(MqttUrl, OneBrokerOnly) {
  EXPECT_NE(usage_error("mqtt://b1,b2", true).find("several hosts"), std::string::npos);
}

TEST(MqttUrl, PlainAndTlsDefaults) {
  MqttUrl plain = parse_mqtt_url("mqtt://broker");
  EXPECT_FALSE(plain.tls);
  EXPECT_EQ(plain.port, 1883);
  EXPECT_EQ(plain.user, "");
  MqttUrl tls = parse_mqtt_url("mqtts://ha:pw@broker?ca=%2Fca.pem&insecure=false");
  EXPECT_TRUE(tls.tls);
  EXPECT_EQ(tls.port, 8883);
  EXPECT_EQ(tls.user, "ha");
  EXPECT_EQ(tls.password, "pw");
  EXPECT_EQ(tls.options.at("ca"), "/ca.pem");
  EXPECT_EQ(tls.redacted(), "mqtts://ha:***@broker:8883?ca=%2Fca.pem&insecure=false");
}

TEST(MqttUrl, MalformedUrls) {
  EXPECT_NE(usage_error("http://broker", true).find("scheme 'http'"), std::string::npos);
  EXPECT_NE(usage_error("mqtt://broker/homeassistant", true).find("--topic"), std::string::npos);
  EXPECT_NE(usage_error("mqtt://broker?ca=x", true).find("mqtts://"), std::string::npos);
  EXPECT_NE(usage_error("mqtts://broker?insecure=yes", true).find("insecure"), std::string::npos);
  EXPECT_NE(usage_error("mqtt://:pw@broker", true).find("without a user"), std::string::npos);
}

TEST(RedactUrls, ReplacesPasswordsInProse) {
  EXPECT_EQ(redact_urls("cannot reach mysql://u:pw@h:3306/db now"),
            "cannot reach mysql://u:***@h:3306/db now");
  EXPECT_EQ(redact_urls("a 'mqtt://x:y@b' and mqtts://c:d@e?ca=1"),
            "a 'mqtt://x:***@b' and mqtts://c:***@e?ca=1");
  EXPECT_EQ(redact_urls("no password mysql://u@h/db"), "no password mysql://u@h/db");
  EXPECT_EQ(redact_urls("http://host:8080/x"), "http://host:8080/x");
  EXPECT_EQ(redact_urls("trailing ://"), "trailing ://");
  EXPECT_EQ(redact_urls("mysql://u:p@ss@h/db"), "mysql://u:***@h/db");
}

}  // namespace
}  // namespace statesink::config

namespace statesink::config {
namespace {

TEST(UrlRoundTrip, PercentEncodedHostStaysOneHost) {
  const DbUrl db = parse_db_url("mysql://a%40b");
  EXPECT_EQ(db.host, "a@b");
  const DbUrl again = parse_db_url(db.redacted());
  EXPECT_EQ(again.host, "a@b");
  EXPECT_EQ(again.user, "statesink");

  const MqttUrl mqtt = parse_mqtt_url("mqtt://a%2Fb");
  EXPECT_EQ(mqtt.host, "a/b");
  EXPECT_EQ(parse_mqtt_url(mqtt.redacted()).host, "a/b");
}

TEST(UrlRoundTrip, ColonInAnEncodedHostIsNotTakenForIpv6) {
  const DbUrl db = parse_db_url("mysql://a%3Ab:3307/x");
  const DbUrl again = parse_db_url(db.redacted());
  EXPECT_EQ(again.host, "a:b");
  EXPECT_EQ(again.port, 3307);
  EXPECT_EQ(parse_db_url("mysql://[fe80::1]/x").redacted(), "mysql://statesink@[fe80::1]:3306/x");
}

TEST(RedactUrls, ManySchemeMarkersInARow) {
  std::string text;
  for (int i = 0; i < 300000; ++i) {
    text += "://";
  }
  EXPECT_EQ(redact_urls(text), text);
  EXPECT_EQ(redact_urls(text + " mysql://u:pw@h"), text + " mysql://u:***@h");
}

TEST(RedactUrls, AnAtBeforeTheAuthorityIsNotUsed) {
  EXPECT_EQ(redact_urls("me@x said mysql://u:pw/db"), "me@x said mysql://u:pw/db");
  EXPECT_EQ(redact_urls("a@b mysql://h:1 c:d@e"), "a@b mysql://h:1 c:d@e");
}

}  // namespace
}  // namespace statesink::config
