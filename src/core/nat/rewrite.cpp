// Rewriting packet bytes after NAT, as nf_nat_manip_pkt() and the per-protocol
// manip functions in net/netfilter/nf_nat_proto.c: write the new fields and
// fix every checksum that covers them incrementally (RFC 1624), so that a
// packet with a wrong checksum keeps it wrong by the same amount.
#include <cstring>

#include "fwsim/checksum.hpp"
#include "fwsim/nat/nat.hpp"

namespace fwsim::nat {

namespace {

uint16_t get16(std::span<uint8_t> b, size_t off) { return uint16_t(b[off] << 8 | b[off + 1]); }
void put16(std::span<uint8_t> b, size_t off, uint16_t v) {
    b[off] = uint8_t(v >> 8);
    b[off + 1] = uint8_t(v);
}
bool fits(std::span<uint8_t> b, size_t off, size_t n) { return off + n <= b.size(); }

size_t addr_len(Family f) { return f == Family::ipv4 ? 4 : 16; }

// Where the IP header's parts are.
struct Layout {
    bool ok = false;
    size_t l4 = 0;         // offset of the transport header
    size_t l4_end = 0;     // end of the datagram per the IP length (clamped to the bytes)
    uint8_t proto = 0;
    bool has_l4 = false;   // not a later fragment
    size_t src = 0, dst = 0;
};

Layout parse(std::span<uint8_t> b, Family f) {
    Layout l;
    if (f == Family::ipv4) {
        if (b.size() < 20 || (b[0] >> 4) != 4) return l;
        const size_t ihl = size_t(b[0] & 0x0f) * 4;
        if (ihl < 20 || ihl > b.size()) return l;
        const size_t total = get16(b, 2);
        l.l4 = ihl;
        l.l4_end = total >= ihl && total <= b.size() ? total : b.size();
        l.proto = b[9];
        l.has_l4 = (get16(b, 6) & 0x1fff) == 0;
        l.src = 12, l.dst = 16;
        l.ok = true;
        return l;
    }
    if (b.size() < 40 || (b[0] >> 4) != 6) return l;
    const size_t total = 40 + size_t(get16(b, 4));
    l.l4_end = total <= b.size() ? total : b.size();
    l.src = 8, l.dst = 24;
    uint8_t nh = b[6];
    size_t off = 40;
    l.has_l4 = true;
    // Walk the extension headers (bounded: each moves forward).
    for (int n = 0; n < 16; ++n) {
        if (nh == proto::hopopts || nh == proto::ipv6_route || nh == proto::ipv6_dstopts) {
            if (!fits(b, off, 2)) return l;
            const uint8_t next = b[off];
            off += (size_t(b[off + 1]) + 1) * 8;
            nh = next;
        } else if (nh == proto::ipv6_frag) {
            if (!fits(b, off, 8)) return l;
            if ((get16(b, off + 2) & 0xfff8) != 0) l.has_l4 = false;
            nh = b[off];
            off += 8;
        } else if (nh == proto::ah) {
            if (!fits(b, off, 2)) return l;
            const uint8_t next = b[off];
            off += (size_t(b[off + 1]) + 2) * 4;
            nh = next;
        } else {
            break;
        }
    }
    if (off > b.size()) return l;
    l.l4 = off;
    l.proto = nh;
    l.ok = true;
    return l;
}


// CRC32c (Castagnoli, reflected), as sctp_compute_cksum().
uint32_t crc32c(std::span<const uint8_t> d) {
    uint32_t crc = 0xffffffff;
    for (uint8_t byte : d) {
        crc ^= byte;
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
    }
    return ~crc;
}

// Offset of the L4 checksum that covers the pseudo-header, or 0 for none.
size_t pseudo_csum_off(Family f, uint8_t p) {
    switch (p) {
        case proto::tcp: return 16;
        case proto::udp:
        case proto::udplite: return 6;
        case proto::icmpv6: return f == Family::ipv6 ? 2 : 0;
        default: return 0;
    }
}

// Rewrites addresses and ports/id of one IP header plus its L4 header (the
// outer packet, or the packet an ICMP error quotes). `l4_limit` bounds the
// transport bytes that may be touched. Returns the changed 16-bit words'
// effect through the checksums inside these bytes only.
void manip(std::span<uint8_t> b, Family f, const Layout& l, const Tuple& from, const Tuple& to,
           bool is_inner) {
    const size_t alen = addr_len(f);
    const bool src_changed = from.src != to.src, dst_changed = from.dst != to.dst;
    const size_t l4avail = l.has_l4 && l.l4 <= b.size() ? b.size() - l.l4 : 0;
    std::span<uint8_t> l4 = b.subspan(l.has_l4 ? std::min(l.l4, b.size()) : b.size(), l4avail);

    // The L4 checksum covering the pseudo-header (TCP, UDP, ICMPv6).
    const size_t coff = l.has_l4 ? pseudo_csum_off(f, l.proto) : 0;
    // A quoted TCP header of only 8 bytes has no checksum to fix (the kernel
    // checks skb->len >= hdroff + sizeof(struct tcphdr) likewise).
    const bool has_csum = coff && fits(l4, coff, 2);
    const bool udp_zero =
        has_csum && f == Family::ipv4 && l.proto == proto::udp && get16(l4, coff) == 0;
    auto l4_csum_addr = [&](const IpAddr& o, const IpAddr& n) {
        if (has_csum && !udp_zero) put16(l4, coff, csum_replace_addr(get16(l4, coff), f, o, n));
    };
    auto l4_csum_word = [&](uint16_t o, uint16_t n) {
        if (has_csum && !udp_zero) put16(l4, coff, csum_replace2(get16(l4, coff), o, n));
    };

    if (src_changed && fits(b, l.src, alen)) {
        IpAddr old;
        std::memcpy(old.b.data(), &b[l.src], alen);
        std::memcpy(&b[l.src], to.src.b.data(), alen);
        if (f == Family::ipv4) put16(b, 10, csum_replace_addr(get16(b, 10), f, old, to.src));
        l4_csum_addr(old, to.src);
    }
    if (dst_changed && fits(b, l.dst, alen)) {
        IpAddr old;
        std::memcpy(old.b.data(), &b[l.dst], alen);
        std::memcpy(&b[l.dst], to.dst.b.data(), alen);
        if (f == Family::ipv4) put16(b, 10, csum_replace_addr(get16(b, 10), f, old, to.dst));
        l4_csum_addr(old, to.dst);
    }
    if (!l.has_l4) return;

    if (proto::has_ports(l.proto)) {
        if (from.sport != to.sport && fits(l4, 0, 2)) {
            const uint16_t o = get16(l4, 0);
            put16(l4, 0, to.sport);
            l4_csum_word(o, to.sport);
        }
        if (from.dport != to.dport && fits(l4, 2, 2)) {
            const uint16_t o = get16(l4, 2);
            put16(l4, 2, to.dport);
            l4_csum_word(o, to.dport);
        }
        if (l.proto == proto::sctp && !is_inner && fits(l4, 0, 12) &&
            (from.sport != to.sport || from.dport != to.dport)) {
            // sctp_manip_pkt(): the CRC is recomputed, not adjusted.
            const size_t len = std::min(l4.size(), l.l4_end > l.l4 ? l.l4_end - l.l4 : size_t(0));
            if (len >= 12) {
                std::memset(&l4[8], 0, 4);
                const uint32_t c = crc32c(l4.first(len));
                l4[8] = uint8_t(c), l4[9] = uint8_t(c >> 8), l4[10] = uint8_t(c >> 16),
                l4[11] = uint8_t(c >> 24);
            }
        }
        // A UDP checksum that came out 0 is sent as 0xffff (CSUM_MANGLED_0).
        if ((l.proto == proto::udp || l.proto == proto::udplite) && has_csum && !udp_zero &&
            get16(l4, coff) == 0)
            put16(l4, coff, 0xffff);
    } else if (l.proto == proto::icmp || l.proto == proto::icmpv6) {
        // icmp_manip_pkt() / icmpv6_manip_pkt(): the echo id.
        if (from.sport != to.sport && fits(l4, 4, 2)) {
            const uint16_t o = get16(l4, 4);
            put16(l4, 4, to.sport);
            if (fits(l4, 2, 2)) put16(l4, 2, csum_replace2(get16(l4, 2), o, to.sport));
        }
    }
}

void decrement_ttl(std::span<uint8_t> b, Family f) {
    if (f == Family::ipv4) {
        if (b.size() < 20 || b[8] == 0) return;
        const uint16_t o = get16(b, 8);
        --b[8];
        put16(b, 10, csum_replace2(get16(b, 10), o, get16(b, 8)));
    } else if (b.size() >= 40 && b[7] > 0) {
        --b[7];
    }
}

}  // namespace

void rewrite(std::span<uint8_t> b, Family f, const Tuple& from, const Tuple& to, bool forwarded) {
    const Layout l = parse(b, f);
    if (!l.ok) return;
    manip(b, f, l, from, to, false);
    if (forwarded) decrement_ttl(b, f);
}

void rewrite_icmp_error(std::span<uint8_t> b, Family f, const Tuple& outer_from,
                        const Tuple& outer_to, const Tuple& inner_from, const Tuple& inner_to,
                        bool forwarded) {
    const Layout l = parse(b, f);
    if (!l.ok || !l.has_l4 || (l.proto != proto::icmp && l.proto != proto::icmpv6) ||
        !fits(b, l.l4, 8)) {
        rewrite(b, f, outer_from, outer_to, forwarded);
        return;
    }
    std::span<uint8_t> icmp = b.subspan(l.l4);
    // The ICMP checksum covers the quoted packet: take the body's sum before
    // and after the inner rewrite and move the checksum by the difference
    // (works on a truncated capture too, unlike a full recompute).
    std::span<uint8_t> body = icmp.subspan(4);
    const uint16_t before = uint16_t(~csum_fold(csum_partial(body)));
    const Layout inner = parse(body.subspan(4), f);
    if (inner.ok) {
        std::span<uint8_t> ib = body.subspan(4);
        manip(ib, f, inner, inner_from, inner_to, true);
    }
    const uint16_t after = uint16_t(~csum_fold(csum_partial(body)));
    put16(icmp, 2, csum_replace2(get16(icmp, 2), before, after));

    // Outer: addresses only (an error has no id to rewrite).
    Tuple from = outer_from, to = outer_to;
    to.sport = from.sport;
    to.dport = from.dport;
    manip(b, f, l, from, to, false);
    if (forwarded) decrement_ttl(b, f);
}

}  // namespace fwsim::nat
