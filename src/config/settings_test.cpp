#include "config/settings.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "util/error.h"

namespace statesink::config {
namespace {

SettingSources sources(std::map<std::string, std::string> env,
                       std::map<std::string, std::string> dotenv) {
  Lookup lookup = [env = std::move(env)](const std::string& name) -> std::optional<std::string> {
    if (auto it = env.find(name); it != env.end()) {
      return it->second;
    }
    return std::nullopt;
  };
  return SettingSources(lookup, std::move(dotenv));
}

TEST(Settings, FlagBeatsEnvironmentBeatsDotenvBeatsDefault) {
  auto both =
      sources({{"STATESINK_DB", "mysql://env@h/db"}}, {{"STATESINK_DB", "mysql://file@h/db"}});
  EXPECT_EQ(resolve_db_url(std::string("mysql://flag@h/db"), both).user, "flag");
  EXPECT_EQ(resolve_db_url(std::nullopt, both).user, "env");
  EXPECT_EQ(resolve_db_url(std::nullopt, sources({}, {{"STATESINK_DB", "mysql://file@h/db"}})).user,
            "file");
  DbUrl fallback = resolve_db_url(std::nullopt, sources({}, {}));
  EXPECT_EQ(fallback.redacted(), "mysql://statesink@127.0.0.1:3306/statesink");
}

TEST(Settings, SpoolDirectoryFromFlagVariableOrSystemdStateDirectory) {
  auto s = sources({{"STATESINK_SPOOL_DIR", "/env/spool"}}, {});
  EXPECT_EQ(resolve_spool_dir(std::string("/flag/spool"), s), "/flag/spool");
  EXPECT_EQ(resolve_spool_dir(std::nullopt, s), "/env/spool");

  const char* saved = std::getenv("STATE_DIRECTORY");
  const std::optional<std::string> restore =
      saved ? std::optional<std::string>(saved) : std::nullopt;
  ::unsetenv("STATE_DIRECTORY");
  EXPECT_EQ(resolve_spool_dir(std::nullopt, sources({}, {})), "spool");
  ::setenv("STATE_DIRECTORY", "/var/lib/statesink:/var/lib/other", 1);
  EXPECT_EQ(resolve_spool_dir(std::nullopt, sources({}, {})), "/var/lib/statesink/spool");
  if (restore) {
    ::setenv("STATE_DIRECTORY", restore->c_str(), 1);
  } else {
    ::unsetenv("STATE_DIRECTORY");
  }
}

TEST(Settings, EmptyEnvironmentValueStillCounts) {
  // An exported empty variable is a deliberate setting, as in docker compose.
  auto s = sources({{"STATESINK_CLIENT_ID", ""}}, {{"STATESINK_CLIENT_ID", "from-file"}});
  EXPECT_THROW(resolve_client_id(std::nullopt, s), UsageError);
}

TEST(Settings, PasswordFromUrlWinsOverVariable) {
  auto s = sources({{"STATESINK_DB_PASSWORD", "from-env"}}, {});
  EXPECT_EQ(resolve_db_url(std::string("mysql://u:in-url@h/db"), s).password, "in-url");
  EXPECT_EQ(resolve_db_url(std::string("mysql://u@h/db"), s).password, "from-env");
  auto file = sources({}, {{"STATESINK_DB_PASSWORD", "from-file"}});
  EXPECT_EQ(resolve_db_url(std::nullopt, file).password, "from-file");
}

TEST(Settings, MqttPasswordNeedsAUser) {
  auto s = sources({{"STATESINK_MQTT_PASSWORD", "pw"}}, {});
  EXPECT_EQ(resolve_mqtt_url(std::string("mqtt://ha@b"), s).password, "pw");
  EXPECT_THROW(resolve_mqtt_url(std::string("mqtt://b"), s), UsageError);
  EXPECT_EQ(resolve_mqtt_url(std::nullopt, sources({}, {})).redacted(), "mqtt://127.0.0.1:1883");
}

TEST(Settings, TopicsFromFlagsListOrDefault) {
  auto s = sources({{"STATESINK_TOPICS", " a/# , b/+/c "}}, {});
  EXPECT_EQ(resolve_topics({"x/#"}, s), std::vector<std::string>{"x/#"});
  EXPECT_EQ(resolve_topics({}, s), (std::vector<std::string>{"a/#", "b/+/c"}));
  EXPECT_EQ(resolve_topics({}, sources({}, {})), std::vector<std::string>{"homeassistant/#"});
}

TEST(Settings, CommaListsAreTrimmedAndKeepEmptyItems) {
  EXPECT_EQ(split_list("a, b ,\tc"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(split_list("one"), (std::vector<std::string>{"one"}));
  EXPECT_EQ(split_list("a,,b,"), (std::vector<std::string>{"a", "", "b", ""}));
}

TEST(Settings, MalformedTopicFiltersAreUsageErrors) {
  auto none = sources({}, {});
  for (const char* bad : {"", "a/#/b", "a#", "a/b+", "$share/g/a/#"}) {
    EXPECT_THROW(resolve_topics({bad}, none), UsageError) << bad;
  }
  EXPECT_THROW(resolve_topics({}, sources({{"STATESINK_TOPICS", "a/#,,b"}}, {})), UsageError);
  EXPECT_NO_THROW(resolve_topics({"#"}, none));
  EXPECT_NO_THROW(resolve_topics({"+/+/state"}, none));
}

TEST(Settings, ClientIdDefaultsToHostname) {
  std::string id = resolve_client_id(std::nullopt, sources({}, {}));
  EXPECT_TRUE(id.starts_with("statesink-")) << id;
  EXPECT_GT(id.size(), std::string("statesink-").size());
  EXPECT_EQ(resolve_client_id(std::string("mine"), sources({}, {})), "mine");
}

}  // namespace
}  // namespace statesink::config
