// NAT: choosing a connection's translated tuple on its first packet (as
// nf_nat_setup_info()/get_unique_tuple() in net/netfilter/nf_nat_core.c) and
// rewriting packet bytes (as nf_nat_manip_pkt() in net/netfilter/nf_nat_proto.c).
//
// How the engine uses it: for SNAT on a connection with original tuple O,
// unique_tuple() gives O' (new source); the conntrack reply tuple becomes
// invert(O'). translate() then tells every packet of the connection, in
// either direction, which fields it must carry after NAT. DNAT likewise on
// the destination; a connection may get both (DNAT in prerouting/output,
// then SNAT in postrouting on the tuple as DNAT left it).
#pragma once

#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>

#include "fwsim/net.hpp"
#include "fwsim/rules/eval_context.hpp"
#include "fwsim/tuple.hpp"
#include "fwsim/verdict.hpp"

namespace fwsim::nat {

// NF_NAT_MANIP_SRC (snat, masquerade: postrouting/input) and
// NF_NAT_MANIP_DST (dnat, redirect: prerouting/output).
enum class Manip : uint8_t { src, dst };

inline Manip manip_of(rules::NatRequest::Kind k) {
    return k == rules::NatRequest::Kind::snat || k == rules::NatRequest::Kind::masquerade
               ? Manip::src
               : Manip::dst;
}

// A non-owning reference to a callable (function_ref): cheap to pass, no
// allocation. The referenced callable must outlive the call it is passed to.
template <class Sig>
class FunctionRef;
template <class R, class... A>
class FunctionRef<R(A...)> {
public:
    FunctionRef() = default;
    template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
    FunctionRef(F&& f)  // NOLINT: implicit on purpose, so that lambdas pass directly
        : obj_(const_cast<void*>(static_cast<const void*>(&f))),
          fn_([](void* o, A... a) -> R {
              return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<A>(a)...);
          }) {}
    explicit operator bool() const { return fn_ != nullptr; }
    R operator()(A... a) const { return fn_(obj_, std::forward<A>(a)...); }

private:
    void* obj_ = nullptr;
    R (*fn_)(void*, A...) = nullptr;
};

// nf_nat_used_tuple() -> nf_conntrack_tuple_taken(): called with the REPLY
// tuple a candidate would give (unique_tuple inverts the candidate first);
// true if a connection other than the one being set up already has that
// tuple in either direction. The engine passes a lambda over its table.
using TakenFn = FunctionRef<bool(const Tuple& reply)>;

// find_appropriate_src() (SNAT only, optional): if a connection with the same
// original source (address, port/id, protocol) already has a source mapping,
// store that mapping's translated original tuple (invert of its reply tuple)
// in *mapped and return true. The engine may pass an empty FunctionRef.
using FindSrcFn = FunctionRef<bool(const Tuple& orig, Tuple* mapped)>;

// exhausted: no free tuple (engine: drop, reason nat_port_exhausted).
// no_address: masquerade/redirect without a resolved address (the kernel
// drops: nf_nat_masquerade_ipv4() "ate my IP address").
enum class Status : uint8_t { ok, exhausted, no_address };

// get_unique_tuple(): from the connection's current original tuple (as the
// packet looks after earlier NAT), the request and, for masquerade/redirect,
// the address the engine resolved (Topology::source_addr for masquerade; the
// primary address of the incoming interface, or 127.0.0.1 / ::1 for output,
// for redirect), computes the new original-direction tuple after this
// manipulation into *out.
//  - The source port is kept when free and in range; otherwise a port is
//    searched in the range (no range given: < 512 -> 1..511, < 1024 ->
//    600..1023, else 1024..65535; DNAT without a port range keeps the port).
//    ICMP echo ids are searched in 0..65535 for either manip.
//  - Where the kernel starts its search at get_random_u16(), fwsim starts at
//    a deterministic offset: a splitmix64 stream seeded with hash(orig)
//    (the same for random/fully-random, which skip the "keep" step).
//  - Address ranges: find_best_ips_proto()'s jhash2 choice, bit-exact with
//    the kernel (persistent uses initval 0; otherwise the destination mixes in).
// Returns exhausted when no free tuple was found within the kernel's attempt
// budget (128, then halving rounds down to 16); the kernel would then fail at
// confirm, fwsim drops with reason nat_port_exhausted. *out holds the last
// candidate in that case.
Status unique_tuple(const Tuple& orig, Manip m, const rules::NatRequest& r,
                    const IpAddr* resolved_addr, TakenFn taken, Tuple* out,
                    FindSrcFn find_src = {});

// The fields a packet of the connection must carry after NAT, given the
// entry's original tuple `orig` (as first seen, before any NAT) and its
// reply tuple `reply` (after NAT set it up): original-direction packets
// become invert(reply), reply packets become invert(orig). For a connection
// without NAT the result equals the packet's own tuple.
Tuple translate(const Tuple& orig, const Tuple& reply, CtDir dir);

// Which manips a connection has (IPS_SRC_NAT / IPS_DST_NAT, as
// nf_nat_setup_info() sets them): derived from the two tuples.
bool has_src_nat(const Tuple& orig, const Tuple& reply);
bool has_dst_nat(const Tuple& orig, const Tuple& reply);

// For an ICMP error RELATED to a connection (nf_nat_icmp_reply_translation()):
// `err_dir` is the direction the error travels in relative to the connection
// (the quoted packet travelled the other way). Fills the outer header's new
// addresses (only the sides the connection NATs in err_dir are changed;
// ports untouched) and the tuple the quoted inner packet must carry.
void translate_icmp_error(const Tuple& orig, const Tuple& reply, CtDir err_dir,
                          const Tuple& outer_now, Tuple* outer_to, Tuple* inner_to);

// Rewrites a packet's bytes in place (for --write-pcap). `ip_bytes` starts at
// the IP header. Fields that differ between `from` and `to` are written:
// addresses, TCP/UDP/UDP-Lite/SCTP ports, ICMP/ICMPv6 echo id. Checksums are
// fixed incrementally (IPv4 header, TCP, UDP (a zero IPv4 UDP checksum stays
// zero), ICMP, ICMPv6; SCTP's CRC32c is left as is, as the kernel does when
// offloading). `forwarded` decrements TTL / hop limit (and fixes the IPv4
// header checksum). Truncated packets are rewritten as far as they go.
void rewrite(std::span<uint8_t> ip_bytes, Family f, const Tuple& from, const Tuple& to,
             bool forwarded);

// The same for an ICMP/ICMPv6 error: the outer addresses from/to, and the
// quoted inner packet's tuple inner_from/inner_to (addresses and ports/id,
// with the inner IPv4 header checksum and the ICMP checksum fixed).
void rewrite_icmp_error(std::span<uint8_t> ip_bytes, Family f, const Tuple& outer_from,
                        const Tuple& outer_to, const Tuple& inner_from, const Tuple& inner_to,
                        bool forwarded);

}  // namespace fwsim::nat
