#include "fwsim/checksum.hpp"

namespace fwsim {

uint32_t csum_partial(std::span<const uint8_t> d, uint32_t sum) {
    uint64_t s = sum;
    size_t i = 0;
    for (; i + 1 < d.size(); i += 2) s += uint32_t(d[i]) << 8 | d[i + 1];
    if (i < d.size()) s += uint32_t(d[i]) << 8;
    while (s >> 32) s = (s & 0xffffffff) + (s >> 32);
    return uint32_t(s);
}

uint16_t csum_fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

uint32_t csum_pseudo(Family f, const IpAddr& src, const IpAddr& dst, uint8_t proto, uint32_t len) {
    const size_t n = f == Family::ipv4 ? 4 : 16;
    uint32_t s = csum_partial({src.b.data(), n});
    s = csum_partial({dst.b.data(), n}, s);
    uint64_t t = uint64_t(s) + proto + (len >> 16) + (len & 0xffff);
    while (t >> 32) t = (t & 0xffffffff) + (t >> 32);
    return uint32_t(t);
}

uint16_t csum_replace2(uint16_t check, uint16_t old_word, uint16_t new_word) {
    // HC' = ~(~HC + ~m + m')
    uint32_t s = uint16_t(~check);
    s += uint16_t(~old_word);
    s += new_word;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return uint16_t(~s);
}

uint16_t csum_replace_addr(uint16_t check, Family f, const IpAddr& o, const IpAddr& n) {
    const size_t len = f == Family::ipv4 ? 4 : 16;
    for (size_t i = 0; i < len; i += 2)
        check = csum_replace2(check, uint16_t(o.b[i] << 8 | o.b[i + 1]), uint16_t(n.b[i] << 8 | n.b[i + 1]));
    return check;
}

}  // namespace fwsim
