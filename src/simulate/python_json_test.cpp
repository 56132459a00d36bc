#include "simulate/python_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace statesink::simulate {
namespace {

TEST(PythonFloatRepr, MatchesPythonRepr) {
  // Expected texts are what Python 3 prints for repr() of the same doubles.
  EXPECT_EQ(python_float_repr(21.0), "21.0");
  EXPECT_EQ(python_float_repr(21.5), "21.5");
  EXPECT_EQ(python_float_repr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(python_float_repr(-273.15), "-273.15");
  EXPECT_EQ(python_float_repr(100.0), "100.0");
  EXPECT_EQ(python_float_repr(52.520008), "52.520008");
  EXPECT_EQ(python_float_repr(0.0), "0.0");
  EXPECT_EQ(python_float_repr(-0.0), "-0.0");
}

TEST(PythonFloatRepr, SwitchesToExponentWherePythonDoes) {
  EXPECT_EQ(python_float_repr(0.0001), "0.0001");
  EXPECT_EQ(python_float_repr(1e-05), "1e-05");
  EXPECT_EQ(python_float_repr(2.5e-05), "2.5e-05");
  EXPECT_EQ(python_float_repr(1.5e-7), "1.5e-07");
  EXPECT_EQ(python_float_repr(9999999999999998.0), "9999999999999998.0");
  EXPECT_EQ(python_float_repr(1e16), "1e+16");
  EXPECT_EQ(python_float_repr(12345678901234567.0), "1.2345678901234568e+16");
  EXPECT_EQ(python_float_repr(1e22), "1e+22");
  EXPECT_EQ(python_float_repr(5e-324), "5e-324");
  EXPECT_EQ(python_float_repr(1.7976931348623157e308), "1.7976931348623157e+308");
}

TEST(PythonJsonDumps, UsesPythonSeparatorsAndTokens) {
  const Json value = {
      {"a", {255, 128, 0}},
      {"b", {{"c", nullptr}, {"d", true}, {"e", false}}},
      {"f", Json::array()},
      {"g", Json::object()},
      {"h", -5},
      {"i", std::numeric_limits<std::uint64_t>::max()},
      {"n", std::numeric_limits<double>::quiet_NaN()},
      {"p", std::numeric_limits<double>::infinity()},
      {"m", -std::numeric_limits<double>::infinity()},
      {"t", 21.0},
  };
  EXPECT_EQ(python_json_dumps(value),
            R"({"a": [255, 128, 0], "b": {"c": null, "d": true, "e": false}, "f": [], "g": {}, )"
            R"("h": -5, "i": 18446744073709551615, "n": NaN, "p": Infinity, "m": -Infinity, )"
            R"("t": 21.0})");
}

TEST(PythonJsonDumps, KeepsInsertionOrder) {
  Json value = Json::object();
  value["z"] = 1;
  value["a"] = 2;
  EXPECT_EQ(python_json_dumps(value), R"({"z": 1, "a": 2})");
}

TEST(PythonJsonDumps, EscapesEverythingOutsidePrintableAscii) {
  EXPECT_EQ(python_json_dumps("\u00b0C"), R"("\u00b0C")");
  EXPECT_EQ(python_json_dumps("K\u00fcche \U0001F697 \u20ac"),
            R"("K\u00fcche \ud83d\ude97 \u20ac")");
  EXPECT_EQ(python_json_dumps(std::string("a\x7f\x00\x1f\b\f\n\r\t\"\\/", 12)),
            R"("a\u007f\u0000\u001f\b\f\n\r\t\"\\/")");
  EXPECT_EQ(python_json_dumps(Json{{"\u00e9", "x"}}), R"({"\u00e9": "x"})");
}

TEST(PythonJsonDumps, RejectsTextThatIsNotUtf8) {
  for (const char* bad :
       {"\x80", "\xc0\x80", "\xed\xa0\x80", "\xe2\x82", "\xf5\x80\x80\x80", "\xf4\x90\x80\x80"}) {
    EXPECT_THROW(python_json_dumps(std::string(bad)), std::invalid_argument) << bad;
  }
  EXPECT_THROW(python_json_dumps(Json::binary({1, 2})), std::invalid_argument);
}

TEST(PythonJsonDumps, OutputParsesBackToTheSameValue) {
  const Json value = {{"unit", "\u00b0C"}, {"list", {"off", "heat"}}, {"x", 0.1}, {"y", 1e-05}};
  EXPECT_EQ(nlohmann::ordered_json::parse(python_json_dumps(value)), value);
}

}  // namespace
}  // namespace statesink::simulate
