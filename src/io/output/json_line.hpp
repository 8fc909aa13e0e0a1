// A minimal, fast JSON writer for the per-packet outputs: a record is built
// in a buffer on the stack with plain pointer writes and appended to the
// output string once (flushed early only if a long string could overflow
// it). No DOM, no allocation once the output buffer has grown.
// (nlohmann/json is for config, topology and small documents.)
//
// Keys known at compile time are given as template arguments,
// j.num<"sport">(v): the key is rendered once with its punctuation (,"sport":)
// and copied with one fixed-size memcpy. That, numbers two digits at a time,
// a table of IPv4 octets and IPv6 text without inet_ntop halved the
// instructions of a verdict record (issue 7; fwsim-micro-json measures it).
// Keys known only at run time (the stats record's per-protocol counters)
// use the string_view overloads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fwsim/net.hpp"
#include "fwsim/time.hpp"

namespace fwsim {

// Appends s as a JSON string literal (quotes included), escaping as RFC 8259.
void append_json_string(std::string& out, std::string_view s);

namespace json {

// A key and its punctuation, rendered at compile time: ,"name":
// The leading ',' is replaced by '{' when the key is an object's first.
template <size_t N>
struct Key {
    static constexpr size_t size = N + 3;  // N-1 name bytes + ,"":
    char text[size] = {};
    consteval Key(const char (&name)[N]) {
        text[0] = ',';
        text[1] = '"';
        for (size_t i = 0; i + 1 < N; ++i) text[i + 2] = name[i];
        text[N + 1] = '"';
        text[N + 2] = ':';
    }
};

// Decimal digits of v (1 for 0).
inline unsigned digits10(uint64_t v) {
    static constexpr uint64_t kPow10[] = {1ull,
                                          10ull,
                                          100ull,
                                          1000ull,
                                          10000ull,
                                          100000ull,
                                          1000000ull,
                                          10000000ull,
                                          100000000ull,
                                          1000000000ull,
                                          10000000000ull,
                                          100000000000ull,
                                          1000000000000ull,
                                          10000000000000ull,
                                          100000000000000ull,
                                          1000000000000000ull,
                                          10000000000000000ull,
                                          100000000000000000ull,
                                          1000000000000000000ull,
                                          10000000000000000000ull};
    // bit_width * log10(2) is the digit count or one less than it. v | 1
    // has the digits of v (powers of ten are even) and is never 0.
    const uint64_t x = v | 1;
    const unsigned bits = 64u - unsigned(__builtin_clzll(x));
    const unsigned d = (bits * 1233u) >> 12;
    return d + (x >= kPow10[d]);
}

// "00".."99": two digits at a time halves the divisions.
consteval std::array<char, 200> make_digit_pairs() {
    std::array<char, 200> t{};
    for (int i = 0; i < 100; ++i) {
        t[size_t(2 * i)] = char('0' + i / 10);
        t[size_t(2 * i + 1)] = char('0' + i % 10);
    }
    return t;
}
inline constexpr std::array<char, 200> kDigitPairs = make_digit_pairs();

// Writes exactly n digits of v (v < 10^n), right to left, two at a time.
// Uint is uint32_t when the value fits: 32-bit divisions by 100 are cheaper.
template <class Uint>
[[gnu::always_inline]] inline void put_fixed(char* p, Uint v, unsigned n) {
    char* q = p + n;
    while (n >= 2) {
        q -= 2;
        std::memcpy(q, kDigitPairs.data() + 2 * (v % 100), 2);
        v /= 100;
        n -= 2;
    }
    if (n) *--q = char('0' + v);
}

// Writes v in decimal at p (room for 20 bytes); returns the end.
[[gnu::always_inline]] inline char* put_u64(char* p, uint64_t v) {
    if (v < 100) {  // flags, codes, small counters
        if (v < 10) {
            *p = char('0' + v);
            return p + 1;
        }
        std::memcpy(p, kDigitPairs.data() + 2 * v, 2);
        return p + 2;
    }
    const unsigned n = digits10(v);
    if (v <= UINT32_MAX) put_fixed(p, uint32_t(v), n);
    else put_fixed(p, v, n);
    return p + n;
}

// Octet n as text with a trailing '.', padded to 4 bytes, and its length
// with the dot: an address is four fixed 4-byte copies.
struct Octet {
    char text[4];
    uint8_t len;
};
extern const std::array<Octet, 256> kOctets;

// Writes the dotted quad of b[0..3] at p (room for 16 bytes); returns the end.
[[gnu::always_inline]] inline char* put_dotted_quad(char* p, const uint8_t* b) {
    for (size_t i = 0; i < 4; ++i) {
        const Octet& o = kOctets[b[i]];
        std::memcpy(p, o.text, 4);
        p += o.len;
    }
    return p - 1;  // no dot after the last octet
}
// Writes the IPv4 address at p (room for 16 bytes); returns the end.
[[gnu::always_inline]] inline char* put_ipv4(char* p, const IpAddr& a) { return put_dotted_quad(p, a.b.data()); }
// Writes the IPv6 address at p as RFC 5952 text, the same as glibc's
// inet_ntop() (room for 46 bytes); returns the end.
char* put_ipv6(char* p, const IpAddr& a);
// Writes the timestamp (seconds, '.', digits fractional digits) at p (room
// for 32 bytes); returns the end. Same text as append_ts().
char* put_ts(char* p, Nanos t, int digits);

// A short value pre-rendered with its quotes ("established") in a fixed
// 16-byte slot: writing it is one fixed-size copy, not a variable-length one.
// Longer values (no enum name is) keep a view of their text instead.
struct Quoted {
    static constexpr size_t kSlot = 16;
    char text[kSlot] = {};
    uint8_t len = 0;             // 0: too long, see long_text
    std::string_view long_text;  // must outlive the Quoted (enum names are static)

