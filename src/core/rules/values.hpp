// Typing of written values: turns a Val (text as written) into the
// big-endian key bytes of its type, with nft-like messages on mismatch.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ast.hpp"
#include "symbols.hpp"

namespace fwsim::rules::detail {

struct Encoded {
    std::vector<uint8_t> lo, hi;  // hi == lo for a single value
    bool is_range = false;
    bool inverted = false;  // a `meta hour` range across midnight, stored as its complement
};

struct ValueContext {
    const std::vector<Source>* sources;
    std::span<const std::string> interfaces;
};

// What `v` denotes for type `t`: one value, a prefix or a range (as lo..hi).
// Interface names resolve to their index (unknown ifname: kUnknownIf; unknown
// iif/oif: an error). Wildcards ("eth*") are not handled here (see
// expand_ifname). `what` names the left-hand side for messages ("ip saddr").
Encoded encode_value(const ValueContext& vc, Type t, const Val& v, const std::string& what);
// The OR of flag values (a|b, a,b or a single value) for bitmask types.
uint64_t flags_value(const ValueContext& vc, Type t, const Val& v, const std::string& what);
// Writes an unsigned value big-endian into `width` bytes.
void put_be(uint8_t* out, uint64_t v, int width);
uint64_t get_be(const uint8_t* in, int width);

inline constexpr uint16_t kUnknownIf = 0xfffe;

// Interface indexes an ifname pattern matches ("eth*" or an exact name).
std::vector<uint16_t> expand_ifname(std::span<const std::string> interfaces, const std::string& pattern);
bool is_wildcard(const std::string& s);

}  // namespace fwsim::rules::detail
