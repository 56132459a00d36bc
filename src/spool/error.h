#pragma once

#include <filesystem>
#include <stdexcept>
#include <string_view>

namespace statesink::spool {

// The spool could not do its job: a file operation failed, the directory is in
// use, or stored data is unreadable. The message names the path, the system's
// reason and, where there is one, what the operator can do about it.
class SpoolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws SpoolError "cannot DOING PATH: REASON; ADVICE" for a failed system call.
[[noreturn]] void throw_io_error(std::string_view doing, const std::filesystem::path& path,
                                 int error);

}  // namespace statesink::spool