    Quoted() = default;
    // v needs no escaping.
    explicit Quoted(std::string_view v) {
        if (v.size() + 2 > kSlot) {
            long_text = v;
            return;
        }
        text[0] = '"';
        std::memcpy(text + 1, v.data(), v.size());
        text[v.size() + 1] = '"';
        len = uint8_t(v.size() + 2);
    }
};

}  // namespace json

class JsonLine {
public:
    explicit JsonLine(std::string& out) : out_(out), p_(buf_) {}
    ~JsonLine() { flush(); }
    JsonLine(const JsonLine&) = delete;
    JsonLine& operator=(const JsonLine&) = delete;

    // An object's '{' is written with its first key (see json::Key), or by
    // end() for an empty object.
    JsonLine& begin() { first_ = true; return *this; }
    JsonLine& end() {
        room(2);
        if (first_) *p_++ = '{';
        *p_++ = '}';
        first_ = false;
        return *this;
    }

    // --- keys known at compile time: j.num<"sport">(v)
    // Starts a nested object under key.
    template <json::Key K>
    JsonLine& object() { key<K>(0); first_ = true; return *this; }
    template <json::Key K>
    JsonLine& str(std::string_view v) { key<K>(0); string(v); return *this; }
    // A value known to need no escaping (enum names, addresses).
    template <json::Key K>
    JsonLine& raw_str(std::string_view v) {
        if (v.size() <= kShort) {  // enum names: one room check for key and value
            key<K>(kShort + 2);
            *p_++ = '"';
            copy_short(v);
            *p_++ = '"';
            return *this;
        }
        key<K>(1);
        *p_++ = '"';
        copy(v);
        put('"');
        return *this;
    }
    // A pre-rendered quoted value (enum names).
    template <json::Key K>
    JsonLine& quoted(const json::Quoted& q) {
        if (!q.len) return raw_str<K>(q.long_text);
        key<K>(json::Quoted::kSlot);
        std::memcpy(p_, q.text, json::Quoted::kSlot);
        p_ += q.len;
        return *this;
    }
    // Pre-rendered JSON (e.g. a cached "rule" object).
    template <json::Key K>
    JsonLine& raw(std::string_view json) { key<K>(0); copy(json); return *this; }
    template <json::Key K>
    JsonLine& num(uint64_t v) { key<K>(20); p_ = json::put_u64(p_, v); return *this; }
    template <json::Key K>
    JsonLine& boolean(bool v) { key<K>(5); put_bool(v); return *this; }
    template <json::Key K>
    JsonLine& ts(Nanos t, int digits) { key<K>(32); p_ = json::put_ts(p_, t, digits); return *this; }
    template <json::Key K>
    JsonLine& addr(Family f, const IpAddr& a) {
        if (f != Family::ipv4) {
            key<K>(0);
            address(f, a);
            return *this;
        }
        key<K>(18);
        *p_++ = '"';
        p_ = json::put_ipv4(p_, a);
        *p_++ = '"';
        return *this;
    }
    // An array of strings under key.
    template <json::Key K, class It, class Fn>
    JsonLine& str_array(It b, It e, Fn&& to_text) {
        key<K>(1);
        *p_++ = '[';
        for (It i = b; i != e; ++i) {
            if (i != b) put(',');
            string(to_text(*i));
        }
        put(']');
        return *this;
    }

