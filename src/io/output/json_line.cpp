#include "io/output/json_line.hpp"

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

// As inet_ntop6() in glibc's resolv/inet_ntop.c: the longest run of two or
// more zero groups (the first on a tie) becomes "::", groups are lowercase
// hex without leading zeros, and ::a.b.c.d / ::ffff:a.b.c.d end in a dotted
// quad. inet_ntop() itself took ~175 ns an address, this ~20 ns
// (BM_field_addr_v6).
char* put_ipv6(char* p, const IpAddr& a) {
    static constexpr char hex[] = "0123456789abcdef";
    uint16_t w[8];
    for (size_t i = 0; i < 8; ++i) w[i] = uint16_t(a.b[2 * i] << 8 | a.b[2 * i + 1]);
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (w[i]) {
            ++i;
            continue;
        }
        int j = i;
        while (j < 8 && w[j] == 0) ++j;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    if (best_len < 2) best = -1;
    for (int i = 0; i < 8; ++i) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best) *p++ = ':';
            continue;
        }
        if (i) *p++ = ':';
        if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
            return put_dotted_quad(p, a.b.data() + 12);
        const unsigned v = w[i];
        if (v >= 0x1000) *p++ = hex[v >> 12];
        if (v >= 0x100) *p++ = hex[(v >> 8) & 15];
        if (v >= 0x10) *p++ = hex[(v >> 4) & 15];
        *p++ = hex[v & 15];
    }
    if (best >= 0 && best + best_len == 8) *p++ = ':';
    return p;
}

namespace {

// The text of the last whole second put_ts() wrote: consecutive records
// mostly fall in the same second, and its ten digits were a tenth of a
// verdict record's instructions. Per thread, so any thread may write records.
struct SecondsText {
    uint64_t sec = ~uint64_t(0);  // never a real value: u / 10^9 < 2^35
    char text[24] = {};
    unsigned len = 0;
};
thread_local SecondsText t_seconds;

}  // namespace

char* put_ts(char* p, Nanos t, int digits) {
    // Unsigned from here on: -INT64_MIN does not overflow.
    uint64_t u = uint64_t(t);
    if (t < 0) {
        *p++ = '-';
        u = 0 - u;
    }
    const uint64_t sec = u / uint64_t(kSecond);
    const uint64_t frac = u % uint64_t(kSecond);
    SecondsText& c = t_seconds;
    if (c.sec != sec) {
        c.len = unsigned(put_u64(c.text, sec) - c.text);
        c.sec = sec;
    }
    std::memcpy(p, c.text, sizeof c.text);  // fixed size: the caller made room for 32
    p += c.len;
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
    room(48);
    *p_++ = '"';
    p_ = f == Family::ipv4 ? json::put_ipv4(p_, a) : json::put_ipv6(p_, a);
    *p_++ = '"';
}

}  // namespace fwsim
