#include "io/output/json_line.hpp"

#include <arpa/inet.h>

namespace fwsim {

void append_json_string(std::string& out, std::string_view s) {
    static const char* hex = "0123456789abcdef";
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += char(c);
                }
        }
    }
    out += '"';
}

JsonLine& JsonLine::addr(std::string_view key, Family f, const IpAddr& a) {
    sep(key);
    out_ += '"';
    if (f == Family::ipv4) {
        char b[16];
        size_t n = 0;
        for (int i = 0; i < 4; ++i) {
            if (i) b[n++] = '.';
            const unsigned v = a.b[i];
            if (v >= 100) b[n++] = char('0' + v / 100);
            if (v >= 10) b[n++] = char('0' + v / 10 % 10);
            b[n++] = char('0' + v % 10);
        }
        out_.append(b, n);
    } else {
        char b[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, a.b.data(), b, sizeof b);
        out_ += b;
    }
    out_ += '"';
    return *this;
}

}  // namespace fwsim
