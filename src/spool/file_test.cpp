#include "spool/file.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "spool/error.h"
#include "spool/test_support.h"

namespace statesink::spool {
namespace {

TEST(File, GatherWriteAndShortReadAtTheEnd) {
  testing::TempDir dir;
  File file = File::open(dir.path() / "f", O_RDWR | O_CREAT);
  const std::string_view pieces[] = {"ab", "", std::string_view("\0c", 2), "def"};
  file.write_at(3, pieces);
  EXPECT_EQ(file.size(), 10u);
  std::string out(20, 'x');
  EXPECT_EQ(file.read_at(0, out), 10u);
  EXPECT_EQ(out.substr(0, 10), std::string("\0\0\0ab\0cdef", 10));
  file.truncate(4);
  EXPECT_EQ(file.size(), 4u);
}

TEST(File, ErrorsNameThePathAndTheReason) {
  testing::TempDir dir;
  const auto missing = dir.path() / "no" / "such";
  try {
    File::open(missing, O_RDONLY);
    FAIL() << "opened a missing file";
  } catch (const SpoolError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(missing.string()), std::string::npos) << what;
    EXPECT_NE(what.find("No such file"), std::string::npos) << what;
  }
}

TEST(File, DiskFullSaysWhatToDo) {
  try {
    throw_io_error("write to", "/spool/x.seg", ENOSPC);
  } catch (const SpoolError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot write to /spool/x.seg: No space left on device"), std::string::npos)
        << what;
    EXPECT_NE(what.find("free space"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace statesink::spool