    // --- keys known only at run time (no escaping: keys are identifiers)
    JsonLine& object(std::string_view key) { sep(key); first_ = true; return *this; }
    JsonLine& str(std::string_view key, std::string_view v) { sep(key); string(v); return *this; }
    JsonLine& raw_str(std::string_view key, std::string_view v) {
        sep(key);
        put('"');
        copy(v);
        put('"');
        return *this;
    }
    JsonLine& raw(std::string_view key, std::string_view json) { sep(key); copy(json); return *this; }
    JsonLine& num(std::string_view key, uint64_t v) {
        sep(key);
        room(20);
        p_ = json::put_u64(p_, v);
        return *this;
    }
    JsonLine& boolean(std::string_view key, bool v) {
        sep(key);
        room(5);
        put_bool(v);
        return *this;
    }
    JsonLine& ts(std::string_view key, Nanos t, int digits) {
        sep(key);
        room(32);
        p_ = json::put_ts(p_, t, digits);
        return *this;
    }
    JsonLine& addr(std::string_view key, Family f, const IpAddr& a) { sep(key); address(f, a); return *this; }

    // Ends the line: '}' must have been written by end().
    JsonLine& newline() { put('\n'); return *this; }
    // Moves what was built into the output string.
    void flush() {
        if (p_ == buf_) return;
        out_.append(buf_, size_t(p_ - buf_));
        p_ = buf_;
    }

private:
    static constexpr size_t kBuf = 4096;
    static constexpr size_t kShort = 32;
    [[gnu::always_inline]] void room(size_t n) {
        if (size_t(buf_ + kBuf - p_) < n) flush();
    }
    [[gnu::always_inline]] void put(char c) {
        room(1);
        *p_++ = c;
    }
    [[gnu::always_inline]] void copy(std::string_view s) {
        if (size_t(buf_ + kBuf - p_) < s.size()) {
            flush();
            if (s.size() > kBuf) {
                out_.append(s);
                return;
            }
        }
        copy_short(s);
    }
    void put_bool(bool v) {  // the caller made room for 5 bytes
        if (v) {
            std::memcpy(p_, "true", 4);
            p_ += 4;
        } else {
            std::memcpy(p_, "false", 5);
            p_ += 5;
        }
    }
    // Copies s; the caller made room.
    [[gnu::always_inline]] void copy_short(std::string_view s) {
        const size_t n = s.size();
        const char* src = s.data();
        // Most values are short (enum names, ports): two overlapping
        // fixed-size copies instead of a call to memcpy, never reading
        // outside s.
        if (n >= 8 && n <= 16) {
            std::memcpy(p_, src, 8);
            std::memcpy(p_ + n - 8, src + n - 8, 8);
        } else if (n >= 4 && n < 8) {
            std::memcpy(p_, src, 4);
            std::memcpy(p_ + n - 4, src + n - 4, 4);
        } else if (n < 4) {
            for (size_t i = 0; i < n; ++i) p_[i] = src[i];
        } else {
            std::memcpy(p_, src, n);
        }
        p_ += n;
    }
    void string(std::string_view s);
    void address(Family f, const IpAddr& a);
    // Writes ,"name": (or {"name": for the first key) and makes room for
    // value_room more bytes.
    template <json::Key K>
    [[gnu::always_inline]] void key(size_t value_room) {
        room(K.size + value_room);
        std::memcpy(p_, K.text, K.size);
        if (first_) *p_ = '{';
        first_ = false;
        p_ += K.size;
    }
    void sep(std::string_view key) {
        room(key.size() + 4);
        *p_++ = first_ ? '{' : ',';
        first_ = false;
        *p_++ = '"';
        std::memcpy(p_, key.data(), key.size());
        p_ += key.size();
        *p_++ = '"';
        *p_++ = ':';
    }

    std::string& out_;
    char buf_[kBuf];
    char* p_;
    bool first_ = false;
};

}  // namespace fwsim
