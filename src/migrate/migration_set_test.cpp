#include "migrate/migration_set.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "migrate/sha256.h"
#include "migrate/sql_splitter.h"

namespace statesink::migrate {
namespace {

TEST(MigrationSet, PairsUpAndDownInVersionOrder) {
  MigrationSet set = MigrationSet::from_files({{"0002_b.up.sql", "B"},
                                               {"0001_a.down.sql", "undo A"},
                                               {"0001_a.up.sql", "A"},
                                               {"README.md", "ignored"}},
                                              "test");
  ASSERT_EQ(set.all().size(), 2u);
  EXPECT_EQ(set.all()[0].label(), "0001_a");
  EXPECT_EQ(set.all()[0].down_sql.value_or(""), "undo A");
  EXPECT_EQ(set.all()[0].checksum, sha256_hex("A"));
  EXPECT_EQ(set.all()[1].label(), "0002_b");
  EXPECT_FALSE(set.all()[1].down_sql.has_value());
  EXPECT_EQ(set.latest_version(), 2u);
  ASSERT_NE(set.find(2), nullptr);
  EXPECT_EQ(set.find(2)->name, "b");
  EXPECT_EQ(set.find(3), nullptr);
}

TEST(MigrationSet, RejectsBadNames) {
  EXPECT_THROW(MigrationSet::from_files({{"0001_a.sql", "x"}}, "t"), std::runtime_error);
  EXPECT_THROW(MigrationSet::from_files({{"1-a.up.sql", "x"}}, "t"), std::runtime_error);
  EXPECT_THROW(MigrationSet::from_files({{"0000_zero.up.sql", "x"}}, "t"), std::runtime_error);
}

TEST(MigrationSet, RejectsDuplicateAndOrphanFiles) {
  EXPECT_THROW(MigrationSet::from_files({{"0001_a.up.sql", "x"}, {"1_b.up.sql", "y"}}, "t"),
               std::runtime_error);
  EXPECT_THROW(MigrationSet::from_files({{"0001_a.down.sql", "x"}}, "t"), std::runtime_error);
  EXPECT_THROW(MigrationSet::from_files({{"0001_a.up.sql", "x"}, {"0001_b.down.sql", "y"}}, "t"),
               std::runtime_error);
}

TEST(MigrationSet, EmptyUpFileIsStillAMigration) {
  MigrationSet set = MigrationSet::from_files({{"0001_empty.up.sql", ""}}, "t");
  ASSERT_EQ(set.all().size(), 1u);
  EXPECT_EQ(set.all()[0].checksum, sha256_hex(""));
}

TEST(MigrationSet, EmbeddedHoldsTheMessagesTable) {
  MigrationSet set = MigrationSet::embedded();
  ASSERT_NE(set.find(1), nullptr);
  EXPECT_EQ(set.find(1)->name, "messages");
  EXPECT_NE(set.find(1)->up_sql.find("CREATE TABLE messages"), std::string::npos);
  EXPECT_TRUE(set.find(1)->down_sql.has_value());
}

TEST(MigrationSet, FormatsVersions) {
  EXPECT_EQ(format_version(7), "0007");
  EXPECT_EQ(format_version(12345), "12345");
}

}  // namespace
}  // namespace statesink::migrate

namespace statesink::migrate {
namespace {

// The shipped files must pass the splitter's checks for files as people write
// them (unquoted `end` or `begin` in bodies, runaway quotes, long delimiters).
TEST(MigrationSetFiles, EveryShippedFileSplits) {
  const MigrationSet set = MigrationSet::embedded();
  for (const Migration& m : set.all()) {
    EXPECT_NO_THROW(split_sql(m.up_sql)) << m.up_file();
    EXPECT_FALSE(split_sql(m.up_sql).empty()) << m.up_file();
    if (m.down_sql) {
      EXPECT_NO_THROW(split_sql(*m.down_sql)) << m.down_file();
    }
  }
}

}  // namespace
}  // namespace statesink::migrate
