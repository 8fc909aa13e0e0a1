#include "io/output/json_line.hpp"

#include <arpa/inet.h>

namespace fwsim {

namespace {

// Writes s escaped into dst (which has room for 6 bytes per input byte);
// returns the end.
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

JsonLine& JsonLine::ts(std::string_view key, Nanos t, int digits) {
    sep(key);
    room(32);
    char* p = p_;
    if (t < 0) {
        *p++ = '-';
        t = -t;
    }
    p = std::to_chars(p, p + 20, t / kSecond).ptr;
    if (digits > 0) {
        int64_t frac = t % kSecond;
        for (int i = digits; i < 9; ++i) frac /= 10;
        *p++ = '.';
        for (char* q = p + digits - 1; q >= p; --q) {
            *q = char('0' + frac % 10);
            frac /= 10;
        }
        p += digits;
    }
    p_ = p;
    return *this;
}

JsonLine& JsonLine::addr(std::string_view key, Family f, const IpAddr& a) {
    sep(key);
    room(INET6_ADDRSTRLEN + 2);
    *p_++ = '"';
    if (f == Family::ipv4) {
        for (int i = 0; i < 4; ++i) {
            if (i) *p_++ = '.';
            const unsigned v = a.b[i];
            if (v >= 100) *p_++ = char('0' + v / 100);
            if (v >= 10) *p_++ = char('0' + v / 10 % 10);
            *p_++ = char('0' + v % 10);
        }
    } else {
        inet_ntop(AF_INET6, a.b.data(), p_, INET6_ADDRSTRLEN);
        p_ += std::strlen(p_);
    }
    *p_++ = '"';
    return *this;
}

}  // namespace fwsim
