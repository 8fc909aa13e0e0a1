// splitmix64 (Steele, Lea, Flood 2014): a 64-bit finaliser that spreads every
// input bit over the output, and the generator built on it. Deterministic on
// every platform and compiler (the std distributions are not): NAT's port
// search offsets, the shard keys and the randomised tests use it.
#pragma once

#include <cstdint>

namespace fwsim {

inline uint64_t splitmix64_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

struct SplitMix64 {
    uint64_t s;
    uint64_t next() { return splitmix64_mix(s += 0x9e3779b97f4a7c15ull); }
};

}  // namespace fwsim
