#include "values.hpp"

#include <cstdio>

#include "fwsim/net.hpp"
#include "parser.hpp"

namespace fwsim::rules::detail {

void put_be(uint8_t* out, uint64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) {
        out[i] = uint8_t(v);
        v >>= 8;
    }
}

uint64_t get_be(const uint8_t* in, int width) {
    uint64_t v = 0;
    for (int i = 0; i < width; ++i) v = (v << 8) | in[i];
    return v;
}

bool is_wildcard(const std::string& s) { return !s.empty() && s.back() == '*'; }

std::vector<uint16_t> expand_ifname(std::span<const std::string> interfaces, const std::string& pattern) {
    std::vector<uint16_t> out;
    bool wild = is_wildcard(pattern);
    std::string stem = wild ? pattern.substr(0, pattern.size() - 1) : pattern;
    for (size_t i = 0; i < interfaces.size(); ++i) {
        const std::string& n = interfaces[i];
        if (wild ? n.compare(0, stem.size(), stem) == 0 : n == stem) out.push_back(uint16_t(i));
    }
    return out;
}

namespace {

[[noreturn]] void mismatch(const ValueContext& vc, Type t, const Val& v, const std::string& what) {
    std::string got = v.text;
    if (v.k == Val::K::string) got = "\"" + v.text + "\"";
    fail_at(*vc.sources, v.loc,
            "type mismatch: " + what + " expects " + std::string(type_desc(t)) + ", got " + got);
}

std::optional<uint64_t> parse_number(std::string_view s) {
    if (s.empty()) return std::nullopt;
    uint64_t v = 0;
    int base = 10;
    size_t i = 0;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    for (; i < s.size(); ++i) {
        char c = s[i];
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return std::nullopt;
        if (v > (UINT64_MAX - uint64_t(d)) / uint64_t(base)) return std::nullopt;
        v = v * uint64_t(base) + uint64_t(d);
    }
    return v;
}

// One scalar (no range) of an integer-like type.
std::optional<uint64_t> scalar(const ValueContext& vc, Type t, std::string_view text) {
    if (auto s = symbol_value(t, text)) return s;
    if (t == Type::ifname || t == Type::iface) {
        for (size_t i = 0; i < vc.interfaces.size(); ++i)
            if (vc.interfaces[i] == text) return i;
        return std::nullopt;
    }
    return parse_number(text);
}

uint64_t max_of(Type t) {
    int w = type_width(t);
    return w >= 8 ? UINT64_MAX : (uint64_t(1) << (8 * w)) - 1;
}

bool addr_of(Type t, std::string_view text, std::vector<uint8_t>& out) {
    Family f = Family::none;
    auto a = parse_addr(text, &f);
    if (!a) return false;
    if ((t == Type::ipv4) != (f == Family::ipv4)) return false;
    int w = type_width(t);
    out.assign(a->b.begin(), a->b.begin() + w);
    return true;
}

}  // namespace

