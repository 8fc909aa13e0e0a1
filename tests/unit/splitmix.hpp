// splitmix64: random numbers for randomised tests, the same on every
// platform and compiler (the std distributions are not), from a seed.
#pragma once

#include <cstdint>

namespace fwsim::test {

struct Rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    int below(int n) { return int(next() % uint64_t(n)); }
    bool chance(int percent) { return below(100) < percent; }
};

}  // namespace fwsim::test
