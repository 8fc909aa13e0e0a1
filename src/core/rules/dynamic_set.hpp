// Elements that rules add to named sets at run time (nft_dynset.c): a small
// open-addressing hash table per set, keyed by the element's key bytes,
// with expiry in capture time. Lookups never allocate; inserting may grow
// the table (amortised, bounded by the set's size).
#pragma once

#include <cstdint>

#include "fwsim/rules/ruleset.hpp"

namespace fwsim::rules::detail {

using DynTable = RuntimeState::DynTable;
using DynEntry = RuntimeState::DynEntry;

// The present element with this key: live and not expired at `now`
// (nft_set_elem_expired(): expired once now >= expiration).
const DynEntry* dyn_find(const DynTable& t, const uint8_t* key, int width, int64_t now);
// Finds the present element or makes a new one (expires = kNever, fresh
// limit and counter; the caller sets the timeout). nullptr when the set
// already holds `max_elems` present elements (nft_dynset_new() fails).
DynEntry* dyn_upsert(DynTable& t, const uint8_t* key, int width, int64_t now, uint32_t max_elems, bool* created);
void dyn_delete(DynTable& t, const uint8_t* key, int width);
size_t dyn_live(const DynTable& t, int64_t now);

}  // namespace fwsim::rules::detail
