#include "cli/output_format.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "util/error.h"

namespace statesink::cli {
namespace {

ResultTable sample() {
  ResultTable result;
  result.columns = {{"recorded_at", "RECORDED AT (UTC)", ColumnKind::time},
                    {"value", "VALUE", ColumnKind::text},
                    {"num_value", "NUM VALUE", ColumnKind::number}};
  result.rows = {{"2024-05-01 12:00:00.512345", "21.5", "21.5"},
                 {"2024-05-01 12:01:00.000000", "Küche, \"oben\"", std::nullopt},
                 {"2024-05-01 12:02:00.000000", "two\nlines", "-1e-05"}};
  return result;
}

std::string written(const ResultTable& result, OutputFormat format) {
  std::ostringstream out;
  write_result(out, result, format);
  return out.str();
}

TEST(OutputFormat, ParsesNames) {
  EXPECT_EQ(parse_output_format("table"), OutputFormat::table);
  EXPECT_EQ(parse_output_format("json"), OutputFormat::json);
  EXPECT_EQ(parse_output_format("csv"), OutputFormat::csv);
  EXPECT_THROW(parse_output_format("JSON"), UsageError);
  EXPECT_THROW(parse_output_format("xml"), UsageError);
}

TEST(OutputFormat, TableAlignsAndKeepsEveryRowOnOneLine) {
  EXPECT_EQ(written(sample(), OutputFormat::table),
            "RECORDED AT (UTC)           VALUE          NUM VALUE\n"
            "--------------------------  -------------  ---------\n"
            "2024-05-01 12:00:00.512345  21.5           21.5\n"
            "2024-05-01 12:01:00.000000  Küche, \"oben\"\n"
            "2024-05-01 12:02:00.000000  two\\nlines     -1e-05\n");
}

TEST(OutputFormat, TableEscapesControlCharacters) {
  ResultTable result;
  result.columns = {{"v", "V", ColumnKind::text}};
  result.rows = {
      {std::string("a\tb\rc\x01"
                   "d\x7f",
                   8)}};
  EXPECT_EQ(written(result, OutputFormat::table), "V\n----------------\na\\tb\\rc\\x01d\\x7f\n");
}

TEST(OutputFormat, JsonHasTypedValuesInColumnOrder) {
  const std::string text = written(sample(), OutputFormat::json);
  const nlohmann::json parsed = nlohmann::json::parse(text);
  ASSERT_TRUE(parsed.is_array());
  ASSERT_EQ(parsed.size(), 3U);
  EXPECT_EQ(parsed[0]["recorded_at"], "2024-05-01T12:00:00.512345Z");
  EXPECT_EQ(parsed[0]["value"], "21.5");
  EXPECT_EQ(parsed[0]["num_value"], 21.5);
  EXPECT_EQ(parsed[1]["value"], "Küche, \"oben\"");
  EXPECT_TRUE(parsed[1]["num_value"].is_null());
  EXPECT_EQ(parsed[2]["value"], "two\nlines");
  EXPECT_DOUBLE_EQ(parsed[2]["num_value"].get<double>(), -1e-05);
  EXPECT_LT(text.find("recorded_at"), text.find("\"value\""));
  EXPECT_LT(text.find("\"value\""), text.find("num_value"));
}

TEST(OutputFormat, JsonIntegersHaveNoFraction) {
  ResultTable result;
  result.columns = {{"times_seen", "TIMES SEEN", ColumnKind::integer}};
  result.rows = {{"3"}, {std::nullopt}};
  EXPECT_EQ(written(result, OutputFormat::json),
            "[\n  {\n    \"times_seen\": 3\n  },\n  {\n    \"times_seen\": null\n  }\n]\n");
}

TEST(OutputFormat, JsonOfNothingIsAnEmptyArray) {
  ResultTable result = sample();
  result.rows.clear();
  EXPECT_EQ(written(result, OutputFormat::json), "[]\n");
}

TEST(OutputFormat, CsvQuotesPerRfc4180) {
  EXPECT_EQ(written(sample(), OutputFormat::csv),
            "recorded_at,value,num_value\r\n"
            "2024-05-01 12:00:00.512345,21.5,21.5\r\n"
            "2024-05-01 12:01:00.000000,\"Küche, \"\"oben\"\"\",\r\n"
            "2024-05-01 12:02:00.000000,\"two\nlines\",-1e-05\r\n");
}

TEST(OutputFormat, CsvField) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("cr\rlf"), "\"cr\rlf\"");
  EXPECT_EQ(csv_field(" spaced "), " spaced ");
}

}  // namespace
}  // namespace statesink::cli
