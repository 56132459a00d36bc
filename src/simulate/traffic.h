#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "simulate/entity.h"
#include "simulate/message.h"
#include "simulate/options.h"
#include "simulate/random.h"
#include "simulate/timestamp.h"

namespace statesink::simulate {

class Behaviour;

// The entities of one or more Home Assistant installations and how they
// change over simulated time. Everything follows from the options: the same
// seed gives the same entities, changes, timestamps and bytes.
class Traffic {
 public:
  // Throws UsageError for options out of range.
  explicit Traffic(const Options& options);
  ~Traffic();
  Traffic(Traffic&&) noexcept;
  Traffic& operator=(Traffic&&) noexcept;

  const std::vector<Entity>& entities() const { return entities_; }

  // The simulated time of the latest change (the start before the first).
  Timestamp now() const { return now_; }

  // Every entity as it is now, one after the other: what Home Assistant
  // publishes when it starts. Leaves the simulation where it was.
  std::vector<Message> snapshot() const;

  // Advances the clock by a pseudo-random interval, changes one entity (busy
  // ones such as power meters more often than doors or people) and returns
  // what statestream publishes for that change.
  std::vector<Message> next_change();

 private:
  void add_installation(unsigned installation);
  void advance_clock();
  std::size_t pick_entity();
  void render(std::size_t index);

  Options options_;
  Random random_;
  Timestamp now_;
  std::vector<Entity> entities_;
  // Beside entities_, index for index.
  std::vector<std::unique_ptr<Behaviour>> behaviours_;
  std::vector<bool> available_;
  std::vector<std::uint64_t> activity_sums_;  // running totals of activity()
};

}  // namespace statesink::simulate
