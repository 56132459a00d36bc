#include "config/dotenv.h"

#include <gtest/gtest.h>

#include <fstream>

#include "util/error.h"

namespace statesink::config {
namespace {

Lookup environment(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    if (auto it = values.find(name); it != values.end()) {
      return it->second;
    }
    return std::nullopt;
  };
}

std::map<std::string, std::string> parse(std::string_view text,
                                         std::map<std::string, std::string> env = {}) {
  return parse_dotenv(text, environment(std::move(env)));
}

std::string error_of(std::string_view text) {
  try {
    parse(text);
  } catch (const UsageError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(Dotenv, PlainLinesCommentsAndExport) {
  auto values = parse(
      "# settings\n"
      "\n"
      "A=1\n"
      "export B = two words  \n"
      "C=x # comment\n"
      "D=pass#word\n"
      "E=\n"
      "  F=indented\r\n");
  EXPECT_EQ(values.at("A"), "1");
  EXPECT_EQ(values.at("B"), "two words");
  EXPECT_EQ(values.at("C"), "x");
  EXPECT_EQ(values.at("D"), "pass#word");
  EXPECT_EQ(values.at("E"), "");
  EXPECT_EQ(values.at("F"), "indented");
  EXPECT_EQ(values.size(), 6U);
}

TEST(Dotenv, SingleQuotesAreLiteral) {
  auto values = parse("A='$HOME \\n # not a comment'\nB='two\nlines'\n", {{"HOME", "/root"}});
  EXPECT_EQ(values.at("A"), "$HOME \\n # not a comment");
  EXPECT_EQ(values.at("B"), "two\nlines");
}

TEST(Dotenv, DoubleQuotesEscapeAndSpanLines) {
  auto values = parse("A=\"a\\tb\\n\\\"c\\\" \\\\ \\$x\"  # trailing\nB=\"one\ntwo\"\nC=after\n");
  EXPECT_EQ(values.at("A"), "a\tb\n\"c\" \\ $x");
  EXPECT_EQ(values.at("B"), "one\ntwo");
  EXPECT_EQ(values.at("C"), "after");
}

TEST(Dotenv, InterpolationPrefersEarlierKeysThenEnvironment) {
  auto values = parse(
      "HOST=db\n"
      "URL=mysql://${USER_NAME}@${HOST}:$PORT/x\n"
      "Q=\"${MISSING:-fallback} ${EMPTY:-e} ${EMPTY-kept} $$ ${HOST}\"\n"
      "S='${HOST}'\n",
      {{"USER_NAME", "ingest"}, {"PORT", "3306"}, {"EMPTY", ""}, {"HOST", "ignored"}});
  EXPECT_EQ(values.at("URL"), "mysql://ingest@db:3306/x");
  EXPECT_EQ(values.at("Q"), "fallback e  $ db");
  EXPECT_EQ(values.at("S"), "${HOST}");
}

TEST(Dotenv, RequiredVariableErrorUsesItsMessage) {
  std::string message = error_of("A=${NEEDED:?set the database password}\n");
  EXPECT_NE(message.find("NEEDED is required: set the database password"), std::string::npos);
}

TEST(Dotenv, ErrorsNameTheLineButNeverTheValue) {
  EXPECT_NE(error_of("A=1\nB=\"unclosed secret\n").find("line 2"), std::string::npos);
  EXPECT_EQ(error_of("A=1\nB=\"unclosed secret\n").find("secret"), std::string::npos);
  EXPECT_NE(error_of("A=1\n\n9X=1\n").find("line 3"), std::string::npos);
  EXPECT_NE(error_of("JUSTANAME\n").find("expected '='"), std::string::npos);
  EXPECT_NE(error_of("A='x' junk\n").find("after the closing quote"), std::string::npos);
  EXPECT_NE(error_of("A=${B\n").find("not closed"), std::string::npos);
  EXPECT_NE(error_of("A=${B/x}\n").find("unsupported"), std::string::npos);
}

TEST(Dotenv, LaterKeyOverridesEarlier) { EXPECT_EQ(parse("A=1\nA=2\n").at("A"), "2"); }

TEST(Dotenv, MissingFileIsEmptyAndFileErrorsNameThePath) {
  auto dir = std::filesystem::temp_directory_path() / ("dotenv_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  EXPECT_TRUE(load_dotenv(dir / "absent.env", environment({})).empty());
  { std::ofstream(dir / "bad.env") << "GOOD=1\nBAD LINE\n"; }
  try {
    load_dotenv(dir / "bad.env", environment({}));
    ADD_FAILURE() << "expected an error";
  } catch (const UsageError& error) {
    EXPECT_NE(std::string(error.what()).find("bad.env: .env line 2"), std::string::npos)
        << error.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace statesink::config

namespace statesink::config {
namespace {

TEST(DotenvLimits, DeeplyNestedDefaultsAreAUsageErrorNotAStackOverflow) {
  std::string text = "A=";
  for (int i = 0; i < 5000; ++i) {
    text += "${A-";
  }
  const std::string error = error_of(text);
  EXPECT_NE(error.find("nested ${...}"), std::string::npos) << error;
  EXPECT_NE(error.find("line 1"), std::string::npos) << error;
}

TEST(DotenvLimits, NestingWithinTheLimitStillWorks) {
  std::string text = "X=";
  for (int i = 0; i < 20; ++i) {
    text += "${UNSET" + std::to_string(i) + ":-";
  }
  text += "deep" + std::string(20, '}') + "\n";
  EXPECT_EQ(parse(text).at("X"), "deep");
}

TEST(DotenvLimits, ExponentialExpansionIsAUsageError) {
  // Each line holds the previous value ten times: 16 bytes become 1.6 GB by A8.
  std::string text = "A0=0123456789abcdef\n";
  for (int i = 1; i <= 8; ++i) {
    // Appended piece by piece: `"literal" + std::string` sets off GCC 12's
    // false -Wrestrict warning in optimised builds.
    text += 'A';
    text += std::to_string(i);
    text += '=';
    for (int k = 0; k < 10; ++k) {
      text += "$A";
      text += std::to_string(i - 1);
    }
    text += "\n";
  }
  const std::string error = error_of(text);
  EXPECT_NE(error.find("KiB after expanding variables"), std::string::npos) << error;
  EXPECT_NE(error.find("line 5"), std::string::npos) << error;  // 16 * 10^4 passes 64 KiB
}

TEST(DotenvLimits, DoubleQuotedAndDefaultWordsAreLimitedToo) {
  const std::string big(40 * 1024, 'x');
  EXPECT_NE(error_of("A=" + big + "\nB=\"$A$A\"\n").find("KiB"), std::string::npos);
  EXPECT_NE(error_of("A=" + big + "\nB=${U-$A$A}\n").find("KiB"), std::string::npos);
  EXPECT_EQ(parse("A=" + big + "\nB=\"$A\"\n").at("B"), big);
}

}  // namespace
}  // namespace statesink::config
