#include "history/retention_pattern.h"

#include <algorithm>

#include "util/error.h"

namespace statesink::history {
namespace {

void check_entity_glob(std::string_view glob, std::string_view whole) {
  auto fail = [whole](const std::string& why) {
    throw UsageError("retention pattern '" + std::string(whole) + "': " + why +
                     " (use [BASE_TOPIC:]ENTITY_GLOB, e.g. sensor.*_rssi or home:binary_sensor.*)");
  };
  if (glob.empty()) {
    fail("the entity part is empty");
  }
  if (glob.size() > 255) {
    fail("the entity part is longer than 255 characters");
  }
  for (const char c : glob) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                         c == '*' || c == '?';
    if (!allowed) {
      fail(std::string("'") + c +
           "' cannot be in an entity id; entity ids hold a-z, 0-9, _ and one '.', patterns also "
           "* and ?");
    }
  }
  if (std::count(glob.begin(), glob.end(), '.') > 1) {
    fail("an entity id has one '.'");
  }
  if (glob.find_first_of(".*?") == std::string_view::npos) {
    fail("matches no entity id: entity ids are DOMAIN.OBJECT_ID");
  }
}

}  // namespace

RetentionPattern RetentionPattern::parse(std::string_view text) {
  RetentionPattern pattern;
  pattern.text_ = std::string(text);
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    pattern.entity_ = std::string(text);
  } else {
    const std::string_view base = text.substr(0, colon);
    if (base.empty()) {
      throw UsageError("retention pattern '" + std::string(text) +
                       "': the base topic before ':' is empty");
    }
    if (base.size() > 255 || base.back() == ' ') {
      throw UsageError("retention pattern '" + std::string(text) +
                       "': no base topic is longer than 255 bytes or ends with a space");
    }
    pattern.base_topic_ = std::string(base);
    pattern.entity_ = std::string(text.substr(colon + 1));
  }
  check_entity_glob(pattern.entity_, text);
  return pattern;
}

bool RetentionPattern::matches(std::string_view base_topic, std::string_view entity_id) const {
  if (base_topic_ && !glob_matches(*base_topic_, base_topic)) {
    return false;
  }
  return glob_matches(entity_, entity_id);
}

std::size_t RetentionPattern::literal_characters() const {
  auto literal = [](std::string_view s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return c != '*' && c != '?'; }));
  };
  return literal(entity_) + (base_topic_ ? literal(*base_topic_) : 0);
}

bool glob_matches(std::string_view pattern, std::string_view text) {
  // Iterative with one backtrack point: the last `*` seen. Linear in
  // practice and never exponential, whatever the number of stars.
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

std::optional<std::size_t> winning_rule(const std::vector<RuleCandidate>& rules,
                                        std::string_view base_topic, std::string_view entity_id) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (!rules[i].pattern.matches(base_topic, entity_id)) {
      continue;
    }
    if (!best) {
      best = i;
      continue;
    }
    const RuleCandidate& a = rules[i];
    const RuleCandidate& b = rules[*best];
    const std::size_t la = a.pattern.literal_characters();
    const std::size_t lb = b.pattern.literal_characters();
    if (la != lb                                 ? la > lb
        : a.max_age_seconds != b.max_age_seconds ? a.max_age_seconds > b.max_age_seconds
                                                 : a.pattern.text() < b.pattern.text()) {
      best = i;
    }
  }
  return best;
}

}  // namespace statesink::history
