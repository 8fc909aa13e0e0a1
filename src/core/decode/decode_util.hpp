// Helpers shared by the decoder's files: big-endian reads and error texts.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>

#include "fwsim/checksum.hpp"
#include "fwsim/packet.hpp"

namespace fwsim::decode_detail {

inline uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t be32(const uint8_t* p) {
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

// The IPv4 header checksum test of ip_rcv_core() (ip_fast_csum() in
// arch/x86/include/asm/checksum_64.h): a header with the right checksum sums
// to 0xffff. The usual 20-byte header is summed here in three loads with the
// end-around carry and tested without folding (csum_sum_verifies()).
inline bool ipv4_header_sum_ok(const uint8_t* h, unsigned ihl) {
    if (ihl != 20) {
        // With options (24..60 bytes, a multiple of 4): at most 15 32-bit
        // words, whose sum fits 64 bits. No call: the decoder's usual path
        // then needs no stack frame.
        uint64_t s = 0;
        for (unsigned i = 0; i < ihl; i += 4) {
            uint32_t w;
            std::memcpy(&w, h + i, 4);
            s += w;
        }
        return csum_sum_verifies(s);
    }
    uint64_t a, b, s;
    uint32_t c;
    std::memcpy(&a, h, 8);
    std::memcpy(&b, h + 8, 8);
    std::memcpy(&c, h + 16, 4);
    // With the end-around carry; s + carry cannot wrap (add, adc).
    bool carry = __builtin_add_overflow(a, b, &s);
    s += carry;
    carry = __builtin_add_overflow(s, uint64_t(c), &s);
    s += carry;
    return csum_sum_verifies(s);
}

// Marks p malformed with a printf-style message (truncated to the buffer).
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
inline void set_malformed(Packet& p, const char* fmt, ...) {
    p.status = DecodeStatus::malformed;
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(p.error, sizeof p.error, fmt, ap);
    va_end(ap);
}

// Where the IP layer starts and how many of its bytes exist on the wire;
// `captured` <= `on_wire` (they differ only for snaplen-cut frames).
struct IpView {
    std::span<const uint8_t> frame;
    size_t off = 0;          // IP header offset in frame
    size_t captured = 0;     // frame.size() - off
    size_t on_wire = 0;      // bytes of the frame from off on the wire
    bool cut() const { return on_wire > captured; }
};

// The view of p.frame from `off` on.
inline IpView view_at(const Packet& p, size_t off) {
    IpView v;
    v.frame = p.frame;
    v.off = off;
    v.captured = p.frame.size() - off;
    // wire_len not set (0) or not larger than what we have: nothing was cut.
    v.on_wire = p.wire_len > p.frame.size() ? p.wire_len - off : v.captured;
    return v;
}

// Decodes the IP packet that starts at `off` in p.frame; `version` (4 or 6)
// is the one the link layer announced or the header's version nibble gave.
// (An offset, not an IpView: the view is then made in registers inside, and
// the link decoder's call is its last step, a jump.)
void decode_l3(Packet& p, size_t off, int version);

// Decodes the transport header at p.l4_offset. `captured` bytes of it are in
// the frame, p.l4_len per the IP header. `first_frag`: a first fragment, whose
// transport header is decoded only if it is there whole, never malformed.
void decode_l4(Packet& p, size_t captured, bool first_frag);

// Walks an IPv6 extension header chain as ipv6_skip_exthdr() does, starting
// with next header `nh` at `pos` in `b`. Stops at the first header that is not
// an extension header, at a fragment header with a non-zero offset, or at the
// end of the bytes. Returns false (and sets *err) on a chain that is too long
// or overruns the bytes.
struct ExtChain {
    uint8_t nh = 0;           // protocol after the chain
    size_t end = 0;           // offset after the chain
    size_t frag_hdr = 0;      // offset of the fragment header, 0 if none
    size_t frag_nh_at = 0;    // offset of the next-header byte that announced it
    uint16_t frag_off = 0;    // fragment offset in bytes
    bool more_frags = false;
    uint32_t frag_id = 0;
    bool is_fragment = false; // RFC 6946: an atomic fragment is not a fragment
    char err[80];             // why the walk failed: written whenever it returns false, read only then
};
// `strict` (the packet itself, not a quoted one): hop-by-hop must come first,
// as ip6_input_finish() drops a later one.
bool walk_ipv6_ext(std::span<const uint8_t> b, uint8_t nh, size_t pos, bool strict, ExtChain* out);

inline constexpr unsigned kMaxIpv6ExtHeaders = 16;
inline constexpr unsigned kMaxVlanTags = 8;

}  // namespace fwsim::decode_detail
