// The small trackers: UDP/UDP-Lite (nf_conntrack_proto_udp.c), ICMP
// (nf_conntrack_proto_icmp.c), ICMPv6 (nf_conntrack_proto_icmpv6.c), GRE
// (nf_conntrack_proto_gre.c) and generic (nf_conntrack_proto_generic.c), as
// in Linux 6.x.
#include "fwsim/net.hpp"
#include "fwsim/rules/eval_context.hpp"
#include "trackers.hpp"

namespace fwsim::ct::detail {

namespace st = rules::ctstatus;

// nf_conntrack_udp_packet(): a UDP "stream" (both directions seen and still
// active two seconds after the first packet) gets the long timeout and
// ASSURED; until then, the unreplied timeout.
Outcome udp_packet(Conn& en, bool confirmed, Nanos now, bool checksum_bad, const Config& cfg) {
    Outcome o;
    if (checksum_bad) {  // udp_error(): bad checksum
        o.kind = Outcome::invalid;
        return o;
    }
    (void)confirmed;  // stream_ts = now + 2 s at creation: first_ts + 2 s
    o.refresh = true;
    o.timeout = secs(cfg.udp_unreplied);
    if (en.status & st::seen_reply) {
        bool stream = false;
        if (now > en.stream_ts()) {  // time_after(jiffies, stream_ts)
            o.timeout = secs(cfg.udp_stream);
            stream = (en.status & st::assured) == 0;
        }
        if (stream) en.status |= st::assured;
    }
    return o;
}

// nf_conntrack_icmp_packet() / nf_conntrack_icmpv6_packet(): only query
// types may create an entry (valid_new[]).
Outcome icmp_packet(const Conn& en, bool confirmed, const Config& cfg) {
    Outcome o;
    const uint8_t type = uint8_t(en.dport >> 8);
    const bool v6 = en.proto == proto::icmpv6;
    bool valid_new;
    if (v6)  // ICMPV6_ECHO_REQUEST, ICMPV6_NI_QUERY
        valid_new = type == 128 || type == 139;
    else  // ICMP_ECHO, ICMP_TIMESTAMP, ICMP_INFO_REQUEST, ICMP_ADDRESS
        valid_new = type == 8 || type == 13 || type == 15 || type == 17;
    // IPv4 checks the original type on every packet, IPv6 only on new ones;
    // for a confirmed entry the original type is a query either way.
    if (!valid_new && (!v6 || !confirmed)) {
        o.kind = Outcome::invalid;
        return o;
    }
    o.refresh = true;
    o.timeout = secs(v6 ? cfg.icmpv6 : cfg.icmp);
    return o;
}

// gre_timeouts[]: nf_conntrack_gre_timeout / nf_conntrack_gre_timeout_stream
// (no fwsim configuration keys yet).
Outcome gre_packet(Conn& en) {
    constexpr uint32_t kGreUnreplied = 30, kGreStream = 180;
    Outcome o;
    o.refresh = true;
    if (en.status & st::seen_reply) {
        o.timeout = secs(kGreStream);
        en.status |= st::assured;
    } else {
        o.timeout = secs(kGreUnreplied);
    }
    return o;
}

Outcome generic_packet(const Config& cfg) {
    Outcome o;
    o.refresh = true;
    o.timeout = secs(cfg.generic);
    return o;
}

}  // namespace fwsim::ct::detail
