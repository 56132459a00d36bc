#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace statesink::history {

// A retention rule's pattern: [BASE_TOPIC:]ENTITY_GLOB. `*` matches any run of
// characters (also none, also across the '.'), `?` exactly one. Without a
// base topic it applies to the entity in every base topic.
class RetentionPattern {
 public:
  // Throws UsageError saying what is wrong: an entity glob must be non-empty,
  // of a-z 0-9 _ . * ? only, with at most one '.', and a '.', '*' or '?' (else
  // it could match no entity id); a base topic part non-empty, at most 255
  // characters, without a trailing space. Split at the last ':', as entity
  // ids hold none.
  static RetentionPattern parse(std::string_view text);

  bool matches(std::string_view base_topic, std::string_view entity_id) const;

  // How specific the pattern is: characters other than `*` and `?`, base
  // topic included. Of several patterns that match an entity, the one with
  // the most wins.
  std::size_t literal_characters() const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::optional<std::string> base_topic_;
  std::string entity_;
};

// `*` and `?` over bytes. Entity ids are ASCII; a base topic may hold UTF-8,
// where `?` then stands for one byte.
bool glob_matches(std::string_view pattern, std::string_view text);

struct RuleCandidate {
  RetentionPattern pattern;
  long long max_age_seconds = 0;
};

// Index of the rule that governs this entity, or nullopt when none matches.
// Most literal characters wins; on a tie the longer age (deleting less), then
// the pattern that sorts first, so the choice never depends on row order.
std::optional<std::size_t> winning_rule(const std::vector<RuleCandidate>& rules,
                                        std::string_view base_topic, std::string_view entity_id);

}  // namespace statesink::history
