#include "dynamic_set.hpp"

#include <cstring>

namespace fwsim::rules::detail {

namespace {

// FNV-1a: deterministic, no per-run seed.
uint64_t hash_key(const uint8_t* k, int w) {
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < w; ++i) {
        h ^= k[i];
        h *= 1099511628211ull;
    }
    return h;
}

bool present(const DynEntry& e, int64_t now) { return e.used && e.live && now < e.expires; }

// Rebuilds the table with `cap` slots, keeping only present elements.
void rebuild(DynTable& t, size_t cap, int width, int64_t now) {
    std::vector<DynEntry> old = std::move(t.slots);
    t.slots.assign(cap, DynEntry{});
    t.used = 0;
    for (const DynEntry& e : old) {
        if (!present(e, now)) continue;
        size_t i = hash_key(e.key.data(), width) & (cap - 1);
        while (t.slots[i].used) i = (i + 1) & (cap - 1);
        t.slots[i] = e;
        ++t.used;
    }
}

}  // namespace

const DynEntry* dyn_find(const DynTable& t, const uint8_t* key, int width, int64_t now) {
    if (t.slots.empty()) return nullptr;
    const size_t mask = t.slots.size() - 1;
    for (size_t i = hash_key(key, width) & mask;; i = (i + 1) & mask) {
        const DynEntry& e = t.slots[i];
        if (!e.used) return nullptr;
        if (std::memcmp(e.key.data(), key, size_t(width)) == 0) return present(e, now) ? &e : nullptr;
    }
}

size_t dyn_live(const DynTable& t, int64_t now) {
    size_t n = 0;
    for (const DynEntry& e : t.slots) n += present(e, now);
    return n;
}

DynEntry* dyn_upsert(DynTable& t, const uint8_t* key, int width, int64_t now, uint32_t max_elems, bool* created) {
    *created = false;
    if (t.slots.empty()) t.slots.assign(16, DynEntry{});
    const size_t mask = t.slots.size() - 1;
    size_t i = hash_key(key, width) & mask;
    for (;; i = (i + 1) & mask) {
        DynEntry& e = t.slots[i];
        if (!e.used) break;
        if (std::memcmp(e.key.data(), key, size_t(width)) == 0) {
            if (present(e, now)) return &e;
            break;  // expired or deleted: made anew below
        }
    }
    // `used` counts expired and deleted slots too: only count when it could matter
    if (t.used >= max_elems && dyn_live(t, now) >= max_elems) return nullptr;
    if (!t.slots[i].used && (size_t(t.used) + 1) * 2 > t.slots.size()) {
        // drop what has expired and size for a quarter load
        size_t live = dyn_live(t, now), cap = 16;
        while (cap < (live + 1) * 4) cap *= 2;
        rebuild(t, cap, width, now);
        return dyn_upsert(t, key, width, now, max_elems, created);
    }
    DynEntry& e = t.slots[i];
    if (!e.used) ++t.used;
    e = DynEntry{};
    std::memcpy(e.key.data(), key, size_t(width));
    e.used = true;
    e.live = true;
    e.expires = RuntimeState::kNever;
    *created = true;
    return &e;
}

void dyn_delete(DynTable& t, const uint8_t* key, int width) {
    if (t.slots.empty()) return;
    const size_t mask = t.slots.size() - 1;
    for (size_t i = hash_key(key, width) & mask;; i = (i + 1) & mask) {
        DynEntry& e = t.slots[i];
        if (!e.used) return;
        if (std::memcmp(e.key.data(), key, size_t(width)) == 0) {
            e.live = false;  // the slot keeps the key so that probe chains stay intact
            return;
        }
    }
}

}  // namespace fwsim::rules::detail
