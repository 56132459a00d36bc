#include "util/text_table.h"

#include <gtest/gtest.h>

#include <sstream>

namespace statesink {
namespace {

TEST(TextTable, AlignsColumns) {
  TextTable table({"VERSION", "STATE"});
  table.add_row({"0001", "applied"});
  table.add_row({"0002", "pending"});
  std::ostringstream out;
  table.print(out);
  EXPECT_EQ(out.str(),
            "VERSION  STATE\n"
            "-------  -------\n"
            "0001     applied\n"
            "0002     pending\n");
}

TEST(TextTable, CountsUtf8CharactersNotBytes) {
  EXPECT_EQ(display_width("K\xC3\xBC"
                          "che"),
            5u);
  TextTable table({"A", "B"});
  table.add_row(
      {"K\xC3\xBC"
       "che",
       "x"});
  table.add_row({"abcde", "y"});
  std::ostringstream out;
  table.print(out);
  EXPECT_NE(out.str().find("K\xC3\xBC"
                           "che  x\n"),
            std::string::npos);
  EXPECT_NE(out.str().find("abcde  y\n"), std::string::npos);
}

TEST(TextTable, ShortRowsArePadded) {
  TextTable table({"A", "B", "C"});
  table.add_row({"1"});
  std::ostringstream out;
  table.print(out);
  EXPECT_EQ(out.str(), "A  B  C\n-  -  -\n1\n");
}

}  // namespace
}  // namespace statesink
