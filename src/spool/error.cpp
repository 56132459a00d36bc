#include "spool/error.h"

#include <cerrno>
#include <string>
#include <system_error>

namespace statesink::spool {
namespace {

std::string_view advice(int error) {
  switch (error) {
    case ENOSPC:
    case EDQUOT:
      return "free space on that file system, or lower the spool size limit so that the "
             "ingester pauses reading from the broker before the disk fills up";
    case EACCES:
    case EPERM:
      return "make sure the user running statesink owns the spool directory and may write to it";
    case EROFS:
      return "the file system is read-only; give statesink a writable spool directory";
    case EIO:
      return "the disk reported an I/O error; check the kernel log (dmesg) and the disk";
    case EMFILE:
    case ENFILE:
      return "too many open files; raise the open-file limit (ulimit -n / LimitNOFILE)";
    default:
      return {};
  }
}

}  // namespace

void throw_io_error(std::string_view doing, const std::filesystem::path& path, int error) {
  std::string message = "cannot ";
  message += doing;
  message += ' ';
  message += path.string();
  message += ": ";
  // generic_category().message() is thread-safe, unlike strerror().
  message += std::generic_category().message(error);
  if (const std::string_view hint = advice(error); !hint.empty()) {
    message += "; ";
    message += hint;
  }
  throw SpoolError(message);
}

}  // namespace statesink::spool
