#include "simulate/traffic.h"

#include <algorithm>
#include <string>
#include <unordered_map>

#include "simulate/behaviour.h"
#include "simulate/catalog.h"

namespace statesink::simulate {
namespace {

const Options& checked(const Options& options) {
  validate(options);
  return options;
}

// Domains with a share, in declaration order: the first entities of an
// installation take one of each, so a small installation still has them all.
std::vector<Domain> domains_in(const DomainMix& mix) {
  std::vector<Domain> domains;
  for (std::size_t i = 0; i < kDomainCount; ++i) {
    if (mix[i] > 0) {
      domains.push_back(static_cast<Domain>(i));
    }
  }
  return domains;
}

Domain weighted_domain(const DomainMix& mix, Random& random) {
  std::uint64_t total = 0;
  for (unsigned weight : mix) {
    total += weight;
  }
  std::uint64_t draw = random.below(total);
  for (std::size_t i = 0; i < kDomainCount; ++i) {
    if (draw < mix[i]) {
      return static_cast<Domain>(i);
    }
    draw -= mix[i];
  }
  return Domain::kSensor;
}

}  // namespace

Traffic::Traffic(const Options& options)
    : options_(checked(options)), random_(options.seed), now_(options.start) {
  for (unsigned installation = 0; installation < options_.installations; ++installation) {
    add_installation(installation);
  }
}

Traffic::~Traffic() = default;
Traffic::Traffic(Traffic&&) noexcept = default;
Traffic& Traffic::operator=(Traffic&&) noexcept = default;

void Traffic::add_installation(unsigned installation) {
  const Site site = site_for(installation);
  const std::vector<Domain> cycle = domains_in(options_.mix);
  // Home Assistant makes a repeated entity id unique with "_2", "_3", ...
  std::unordered_map<std::string, unsigned> uses;

  for (unsigned n = 0; n < options_.entities_per_installation; ++n) {
    const Domain domain = n < cycle.size() ? cycle[n] : weighted_domain(options_.mix, random_);
    Created created = make_behaviour(domain, random_, site);

    Entity entity;
    entity.base_topic = site.base_topic;
    entity.domain = domain;
    entity.object_id = created.object_id;
    const unsigned use = ++uses[entity.entity_id()];
    if (use > 1) {
      entity.object_id += '_';
      entity.object_id += std::to_string(use);
    }

    // History from before the simulation: last changed up to an hour ago,
    // last updated at that moment or since.
    using std::chrono::microseconds;
    const auto hour = std::chrono::duration_cast<microseconds>(std::chrono::hours{1}).count();
    entity.last_changed = options_.start - microseconds(1 + random_.below(hour));
    if (random_.chance(1.0 / 16)) {
      entity.last_changed = std::chrono::floor<std::chrono::seconds>(entity.last_changed);
    }
    const auto since = (options_.start - entity.last_changed).count();
    entity.last_updated =
        random_.chance(0.5)
            ? entity.last_changed
            : entity.last_changed + microseconds(random_.below(static_cast<std::uint64_t>(since)));

    const std::uint64_t previous = activity_sums_.empty() ? 0 : activity_sums_.back();
    activity_sums_.push_back(previous + std::max(1U, created.behaviour->activity()));
    available_.push_back(
        !(created.behaviour->can_fail() && random_.chance(options_.unavailable_chance)));
    behaviours_.push_back(std::move(created.behaviour));
    entities_.push_back(std::move(entity));
    render(entities_.size() - 1);
  }
}

std::vector<Message> Traffic::snapshot() const {
  std::vector<Message> messages;
  for (const Entity& entity : entities_) {
    std::vector<Message> one = publish(entity);
    std::move(one.begin(), one.end(), std::back_inserter(messages));
  }
  return messages;
}

std::vector<Message> Traffic::next_change() {
  advance_clock();
  const std::size_t index = pick_entity();
  Entity& entity = entities_[index];
  Behaviour& behaviour = *behaviours_[index];
  const std::string state_before = entity.state;
  const Json attributes_before = entity.attributes;

  if (!available_[index]) {
    available_[index] = true;  // back with a fresh reading
    behaviour.step(random_);
  } else if (behaviour.can_fail() && random_.chance(options_.unavailable_chance)) {
    available_[index] = false;
  } else {
    behaviour.step(random_);
  }
  render(index);
  // Home Assistant reports only real changes; behaviours are meant to always
  // make one, this guards against one that did not.
  for (int tries = 0;
       tries < 8 && entity.state == state_before && entity.attributes == attributes_before;
       ++tries) {
    behaviour.step(random_);
    render(index);
  }

  entity.last_updated = now_;
  if (entity.state != state_before) {
    entity.last_changed = now_;
  }
  return publish(entity);
}

void Traffic::advance_clock() {
  const auto mean = static_cast<std::uint64_t>(options_.mean_interval.count());
  now_ += std::chrono::microseconds(1 + random_.below(2 * mean));
  // Polls and time-based automations fire on the second, so some changes
  // carry timestamps without microseconds.
  if (random_.chance(1.0 / 16)) {
    now_ = std::chrono::ceil<std::chrono::seconds>(now_);
  }
}

std::size_t Traffic::pick_entity() {
  const std::uint64_t draw = random_.below(activity_sums_.back());
  const auto found = std::upper_bound(activity_sums_.begin(), activity_sums_.end(), draw);
  return static_cast<std::size_t>(found - activity_sums_.begin());
}

void Traffic::render(std::size_t index) {
  Entity& entity = entities_[index];
  const Behaviour& behaviour = *behaviours_[index];
  const bool available = available_[index];
  entity.state = available ? behaviour.state() : "unavailable";
  entity.attributes = behaviour.attributes(available);
}

}  // namespace statesink::simulate
