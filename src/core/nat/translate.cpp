// Which fields a packet of a NATed connection carries, in either direction,
// derived from the two conntrack tuples (nf_nat_manip_pkt() writes the
// inverse of the other direction's tuple, net/netfilter/nf_nat_proto.c).
#include "fwsim/nat/nat.hpp"

namespace fwsim::nat {

namespace {

// The tuple a packet of direction `dir` carries before NAT.
const Tuple& seen(const Tuple& orig, const Tuple& reply, CtDir dir) {
    return dir == CtDir::original ? orig : reply;
}

// The other direction's tuple inverted: what the packet must look like.
bool target(const Tuple& orig, const Tuple& reply, CtDir dir, Tuple* out) {
    return invert(dir == CtDir::original ? reply : orig, out);
}

}  // namespace

Tuple translate(const Tuple& orig, const Tuple& reply, CtDir dir) {
    Tuple t;
    if (!target(orig, reply, dir, &t)) return seen(orig, reply, dir);
    return t;
}

bool has_src_nat(const Tuple& orig, const Tuple& reply) {
    Tuple t;
    if (!invert(reply, &t)) return false;
    return t.src != orig.src || t.sport != orig.sport;
}

bool has_dst_nat(const Tuple& orig, const Tuple& reply) {
    Tuple t;
    if (!invert(reply, &t)) return false;
    return t.dst != orig.dst || t.dport != orig.dport;
}

void translate_icmp_error(const Tuple& orig, const Tuple& reply, CtDir err_dir,
                          const Tuple& outer_now, Tuple* outer_to, Tuple* inner_to) {
    // nf_nat_icmp_reply_translation(): the quoted packet travelled in the
    // other direction, as it looked after NAT; it gets back the fields it
    // had before (ct->tuplehash[!dir]).
    const CtDir inner_dir = err_dir == CtDir::original ? CtDir::reply : CtDir::original;
    *inner_to = seen(orig, reply, inner_dir);

    // "Change outer to look like the reply to an incoming packet": target is
    // invert(tuplehash[!dir]), applied only on the sides the connection NATs
    // in this direction (nf_nat_packet()'s status bit test), addresses only.
    *outer_to = outer_now;
    Tuple t;
    if (!invert(*inner_to, &t)) {
        // Not invertible (cannot happen for a tracked connection): keep it.
        return;
    }
    const bool snat = has_src_nat(orig, reply), dnat = has_dst_nat(orig, reply);
    // Original direction: SRC manip iff IPS_SRC_NAT, DST manip iff IPS_DST_NAT;
    // reply direction: swapped (statusbit ^= IPS_NAT_MASK).
    const bool src_manip = err_dir == CtDir::original ? snat : dnat;
    const bool dst_manip = err_dir == CtDir::original ? dnat : snat;
    if (src_manip) outer_to->src = t.src;
    if (dst_manip) outer_to->dst = t.dst;
}

}  // namespace fwsim::nat
