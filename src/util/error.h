#pragma once

#include <stdexcept>
#include <string>

namespace statesink {

// The user asked for something malformed (bad flag, bad URL, bad setting).
// The command line maps it to exit status 2; every other exception gives 1.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace statesink
