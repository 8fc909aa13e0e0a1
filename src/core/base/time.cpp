#include "fwsim/time.hpp"

#include <charconv>

namespace fwsim {

void append_ts(std::string& out, Nanos t, int digits) {
    char buf[48];
    char* p = buf;
    if (t < 0) {
        *p++ = '-';
        t = -t;
    }
    const int64_t sec = t / kSecond;
    int64_t frac = t % kSecond;
    p = std::to_chars(p, buf + sizeof buf, sec).ptr;
    if (digits > 0) {
        for (int i = digits; i < 9; ++i) frac /= 10;
        *p++ = '.';
        char* end = p + digits;
        for (char* q = end - 1; q >= p; --q) {
            *q = char('0' + frac % 10);
            frac /= 10;
        }
        p = end;
    }
    out.append(buf, p);
}

std::string format_ts(Nanos t, int digits) {
    std::string s;
    append_ts(s, t, digits);
    return s;
}

}  // namespace fwsim
