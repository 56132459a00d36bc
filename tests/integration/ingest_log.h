#pragma once

#include <string_view>

namespace statesink::testing {

// True once an ingester's log shows that the broker routes new messages to
// its session: the broker confirmed a new subscription, or a resumed session
// kept its own. "subscribing to" alone is too early: a message published
// before the broker handles the SUBSCRIBE reaches no one.
inline bool ingester_subscribed(std::string_view log) {
  return log.find("the broker confirmed the subscription to ") != std::string_view::npos ||
         log.find("; subscribed to ") != std::string_view::npos;
}

}  // namespace statesink::testing
