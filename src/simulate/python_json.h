#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace statesink::simulate {

// Attribute values in the order Home Assistant keeps them.
using Json = nlohmann::ordered_json;

// Python's repr() of a float: the shortest text that reads back as the same
// double, with ".0" on whole numbers and an exponent outside 1e-4 .. 1e16
// ("21.0", "0.0001", "1e-05", "1e+16", "nan", "inf").
std::string python_float_repr(double value);

// The text Python's json.dumps(value) writes with its default arguments, which
// statestream uses for attributes. nlohmann's own dump() differs in three ways
// that matter here: it writes no space after ',' and ':', it turns NaN into
// null, and it leaves non-ASCII text unescaped unless asked. This writes
// ", " and ": ", NaN / Infinity / -Infinity as bare tokens (not valid JSON,
// but what Home Assistant sends), and every character outside printable ASCII
// as \uXXXX (lower-case hex, surrogate pairs above U+FFFF). Throws
// std::invalid_argument for text that is not UTF-8 and for binary values,
// which have no Python counterpart.
std::string python_json_dumps(const Json& value);

}  // namespace statesink::simulate
