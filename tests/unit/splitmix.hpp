// splitmix64: random numbers for randomised tests, the same on every
// platform and compiler (the std distributions are not), from a seed.
#pragma once

#include <cstdint>

#include "fwsim/splitmix.hpp"

namespace fwsim::test {

struct Rng {
    uint64_t s;
    uint64_t next() { return splitmix64_mix(s += 0x9e3779b97f4a7c15ull); }
    int below(int n) { return int(next() % uint64_t(n)); }
    bool chance(int percent) { return below(100) < percent; }
};

}  // namespace fwsim::test
