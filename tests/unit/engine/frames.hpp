// Raw-IP (DLT_RAW) frames with correct checksums, for the engine's tests.
#pragma once

#include <cstdint>
#include <vector>

#include "fwsim/net.hpp"

namespace fwsim::test {

// An independent RFC 1071 sum (the tests do not trust fwsim's checksum code).
inline uint32_t sum(const uint8_t* p, size_t n, uint32_t s = 0) {
    for (size_t i = 0; i + 1 < n; i += 2) s += uint32_t(p[i]) << 8 | p[i + 1];
    if (n & 1) s += uint32_t(p[n - 1]) << 8;
    return s;
}
inline uint16_t fold(uint32_t s) {
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return uint16_t(~s);
}
inline void put16(std::vector<uint8_t>& b, size_t o, uint16_t v) {
    b[o] = uint8_t(v >> 8);
    b[o + 1] = uint8_t(v);
}
inline void put32(std::vector<uint8_t>& b, size_t o, uint32_t v) {
    put16(b, o, uint16_t(v >> 16));
    put16(b, o + 2, uint16_t(v));
}

// An IPv4 header (20 bytes) for `l4_len` bytes of protocol `proto`.
inline std::vector<uint8_t> ip4(const char* src, const char* dst, uint8_t proto, size_t l4_len) {
    std::vector<uint8_t> b(20 + l4_len, 0);
    Family f;
    const IpAddr s = *parse_addr(src, &f), d = *parse_addr(dst, &f);
    b[0] = 0x45;
    put16(b, 2, uint16_t(b.size()));
    put16(b, 4, 1);
    b[6] = 0x40;  // DF
    b[8] = 64;
    b[9] = proto;
    for (int i = 0; i < 4; ++i) b[12 + i] = s.b[i], b[16 + i] = d.b[i];
    put16(b, 10, fold(sum(b.data(), 20)));
    return b;
}

// The transport checksum over the IPv4 pseudo header, written at `at`.
inline void l4_sum4(std::vector<uint8_t>& b, size_t at) {
    uint32_t ps = sum(b.data() + 12, 8);
    ps += b[9] + uint32_t(b.size() - 20);
    put16(b, at, fold(sum(b.data() + 20, b.size() - 20, ps)));
}

inline std::vector<uint8_t> tcp4(const char* src, const char* dst, uint16_t sport, uint16_t dport, uint8_t flags,
                                 uint32_t seq, uint32_t ack = 0, size_t payload = 0) {
    std::vector<uint8_t> b = ip4(src, dst, 6, 20 + payload);
    put16(b, 20, sport);
    put16(b, 22, dport);
    put32(b, 24, seq);
    put32(b, 28, ack);
    b[32] = 5 << 4;
    b[33] = flags;
    put16(b, 34, 64240);
    l4_sum4(b, 36);
    return b;
}

inline std::vector<uint8_t> udp4(const char* src, const char* dst, uint16_t sport, uint16_t dport,
                                 size_t payload = 8) {
    std::vector<uint8_t> b = ip4(src, dst, 17, 8 + payload);
    put16(b, 20, sport);
    put16(b, 22, dport);
    put16(b, 24, uint16_t(8 + payload));
    l4_sum4(b, 26);
    return b;
}

constexpr uint8_t FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10;

}  // namespace fwsim::test
