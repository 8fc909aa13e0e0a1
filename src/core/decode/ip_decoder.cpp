// IPv4 and IPv6 headers, IPv6 extension header chains, fragment fields.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "decode_util.hpp"
#include "fwsim/checksum.hpp"
#include "fwsim/decode/decoder.hpp"

namespace fwsim::decode_detail {

namespace {

bool is_ipv6_ext(uint8_t nh) {
    return nh == proto::hopopts || nh == proto::ipv6_route || nh == proto::ipv6_frag ||
           nh == proto::ipv6_dstopts || nh == proto::ah;
}

// IP lengths are checked against the bytes on the wire; when the capture did
// not cut the frame those are the captured bytes (see the snaplen rule in
// decoder.hpp).
const char* length_basis(const IpView& v) { return v.cut() ? "on wire" : "captured"; }

void decode_ipv4(Packet& p, const IpView& v) {
    const uint8_t* h = v.frame.data() + v.off;
    if (v.captured < 20) {
        if (v.cut() && v.on_wire >= 20)
            set_malformed(p, "ipv4: header truncated by capture (%zu of 20 bytes)", v.captured);
        else
            set_malformed(p, "ipv4: packet %zu bytes < 20", v.captured);
        return;
    }
    // The checks of ip_rcv_core() in net/ipv4/ip_input.c, which drops such
    // packets before PREROUTING. 0x45 (version 4, 20 bytes: nearly every
    // packet) passes the first three; 20 bytes were captured.
    const unsigned ihl = (h[0] & 0x0f) * 4u;
    if (h[0] != 0x45) {
        if ((h[0] >> 4) != 4) {
            set_malformed(p, "ipv4: version %d != 4", h[0] >> 4);
            return;
        }
        if (ihl < 20) {
            set_malformed(p, "ipv4: header length %u < 20", ihl);
            return;
        }
        if (ihl > v.captured) {
            set_malformed(p, "ipv4: header length %u > %zu captured", ihl, v.captured);
            return;
        }
    }
    if (!ipv4_header_sum_ok(h, ihl)) {
        set_malformed(p, "ipv4: bad header checksum 0x%04x", be16(h + 10));
        return;
    }
    const unsigned tot = be16(h + 2);
    if (tot < ihl) {
        set_malformed(p, "ipv4: total length %u < header length %u", tot, ihl);
        return;
    }
    if (tot > v.on_wire) {
        set_malformed(p, "ipv4: total length %u > %zu %s", tot, v.on_wire, length_basis(v));
        return;
    }
    p.family = Family::ipv4;
    p.tos = h[1];
    p.ttl = h[8];
    p.l4proto = h[9];
    p.ip_id = be16(h + 4);
    std::memcpy(p.src.b.data(), h + 12, 4);
    std::memcpy(p.dst.b.data(), h + 16, 4);
    p.ip_len = tot;
    p.ip_hdr_len = uint16_t(ihl);
    const uint16_t fo = be16(h + 6);
    p.more_frags = fo & 0x2000;
    p.dont_frag = fo & 0x4000;
    p.frag_offset = uint16_t((fo & 0x1fff) * 8);
    p.is_fragment = (fo & 0x3fff) != 0;  // ip_is_fragment(): MF or an offset
    p.frag_id = p.ip_id;
    p.l4_offset = uint16_t(v.off + ihl);
    p.l4_len = tot - ihl;
    if (p.frag_offset != 0) return;  // a later fragment: no transport header
    decode_l4(p, std::min<size_t>(tot, v.captured) - ihl, p.is_fragment);
}

// Out of line: its extension-header walk needs a large frame (ExtChain) and
// registers that the IPv4 path should not set up.
[[gnu::noinline]] void decode_ipv6(Packet& p, size_t off) {
    const IpView v = view_at(p, off);
    const uint8_t* h = v.frame.data() + v.off;
    if (v.captured < 40) {
        if (v.cut() && v.on_wire >= 40)
            set_malformed(p, "ipv6: header truncated by capture (%zu of 40 bytes)", v.captured);
        else
            set_malformed(p, "ipv6: packet %zu bytes < 40", v.captured);
        return;
    }
    // ipv6_rcv() / ip6_rcv_core() in net/ipv6/ip6_input.c
    if ((h[0] >> 4) != 6) {
        set_malformed(p, "ipv6: version %d != 6", h[0] >> 4);
        return;
    }
    const unsigned plen = be16(h + 4);
    const size_t tot = 40 + size_t(plen);
    if (tot > v.on_wire) {
        set_malformed(p, "ipv6: payload length %u > %zu %s", plen, v.on_wire - 40, length_basis(v));
        return;
    }
    p.family = Family::ipv6;
    p.tos = uint8_t((h[0] & 0x0f) << 4 | h[1] >> 4);
    p.ttl = h[7];
    std::memcpy(p.src.b.data(), h + 8, 16);
    std::memcpy(p.dst.b.data(), h + 24, 16);
    p.ip_len = uint32_t(tot);
    const std::span<const uint8_t> b(h, std::min(tot, v.captured));
    ExtChain c;
    if (!walk_ipv6_ext(b, h[6], 40, true, &c)) {
        set_malformed(p, "%s", c.err);
        return;
    }
    if (v.off + c.end > 0xffff) {
        set_malformed(p, "ipv6: extension headers %zu bytes too long", c.end - 40);
        return;
    }
    p.l4proto = c.nh;
    p.ip_hdr_len = uint16_t(c.end);
    p.is_fragment = c.is_fragment;
    p.more_frags = c.more_frags;
    p.frag_offset = c.frag_off;
    p.frag_id = c.frag_id;
    p.l4_offset = uint16_t(v.off + c.end);
    p.l4_len = uint32_t(tot - c.end);
    if (p.frag_offset != 0) return;
    decode_l4(p, b.size() - c.end, p.is_fragment);
}

}  // namespace

bool walk_ipv6_ext(std::span<const uint8_t> b, uint8_t nh, size_t pos, bool strict, ExtChain* out) {
    // As ipv6_skip_exthdr() in net/ipv6/exthdrs_core.c, plus a bound on the
    // number of headers (the kernel is bounded only by the packet length).
    unsigned count = 0;
    size_t nh_at = 6;  // where the current next-header value was read
    while (is_ipv6_ext(nh)) {
        if (++count > kMaxIpv6ExtHeaders) {
            std::snprintf(out->err, sizeof out->err, "ipv6: extension header chain too long");
            return false;
        }
        if (strict && nh == proto::hopopts && count != 1) {
            std::snprintf(out->err, sizeof out->err, "ipv6: hop-by-hop header not first");
            return false;
        }
        const size_t fixed = nh == proto::ipv6_frag ? 8 : 2;
        if (pos + fixed > b.size()) {
            std::snprintf(out->err, sizeof out->err, "ipv6: extension header %u truncated", unsigned(nh));
            return false;
        }
        size_t len;
        if (nh == proto::ipv6_frag) {
            len = 8;
            const uint16_t fo = be16(&b[pos + 2]);
            out->frag_hdr = pos;
            out->frag_nh_at = nh_at;
            out->frag_off = fo & 0xfff8;
            out->more_frags = fo & 1;
            out->frag_id = be32(&b[pos + 4]);
            // An atomic fragment (offset 0, M 0; RFC 6946) is not one: as
            // the frag_off & htons(0xFFF9) test of nf_ct_frag6_gather().
            out->is_fragment = (fo & 0xfff9) != 0;
            if (out->frag_off != 0) {  // a later fragment: the rest is payload
                nh = b[pos];
                pos += len;
                break;
            }
        } else if (nh == proto::ah) {
            len = (size_t(b[pos + 1]) + 2) * 4;  // ipv6_authlen()
        } else {
            len = (size_t(b[pos + 1]) + 1) * 8;  // ipv6_optlen()
        }
        if (pos + len > b.size()) {
            std::snprintf(out->err, sizeof out->err, "ipv6: extension header %u length %zu overruns packet",
                          unsigned(nh), len);
            return false;
        }
        nh = b[pos];
        nh_at = pos;
        pos += len;
    }
    out->nh = nh;
    out->end = pos;
    return true;
}

void decode_l3(Packet& p, size_t off, int version) {
    p.l3_offset = uint16_t(off);
    if (version == 4)
        decode_ipv4(p, view_at(p, off));
    else
        decode_ipv6(p, off);
}

}  // namespace fwsim::decode_detail
