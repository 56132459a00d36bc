#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

#include "config/url.h"
#include "db/connection.h"
#include "db/statement.h"
#include "ingest/store.h"

namespace statesink::ingest {

// The Store on MariaDB or MySQL: multi-row prepared INSERTs into `messages`
// and the spool's row of ingest_progress in the same transaction, normalised
// by normalise_batch() before COMMIT where the schema has it (else by the
// per-row trigger). The
// progress row is updated first, with a compare-and-set on its old value, so
// concurrent or late attempts at the same batch serialise on that row and
// only one of them can commit.
class MysqlStore final : public Store {
 public:
  MysqlStore(const config::DbUrl& url, std::string spool_id, std::size_t max_rows);

  std::uint64_t max_packet() const override { return max_packet_; }
  std::uint64_t committed_seq() override;
  bool insert(std::uint64_t from, std::span<const spool::Record> records) override;
  bool skip(std::uint64_t from, std::uint64_t to) override;

 private:
  struct NormaliseBatchFailed : std::runtime_error {
    using std::runtime_error::runtime_error;
  };

  bool insert_rows(std::uint64_t from, std::span<const spool::Record> records, bool set_based);
  db::Statement& rows_statement(std::size_t rows);
  bool move_progress(std::uint64_t from, std::uint64_t to);

  db::Connection connection_;
  std::string spool_id_;
  std::size_t max_rows_;
  std::uint64_t max_packet_ = 0;
  bool normalise_batches_ = false;
  std::map<std::size_t, db::Statement> statements_;
  std::optional<db::Statement> update_progress_;
  std::optional<db::Statement> insert_progress_;
};

}  // namespace statesink::ingest
