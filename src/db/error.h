#pragma once

#include <stdexcept>
#include <string>

namespace statesink::db {

// An error reported by the server or by the client library. Callers decide
// what to do from retryable() / connection_lost(), not from the message.
class DbError : public std::runtime_error {
 public:
  DbError(const std::string& what, unsigned code, std::string sqlstate);

  unsigned code() const { return code_; }
  const std::string& sqlstate() const { return sqlstate_; }

  // Trying again (after reconnecting when connection_lost()) may succeed:
  // the server was unreachable or restarting, or the transaction lost a
  // deadlock, a lock wait or a cluster certification.
  bool retryable() const;
  // The connection can no longer be used; open a new one.
  bool connection_lost() const;
  // The server refuses every statement of this kind until someone changes
  // its set-up (privileges, schema, disk, read-only mode), whatever the data:
  // worth retrying while waiting for that, never a reason to give up on data.
  bool needs_operator() const;
  // The server refused the data of the statement itself (a value too long,
  // not valid in its column's character set, out of range): sending the same
  // rows again fails again, whatever the server's state. The only errors
  // for which an ingester may set a message aside; every other one, unknown
  // codes included, is an outage to wait out.
  bool about_content() const;

 private:
  unsigned code_;
  std::string sqlstate_;
};

bool is_retryable_error(unsigned code);
bool is_connection_error(unsigned code);
bool is_operator_error(unsigned code);
bool is_content_error(unsigned code);

// What to do about an error, in a few words ("" when there is nothing
// specific to say), for the end of a one-line message.
std::string advice(const DbError& error);

// The error's message followed by its advice, if any: the one line a user or
// the log is told.
std::string describe(const DbError& error);

}  // namespace statesink::db
