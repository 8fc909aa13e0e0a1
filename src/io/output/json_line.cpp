#include "io/output/json_line.hpp"

#include <arpa/inet.h>

#include <array>

namespace fwsim {

namespace json {

namespace {

constexpr std::array<Octet, 256> make_octets() {
    std::array<Octet, 256> t{};
    for (unsigned v = 0; v < 256; ++v) {
        Octet& o = t[v];
        unsigned n = 0;
        if (v >= 100) o.text[n++] = char('0' + v / 100);
        if (v >= 10) o.text[n++] = char('0' + v / 10 % 10);
        o.text[n++] = char('0' + v % 10);
        o.text[n++] = '.';
        o.len = uint8_t(n);
    }
    return t;
}

}  // namespace

constinit const std::array<Octet, 256> kOctets = make_octets();

char* put_ts(char* p, Nanos t, int digits) {
    // Unsigned from here on: -INT64_MIN does not overflow.
    uint64_t u = uint64_t(t);
    if (t < 0) {
        *p++ = '-';
        u = 0 - u;
    }
    const uint64_t sec = u / uint64_t(kSecond);
    const uint64_t frac = u % uint64_t(kSecond);
    p = put_u64(p, sec);
    if (digits <= 0) return p;
    *p++ = '.';
    // Truncated, not rounded, as append_ts(). The capture readers give 6 or 9.
    switch (digits) {
        case 6: put_fixed(p, uint32_t(frac / 1000), 6); return p + 6;
        case 9: put_fixed(p, uint32_t(frac), 9); return p + 9;
        default: {
            const unsigned n = digits > 9 ? 9u : unsigned(digits);
            uint32_t f = uint32_t(frac);
            for (unsigned i = n; i < 9; ++i) f /= 10;
            put_fixed(p, f, n);
            return p + n;
        }
    }
}

}  // namespace json

namespace {

// Writes s escaped into dst (which has room for 6 bytes per input byte);
// returns the end. Bytes >= 0x80 (UTF-8) and 0x7f pass through as they are.
char* escape(char* dst, std::string_view s) {
    static const char* hex = "0123456789abcdef";
    for (unsigned char c : s) {
        switch (c) {
            case '"': *dst++ = '\\'; *dst++ = '"'; break;
            case '\\': *dst++ = '\\'; *dst++ = '\\'; break;
            case '\n': *dst++ = '\\'; *dst++ = 'n'; break;
            case '\r': *dst++ = '\\'; *dst++ = 'r'; break;
            case '\t': *dst++ = '\\'; *dst++ = 't'; break;
            default:
                if (c < 0x20) {
                    std::memcpy(dst, "\\u00", 4);
                    dst[4] = hex[c >> 4];
                    dst[5] = hex[c & 15];
                    dst += 6;
                } else {
                    *dst++ = char(c);
                }
        }
    }
    return dst;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    const size_t at = out.size();
    out.resize(at + s.size() * 6 + 2);
    char* p = out.data() + at;
    *p++ = '"';
    p = escape(p, s);
    *p++ = '"';
    out.resize(size_t(p - out.data()));
}

void JsonLine::string(std::string_view s) {
    const size_t worst = s.size() * 6 + 2;
    if (worst > kBuf) {  // a very long string: escape it straight into the output
        flush();
        append_json_string(out_, s);
        return;
    }
    room(worst);
    *p_++ = '"';
    p_ = escape(p_, s);
    *p_++ = '"';
}

void JsonLine::address(Family f, const IpAddr& a) {
    room(INET6_ADDRSTRLEN + 2);
    *p_++ = '"';
    if (f == Family::ipv4) {
        p_ = json::put_ipv4(p_, a);
    } else {
        // RFC 5952 text (glibc's inet_ntop; IPv6 is rare in the outputs).
        inet_ntop(AF_INET6, a.b.data(), p_, INET6_ADDRSTRLEN);
        p_ += std::strlen(p_);
    }
    *p_++ = '"';
}

}  // namespace fwsim
