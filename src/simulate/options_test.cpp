#include "simulate/options.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace statesink::simulate {
namespace {

TEST(DomainNames, RoundTrip) {
  for (std::size_t i = 0; i < kDomainCount; ++i) {
    const auto domain = static_cast<Domain>(i);
    EXPECT_EQ(parse_domain(domain_name(domain)), domain);
  }
  EXPECT_EQ(domain_name(Domain::kBinarySensor), "binary_sensor");
  EXPECT_FALSE(parse_domain("Sensor"));
  EXPECT_FALSE(parse_domain(""));
}

TEST(ParseDomainMix, ListsAndWeights) {
  EXPECT_EQ(parse_domain_mix("sensor,light", "--domains"), (DomainMix{1, 0, 1, 0, 0, 0}));
  EXPECT_EQ(parse_domain_mix("sensor=4,person=1,switch=0", "--domains"),
            (DomainMix{4, 0, 0, 0, 0, 1}));
}

TEST(ParseDomainMix, RejectsUnknownAndEmpty) {
  for (const char* bad : {"", "sensor=0", "lamp", "sensor=x", "sensor=-1", "sensor,,light"}) {
    EXPECT_THROW(parse_domain_mix(bad, "--domains"), UsageError) << bad;
  }
  try {
    parse_domain_mix("lamp", "--domains");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--domains: 'lamp' is not a domain"), std::string::npos);
  }
}

TEST(Validate, RejectsOutOfRange) {
  EXPECT_NO_THROW(validate(Options{}));
  Options options;
  options.installations = 0;
  EXPECT_THROW(validate(options), UsageError);
  options = {};
  options.entities_per_installation = 0;
  EXPECT_THROW(validate(options), UsageError);
  options = {};
  options.mix = {};
  EXPECT_THROW(validate(options), UsageError);
  options = {};
  options.mean_interval = {};
  EXPECT_THROW(validate(options), UsageError);
  options = {};
  options.unavailable_chance = 1.5;
  EXPECT_THROW(validate(options), UsageError);
}

}  // namespace
}  // namespace statesink::simulate
