#include "io/output/record_filter.hpp"

#include "fwsim/error.hpp"

namespace fwsim {

namespace {

template <class E, size_t N>
bool lookup(std::string_view name, const E (&values)[N], uint8_t* out) {
    for (E v : values) {
        if (to_string(v) == name) {
            *out = uint8_t(v);
            return true;
        }
    }
    return false;
}

}  // namespace

RecordFilter::RecordFilter(const std::string& option, const std::string& expr) {
    static const Verdict verdicts[] = {Verdict::accept, Verdict::drop, Verdict::reject, Verdict::ignored};
    static const Reason reasons[] = {Reason::policy, Reason::invalid, Reason::malformed, Reason::table_full,
                                     Reason::not_ip, Reason::unsupported_linktype, Reason::nat_port_exhausted,
                                     Reason::insert_failed, Reason::fragment_incomplete, Reason::no_route,
                                     Reason::ttl_exceeded};
    static const CtState states[] = {CtState::new_, CtState::established, CtState::related, CtState::invalid,
                                     CtState::untracked};
    static const Hook hooks[] = {Hook::input, Hook::forward, Hook::output};
    size_t pos = 0;
    while (pos <= expr.size()) {
        size_t comma = expr.find(',', pos);
        if (comma == std::string::npos) comma = expr.size();
        std::string_view t(expr.data() + pos, comma - pos);
        while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
        while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
        Term term{Term::all};
        if (!t.empty() && t.front() == '!') {
            term.negate = true;
            t.remove_prefix(1);
        }
        bool ok = true;
        if (t == "all") {
            term.kind = Term::all;
        } else if (t == "nat") {
            term.kind = Term::nat;
        } else if (t.starts_with("ct=")) {
            term.kind = Term::ct;
            ok = lookup(t.substr(3), states, &term.value);
        } else if (t.starts_with("hook=")) {
            term.kind = Term::hook;
            ok = lookup(t.substr(5), hooks, &term.value);
        } else if (t.starts_with("proto=")) {
            term.kind = Term::proto;
            ok = false;
            for (int p = 0; p < 256 && !ok; ++p)
                if (proto_name(uint8_t(p)) == t.substr(6)) term.value = uint8_t(p), ok = true;
        } else if (lookup(t, verdicts, &term.value)) {
            term.kind = Term::verdict;
        } else if (lookup(t, reasons, &term.value)) {
            term.kind = Term::reason;
        } else {
            ok = false;
        }
        if (!ok)
            throw InputError(option + ": unknown term \"" + std::string(t) +
                             "\" (expected a verdict such as drop, a reason such as policy, ct=STATE, "
                             "hook=HOOK, proto=NAME, nat or all)");
        terms_.push_back(term);
        pos = comma + 1;
    }
}

bool RecordFilter::keep(const PacketRecord& r) const {
    if (terms_.empty()) return true;
    for (const Term& t : terms_) {
        bool hit = false;
        switch (t.kind) {
            case Term::all: hit = true; break;
            case Term::verdict: hit = uint8_t(r.verdict) == t.value; break;
            case Term::reason:
                hit = uint8_t(r.reason) == t.value ||
                      (Reason(t.value) == Reason::invalid && r.has_ct && r.ct_state == CtState::invalid);
                break;
            case Term::ct: hit = r.has_ct && uint8_t(r.ct_state) == t.value; break;
            case Term::hook: hit = r.has_hook && uint8_t(r.hook) == t.value; break;
            case Term::proto: hit = r.pkt->ok() && r.pkt->l4proto == t.value; break;
            case Term::nat: hit = r.nat.any(); break;
        }
        if (hit != t.negate) return true;
    }
    return false;
}

}  // namespace fwsim
