#pragma once

// Numbers as the report shows them, in the tables and in the JSON, so that
// both round alike.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace statesink::bench {

// Ordered, so the JSON file lists its keys in the order they are written.
using Json = nlohmann::ordered_json;

// `value` with `decimals` digits after the point.
std::string number(double value, int decimals);

// A table cell: the number, or "-" when it was not measured.
std::string cell(std::optional<double> v, int decimals);

// Rounded to `decimals`, or null when it was not measured.
Json optional_json(std::optional<double> v, int decimals = 3);

// CPU seconds scaled to 100k messages, to compare runs of different lengths.
double per_100k(double cpu, std::size_t messages);
std::optional<double> per_100k(std::optional<double> cpu, std::size_t messages);

std::optional<double> mib(std::optional<std::uint64_t> bytes);

}  // namespace statesink::bench