Encoded encode_value(const ValueContext& vc, Type t, const Val& v, const std::string& what) {
    Encoded e;
    int w = type_width(t);
    if (v.k == Val::K::range) {
        Encoded lo = encode_value(vc, t, v.kids[0], what);
        Encoded hi = encode_value(vc, t, v.kids[1], what);
        e.lo = lo.lo;
        e.hi = hi.hi;
        e.is_range = true;
        if (t == Type::hour && e.lo > e.hi) {
            // "22:00"-"06:00" crosses midnight: nft stores != "06:00"-"22:00"
            // (range_needs_swap() in evaluate.c), so 22:00 and 06:00 themselves
            // do not match, as in the kernel
            e.lo = hi.hi;
            e.hi = lo.lo;
            e.inverted = true;
            return e;
        }
        if (e.lo > e.hi) fail_at(*vc.sources, v.loc, "range has its low end above its high end");
        return e;
    }
    if (v.k != Val::K::atom && v.k != Val::K::string) {
        if (v.k == Val::K::list || v.k == Val::K::orlist) {
            if (type_is_bitmask(t)) {
                e.lo.resize(size_t(w));
                put_be(e.lo.data(), flags_value(vc, t, v, what), w);
                e.hi = e.lo;
                return e;
            }
        }
        fail_at(*vc.sources, v.loc, "type mismatch: " + what + " expects " +
                                        std::string(type_desc(t)) + ", got a set or list");
    }
    const std::string& text = v.text;
    if (t == Type::ipv4 || t == Type::ipv6) {
        size_t slash = text.find('/');
        if (slash != std::string::npos) {
            auto p = parse_prefix(text);
            if (!p || (p->family == Family::ipv4) != (t == Type::ipv4)) mismatch(vc, t, v, what);
            e.lo.assign(p->addr.b.begin(), p->addr.b.begin() + w);
            e.hi = e.lo;
            for (int bit = p->len; bit < 8 * w; ++bit) e.hi[size_t(bit / 8)] |= uint8_t(0x80 >> (bit % 8));
            e.is_range = p->len < 8 * w;
            return e;
        }
        if (addr_of(t, text, e.lo)) {
            e.hi = e.lo;
            return e;
        }
        size_t dash = text.find('-');
        if (dash != std::string::npos && addr_of(t, text.substr(0, dash), e.lo) &&
            addr_of(t, text.substr(dash + 1), e.hi)) {
            if (e.lo > e.hi) fail_at(*vc.sources, v.loc, "range has its low end above its high end");
            e.is_range = true;
            return e;
        }
        mismatch(vc, t, v, what);
    }
    if (t == Type::ifname || t == Type::iface) {
        if (v.k == Val::K::atom) {
            // what nft's scanner reads as a range or a protocol is not a name
            size_t dash = text.find('-');
            auto digits = [](std::string_view x) {
                return !x.empty() && x.find_first_not_of("0123456789") == std::string_view::npos;
            };
            if (dash != std::string::npos && digits(std::string_view(text).substr(0, dash)) &&
                digits(std::string_view(text).substr(dash + 1)))
                fail_at(*vc.sources, v.loc, "Range expression is undefined for network interface name types");
            if (symbol_value(Type::proto, text))
                fail_at(*vc.sources, v.loc, "type mismatch: " + what + " expects " + std::string(type_desc(t)) +
                                                ", got the protocol " + text);
        }
        auto idx = scalar(vc, t, text);
        uint64_t x;
        if (idx) {
            x = *idx;
        } else if (t == Type::iface && text != "lo") {
            // the loopback device always exists in the kernel; packets of a
            // capture never come in or go out on it unless the topology says so
            fail_at(*vc.sources, v.loc, "interface \"" + text + "\" does not exist");
        } else {
            x = kUnknownIf;  // no packet can come in or go out on it
        }
        e.lo.resize(2);
        put_be(e.lo.data(), x, 2);
        e.hi = e.lo;
        return e;
    }
    if (t == Type::verdict) mismatch(vc, t, v, what);
    if (t == Type::hour) {
        // "HH:MM" or "HH:MM:SS", seconds since midnight (nft's hour_type)
        unsigned hh = 0, mm = 0, ss = 0;
        char c1 = 0, c2 = 0;
        int n = std::sscanf(text.c_str(), "%2u%c%2u%c%2u", &hh, &c1, &mm, &c2, &ss);
        if (!((n == 3 && c1 == ':') || (n == 5 && c1 == ':' && c2 == ':')) || hh > 23 || mm > 59 || ss > 59)
            mismatch(vc, t, v, what);
        e.lo.resize(4);
        put_be(e.lo.data(), hh * 3600 + mm * 60 + ss, 4);
        e.hi = e.lo;
        return e;
    }
    std::optional<uint64_t> lo = scalar(vc, t, text), hi;
    if (lo) {
        hi = lo;
    } else {
        // "1024-65535" is a range; "ssh-http" is not (nft reads it as one name)
        auto numeric = [](std::string_view x) { return !x.empty() && x[0] >= '0' && x[0] <= '9'; };
        size_t dash = text.find('-');
        if (dash != std::string::npos && !(numeric(text.substr(0, dash)) && numeric(text.substr(dash + 1))))
            dash = std::string::npos;
        while (dash != std::string::npos && !lo) {
            lo = scalar(vc, t, text.substr(0, dash));
            hi = scalar(vc, t, text.substr(dash + 1));
            if (!lo || !hi) {
                lo.reset();
                dash = text.find('-', dash + 1);
            }
        }
        if (!lo || !hi) mismatch(vc, t, v, what);
        e.is_range = true;
    }
    if (*lo > max_of(t) || *hi > max_of(t))
        fail_at(*vc.sources, v.loc, "value " + text + " is out of range for " + what);
    if (*lo > *hi) fail_at(*vc.sources, v.loc, "range has its low end above its high end");
    e.lo.resize(size_t(w));
    e.hi.resize(size_t(w));
    put_be(e.lo.data(), *lo, w);
    put_be(e.hi.data(), *hi, w);
    return e;
}

uint64_t flags_value(const ValueContext& vc, Type t, const Val& v, const std::string& what) {
    if (v.k == Val::K::list || v.k == Val::K::orlist || v.k == Val::K::set) {
        uint64_t f = 0;
        for (const auto& k : v.kids) f |= flags_value(vc, t, k, what);
        return f;
    }
    Encoded e = encode_value(vc, t, v, what);
    if (e.is_range) fail_at(*vc.sources, v.loc, "a range is not a flag value");
    return get_be(e.lo.data(), int(e.lo.size()));
}

}  // namespace fwsim::rules::detail
