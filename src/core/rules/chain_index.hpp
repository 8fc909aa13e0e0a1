// A classifier index over the rules of a long chain, so that a packet only
// looks at the rules that can match it (tuple-space search, as the Open
// vSwitch classifier in lib/classifier.c: one hash table per (field, prefix
// length), probed with the packet's masked field).
//
// At load time each rule of a chain with more than kIndexMinRules rules gets
// one "indexable" match that must hold for the rule to do anything: an exact
// or prefix match on ip/ip6 saddr/daddr, an exact port, an exact interface,
// or a lookup in a small constant set of those. It must come before the
// rule's first statement and before any match with side effects (`ct
// count`), so that a rule whose indexed match fails is, in the linear walk,
// a rule that fails before touching any state: skipping it changes nothing
// observable. Rules without such a match are always candidates; a rule with
// a `never` match there can never do anything and is in no list.
//
// At evaluation the candidates are the positions found in each group's
// table merged with the always-candidates, in chain order (see
// evaluator.cpp). Only positions are skipped; rules are still evaluated
// whole, exactly as in the linear walk.
#pragma once

#include <cstdint>
#include <vector>

#include "symbols.hpp"

namespace fwsim::rules {

struct Program;

inline constexpr size_t kIndexMinRules = 16;  // shorter chains are walked linearly
inline constexpr int kIndexMaxGroups = 16;    // hash probes per chain entry, at most

// A field value masked to the group's prefix, zero-padded to 16 bytes.
struct IndexKey {
    uint64_t a = 0, b = 0;
    bool operator==(const IndexKey&) const = default;
    bool operator<(const IndexKey& o) const { return a != o.a ? a < o.a : b < o.b; }
};

// MurmurHash3's fmix64 over both words: keys are left-aligned (an IPv4
// address is the top 32 bits of `a`), so every bit must reach the low bits
// that pick the slot.
inline uint64_t index_hash(const IndexKey& k) {
    uint64_t h = k.a ^ (k.b * 0x9e3779b97f4a7c15ull);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

// One (field, prefix length): key -> positions (ascending) of the rules
// that need the field to have that value.
struct IndexGroup {
    detail::Sel sel{};
    uint8_t width = 0;      // bytes of the field (2, 4 or 16)
    uint8_t prefix = 0;     // bits that count
    IndexKey mask;          // applied to the packet's field
    struct Slot {
        IndexKey key;
        uint32_t begin = 0, count = 0;  // into ChainIndex::positions; count 0: empty slot
    };
    std::vector<Slot> slots;  // open addressing, power-of-two size, at most half full
    // One bit per hash (16 bits per key, a few KB, cache-resident): most
    // packets match no rule of the group, and the bit says so without
    // touching the larger slot array.
    std::vector<uint64_t> filter;  // power-of-two bit count

    static size_t filter_bit(uint64_t h) { return size_t(h >> 40); }
    void add_to_filter(uint64_t h) {
        const size_t b = filter_bit(h) & (filter.size() * 64 - 1);
        filter[b / 64] |= uint64_t(1) << (b % 64);
    }

    // The positions for a masked key: [*begin, *begin + count).
    bool find(const IndexKey& k, uint32_t* begin, uint32_t* count) const {
        const uint64_t h = index_hash(k);
        const size_t b = filter_bit(h) & (filter.size() * 64 - 1);
        if (!((filter[b / 64] >> (b % 64)) & 1)) return false;
        const size_t m = slots.size() - 1;
        for (size_t i = h & m;; i = (i + 1) & m) {
            const Slot& s = slots[i];
            if (s.count == 0) return false;
            if (s.key == k) {
                *begin = s.begin;
                *count = s.count;
                return true;
            }
        }
    }
};

struct ChainIndex {
    bool enabled = false;
    std::vector<uint32_t> always;     // positions of rules with no indexed match, ascending
    std::vector<IndexGroup> groups;
    std::vector<uint32_t> positions;  // the groups' position lists, back to back
    // Below this position only `always` rules exist, so a packet decided
    // there (e.g. by `ct state established accept`) probes no table.
    uint32_t first_indexed = 0;
};

// The first `width` (2, 4 or 16) big-endian bytes of a field as a key,
// byte 0 highest; the group's mask then keeps the prefix.
inline IndexKey index_key(const uint8_t* f, int width) {
    auto be = [](const uint8_t* x, int n) {
        uint64_t v = 0;
        for (int i = 0; i < n; ++i) v = (v << 8) | x[i];
        return v << (8 * (8 - n));
    };
    IndexKey k;
    if (width <= 8) {
        k.a = be(f, width);
    } else {
        k.a = be(f, 8);
        k.b = be(f + 8, width - 8);
    }
    return k;
}

inline IndexKey index_mask(int prefix) {
    IndexKey m;
    m.a = prefix <= 0 ? 0 : prefix >= 64 ? ~uint64_t(0) : ~uint64_t(0) << (64 - prefix);
    m.b = prefix <= 64 ? 0 : prefix >= 128 ? ~uint64_t(0) : ~uint64_t(0) << (128 - prefix);
    return m;
}

namespace detail {
// Fills p.chain_index (one entry per chain; disabled for short chains).
void build_chain_indexes(Program& p);
}  // namespace detail

}  // namespace fwsim::rules
