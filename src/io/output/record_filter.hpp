// --verdicts-filter / --write-filter: which packets a sink keeps.
// EXPR is a comma-separated list of terms; a packet is kept when any term
// holds. Terms: a verdict (accept, drop, reject, ignored), a reason (policy,
// invalid, malformed, table_full, not_ip, ...), `ct=STATE` (new,
// established, related, invalid, untracked), `hook=HOOK` (input, forward,
// output), `proto=NAME` (tcp, udp, icmp, ...), `nat` (NAT rewrote it), or
// `all`. Prefix a term with `!` to negate it.
#pragma once

#include <string>
#include <vector>

#include "fwsim/engine/records.hpp"

namespace fwsim {

class RecordFilter {
public:
    RecordFilter() = default;  // keeps everything
    // Throws InputError naming the option and the bad term.
    RecordFilter(const std::string& option, const std::string& expr);
    bool keep(const PacketRecord& r) const;

private:
    struct Term {
        enum Kind : uint8_t { all, verdict, reason, ct, hook, proto, nat } kind;
        uint8_t value = 0;
        bool negate = false;
    };
    std::vector<Term> terms_;
};

}  // namespace fwsim
