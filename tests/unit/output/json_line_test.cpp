#define BOOST_TEST_MODULE output
#include <arpa/inet.h>

#include <boost/test/unit_test.hpp>
#include <charconv>
#include <cstdint>
#include <string>

#include "io/output/json_line.hpp"

using namespace fwsim;

namespace {

template <class Fn>
std::string line(Fn&& fn) {
    std::string out;
    {
        JsonLine j(out);
        fn(j);
    }
    return out;
}

std::string num_text(uint64_t v) {
    return line([&](JsonLine& j) { j.begin().num<"n">(v).end(); });
}

std::string expected_num(uint64_t v) {
    char b[24];
    return "{\"n\":" + std::string(b, std::to_chars(b, b + sizeof b, v).ptr) + "}";
}

IpAddr v6(const char* text) {
    IpAddr a;
    BOOST_REQUIRE(inet_pton(AF_INET6, text, a.b.data()) == 1);
    return a;
}

std::string addr_text(Family f, const IpAddr& a) {
    return line([&](JsonLine& j) { j.begin().addr<"a">(f, a).end(); });
}

std::string ts_text(Nanos t, int digits) {
    return line([&](JsonLine& j) { j.begin().ts<"ts">(t, digits).end(); });
}

std::string str_text(std::string_view s) {
    return line([&](JsonLine& j) { j.begin().str<"s">(s).end(); });
}

}  // namespace

BOOST_AUTO_TEST_CASE(keys_carry_their_punctuation_and_the_first_opens_the_object) {
    const std::string s = line([](JsonLine& j) {
        j.begin().num<"index">(1).raw_str<"verdict">("accept").boolean<"more">(false);
        j.object<"ct">().num<"id">(7).end();
        j.end().newline();
    });
    BOOST_TEST(s == "{\"index\":1,\"verdict\":\"accept\",\"more\":false,\"ct\":{\"id\":7}}\n");
}

BOOST_AUTO_TEST_CASE(empty_objects_are_braces) {
    BOOST_TEST(line([](JsonLine& j) { j.begin().end(); }) == "{}");
    BOOST_TEST(line([](JsonLine& j) { j.begin().object<"a">().end().num<"b">(2).end(); }) == "{\"a\":{},\"b\":2}");
    BOOST_TEST(line([](JsonLine& j) { j.begin().object("a").end().end(); }) == "{\"a\":{}}");
}

BOOST_AUTO_TEST_CASE(runtime_keys_write_the_same_text_as_compile_time_keys) {
    const std::string a = line([](JsonLine& j) {
        j.begin().num<"n">(42).raw_str<"r">("x").str<"s">("q\"").boolean<"b">(true).ts<"t">(1'500'000'000, 6);
        j.addr<"a">(Family::ipv4, IpAddr::from_v4(0x01020304)).raw<"j">("{}").object<"o">().end().end();
    });
    const std::string b = line([](JsonLine& j) {
        j.begin().num("n", 42).raw_str("r", "x").str("s", "q\"").boolean("b", true).ts("t", 1'500'000'000, 6);
        j.addr("a", Family::ipv4, IpAddr::from_v4(0x01020304)).raw("j", "{}").object("o").end().end();
    });
    BOOST_TEST(a == b);
    BOOST_TEST(a == "{\"n\":42,\"r\":\"x\",\"s\":\"q\\\"\",\"b\":true,\"t\":1.500000,\"a\":\"1.2.3.4\",\"j\":{},\"o\":{}}");
}

BOOST_AUTO_TEST_CASE(integers_match_to_chars_at_every_digit_count_edge) {
    BOOST_TEST(num_text(0) == "{\"n\":0}");
    BOOST_TEST(num_text(UINT64_MAX) == "{\"n\":18446744073709551615}");
    BOOST_TEST(num_text(UINT32_MAX) == "{\"n\":4294967295}");
    BOOST_TEST(num_text(uint64_t(UINT32_MAX) + 1) == "{\"n\":4294967296}");
    uint64_t p = 1;
    for (int d = 0; d < 20; ++d) {
        for (uint64_t v : {p - 1, p, p + 1, p * 2, p * 5 - 1}) BOOST_TEST(num_text(v) == expected_num(v));
        if (d < 19) p *= 10;
    }
    for (uint64_t v = 0; v < 100'000; v += 7) BOOST_TEST_REQUIRE(num_text(v) == expected_num(v));
}

BOOST_AUTO_TEST_CASE(digits10_counts_decimal_digits) {
    BOOST_TEST(json::digits10(0) == 1u);
    BOOST_TEST(json::digits10(9) == 1u);
    BOOST_TEST(json::digits10(10) == 2u);
    BOOST_TEST(json::digits10(999'999'999'999ull) == 12u);
    BOOST_TEST(json::digits10(1'000'000'000'000ull) == 13u);
    BOOST_TEST(json::digits10(UINT64_MAX) == 20u);
}

BOOST_AUTO_TEST_CASE(ipv4_addresses_are_dotted_decimal) {
    BOOST_TEST(addr_text(Family::ipv4, IpAddr::from_v4(0)) == "{\"a\":\"0.0.0.0\"}");
    BOOST_TEST(addr_text(Family::ipv4, IpAddr::from_v4(0xffffffffu)) == "{\"a\":\"255.255.255.255\"}");
    BOOST_TEST(addr_text(Family::ipv4, IpAddr::from_v4(0xc0a86409u)) == "{\"a\":\"192.168.100.9\"}");
    BOOST_TEST(addr_text(Family::ipv4, IpAddr::from_v4(0x0a000a63u)) == "{\"a\":\"10.0.10.99\"}");
    // Every octet value in every position, against inet_ntop.
    for (unsigned v = 0; v < 256; ++v) {
        const IpAddr a = IpAddr::from_v4(v << 24 | (255 - v) << 16 | (v * 7 % 256) << 8 | v);
        char want[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, a.b.data(), want, sizeof want);
        BOOST_TEST_REQUIRE(addr_text(Family::ipv4, a) == "{\"a\":\"" + std::string(want) + "\"}");
    }
}

BOOST_AUTO_TEST_CASE(ipv6_addresses_are_rfc5952_text) {
    BOOST_TEST(addr_text(Family::ipv6, v6("::")) == "{\"a\":\"::\"}");
    BOOST_TEST(addr_text(Family::ipv6, v6("0:0:0:0:0:0:0:1")) == "{\"a\":\"::1\"}");
    BOOST_TEST(addr_text(Family::ipv6, v6("2001:0DB8:0:0:0:0:0:1")) == "{\"a\":\"2001:db8::1\"}");
    // The longest run of zeros is compressed, the first one on a tie, a single zero group never.
    BOOST_TEST(addr_text(Family::ipv6, v6("2001:db8:0:0:1:0:0:1")) == "{\"a\":\"2001:db8::1:0:0:1\"}");
    BOOST_TEST(addr_text(Family::ipv6, v6("1:0:0:2:0:0:0:3")) == "{\"a\":\"1:0:0:2::3\"}");
    BOOST_TEST(addr_text(Family::ipv6, v6("2001:db8:0:1:1:1:1:1")) == "{\"a\":\"2001:db8:0:1:1:1:1:1\"}");
    BOOST_TEST(addr_text(Family::ipv6, v6("fe80::1:2:3:4")) == "{\"a\":\"fe80::1:2:3:4\"}");
    BOOST_TEST(addr_text(Family::ipv6, v6("::ffff:192.0.2.1")) == "{\"a\":\"::ffff:192.0.2.1\"}");
    BOOST_TEST(addr_text(Family::ipv6, v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")) ==
               "{\"a\":\"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\"}");
}

BOOST_AUTO_TEST_CASE(ipv6_text_matches_glibc_inet_ntop_for_every_zero_group_pattern) {
    // Each of the 256 zero/non-zero patterns of the eight groups, with group
    // values of every hex width, plus the dotted-quad forms (::ffff:a.b.c.d,
    // ::a.b.c.d) that glibc writes for IPv4-mapped and -compatible addresses.
    const uint16_t values[] = {1, 0xf, 0x10, 0xab, 0x100, 0xfff, 0x1000, 0xffff};
    for (unsigned mask = 0; mask < 256; ++mask) {
        for (size_t k = 0; k < std::size(values); ++k) {
            IpAddr a;
            for (size_t g = 0; g < 8; ++g) {
                const uint16_t v = (mask >> g & 1) ? values[(k + g) % std::size(values)] : 0;
                a.b[2 * g] = uint8_t(v >> 8);
                a.b[2 * g + 1] = uint8_t(v);
            }
            char want[INET6_ADDRSTRLEN];
            BOOST_REQUIRE(inet_ntop(AF_INET6, a.b.data(), want, sizeof want));
            BOOST_TEST_REQUIRE(addr_text(Family::ipv6, a) == "{\"a\":\"" + std::string(want) + "\"}",
                               "mask " << mask << " values " << k);
            a.b[10] = a.b[11] = 0xff;  // groups 0-4 may be zero: IPv4-mapped when they are
            BOOST_REQUIRE(inet_ntop(AF_INET6, a.b.data(), want, sizeof want));
            BOOST_TEST_REQUIRE(addr_text(Family::ipv6, a) == "{\"a\":\"" + std::string(want) + "\"}",
                               "mask " << mask << " values " << k << " with ffff");
        }
    }
    BOOST_TEST(addr_text(Family::ipv6, v6("::1.2.3.4")) == "{\"a\":\"::1.2.3.4\"}");
    BOOST_TEST(addr_text(Family::ipv6, v6("::ffff:0.0.0.0")) == "{\"a\":\"::ffff:0.0.0.0\"}");
    BOOST_TEST(addr_text(Family::ipv6, v6("::ffff:0:0")) == "{\"a\":\"::ffff:0.0.0.0\"}");
    BOOST_TEST(addr_text(Family::ipv6, v6("1::")) == "{\"a\":\"1::\"}");
}

BOOST_AUTO_TEST_CASE(timestamps_have_the_capture_precision_and_are_truncated) {
    BOOST_TEST(ts_text(0, 6) == "{\"ts\":0.000000}");
    BOOST_TEST(ts_text(0, 9) == "{\"ts\":0.000000000}");
    BOOST_TEST(ts_text(0, 0) == "{\"ts\":0}");
    BOOST_TEST(ts_text(1'700'000'000'123'456'789, 6) == "{\"ts\":1700000000.123456}");
    BOOST_TEST(ts_text(1'700'000'000'123'456'789, 9) == "{\"ts\":1700000000.123456789}");
    BOOST_TEST(ts_text(1'700'000'000'000'000'064, 9) == "{\"ts\":1700000000.000000064}");
    BOOST_TEST(ts_text(1'700'000'000'000'064'000, 6) == "{\"ts\":1700000000.000064}");
    BOOST_TEST(ts_text(999'999'999, 6) == "{\"ts\":0.999999}");
    BOOST_TEST(ts_text(-1'500'000'000, 6) == "{\"ts\":-1.500000}");
    BOOST_TEST(ts_text(INT64_MAX, 9) == "{\"ts\":9223372036.854775807}");
}

BOOST_AUTO_TEST_CASE(timestamps_match_append_ts_for_every_precision) {
    for (int digits = 0; digits <= 9; ++digits) {
        for (Nanos t : {Nanos(0), Nanos(1), Nanos(999'999'999), Nanos(1'000'000'000), Nanos(4'294'967'296'000'000'001),
                        Nanos(1'700'000'000'987'654'321), Nanos(-1), Nanos(-2'000'000'001)}) {
            std::string want = "{\"ts\":";
            append_ts(want, t, digits);
            want += "}";
            BOOST_TEST_REQUIRE(ts_text(t, digits) == want, "t=" << t << " digits=" << digits);
        }
    }
}

BOOST_AUTO_TEST_CASE(strings_escape_quotes_backslashes_and_control_characters) {
    BOOST_TEST(str_text("a\"b\\c") == "{\"s\":\"a\\\"b\\\\c\"}");
    BOOST_TEST(str_text("\n\r\t") == "{\"s\":\"\\n\\r\\t\"}");
    BOOST_TEST(str_text(std::string_view("\x00\x01\x1f", 3)) == "{\"s\":\"\\u0000\\u0001\\u001f\"}");
    BOOST_TEST(str_text("\x7f") == "{\"s\":\"\x7f\"}");  // DEL needs no escape in JSON
    BOOST_TEST(str_text("") == "{\"s\":\"\"}");
}

BOOST_AUTO_TEST_CASE(non_ascii_bytes_pass_through_unchanged) {
    BOOST_TEST(str_text("caf\xc3\xa9 \xe2\x82\xac") == "{\"s\":\"caf\xc3\xa9 \xe2\x82\xac\"}");
    BOOST_TEST(str_text("\xff\xfe") == "{\"s\":\"\xff\xfe\"}");
    std::string out;
    append_json_string(out, "\xc3\xa9\x02");
    BOOST_TEST(out == "\"\xc3\xa9\\u0002\"");
}

BOOST_AUTO_TEST_CASE(short_values_of_every_length_are_copied_exactly) {
    const std::string src = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (size_t n = 0; n <= src.size(); ++n) {
        const std::string_view v(src.data(), n);
        BOOST_TEST_REQUIRE(line([&](JsonLine& j) { j.begin().raw_str<"k">(v).end(); }) ==
                           "{\"k\":\"" + std::string(v) + "\"}");
        BOOST_TEST_REQUIRE(line([&](JsonLine& j) { j.begin().raw<"k">(v).end(); }) == "{\"k\":" + std::string(v) + "}");
    }
}

BOOST_AUTO_TEST_CASE(values_longer_than_the_line_buffer_are_written_whole) {
    for (size_t n : {4000u, 4090u, 4095u, 4096u, 4097u, 10000u}) {
        const std::string big(n, 'x');
        BOOST_TEST_REQUIRE(line([&](JsonLine& j) { j.begin().num<"a">(1).raw<"r">(big).num<"b">(2).end(); }) ==
                           "{\"a\":1,\"r\":" + big + ",\"b\":2}");
        BOOST_TEST_REQUIRE(line([&](JsonLine& j) { j.begin().num<"a">(1).raw_str<"r">(big).end(); }) ==
                           "{\"a\":1,\"r\":\"" + big + "\"}");
        BOOST_TEST_REQUIRE(line([&](JsonLine& j) { j.begin().num<"a">(1).str<"s">(big).end(); }) ==
                           "{\"a\":1,\"s\":\"" + big + "\"}");
    }
    const std::string ctl(1000, '\x01');  // escapes to 6000 bytes
    std::string want = "{\"s\":\"";
    for (int i = 0; i < 1000; ++i) want += "\\u0001";
    BOOST_TEST(str_text(ctl) == want + "\"}");
}

BOOST_AUTO_TEST_CASE(a_line_longer_than_the_buffer_is_flushed_in_order) {
    std::string want = "{";
    for (int i = 0; i < 2000; ++i) want += (i ? ",\"n\":" : "\"n\":") + std::to_string(i * 1'000'003ull);
    want += "}\n";
    const std::string got = line([](JsonLine& j) {
        j.begin();
        for (int i = 0; i < 2000; ++i) j.num<"n">(i * 1'000'003ull);
        j.end().newline();
    });
    BOOST_TEST(got == want);
}

BOOST_AUTO_TEST_CASE(string_arrays_are_escaped_and_comma_separated) {
    const std::string names[] = {"a", "b\"", ""};
    const std::string s = line([&](JsonLine& j) {
        j.begin().str_array<"log">(std::begin(names), std::end(names), [](const std::string& x) { return x; }).end();
    });
    BOOST_TEST(s == "{\"log\":[\"a\",\"b\\\"\",\"\"]}");
}

BOOST_AUTO_TEST_CASE(lines_append_to_what_the_output_holds) {
    std::string out = "previous\n";
    {
        JsonLine j(out);
        j.begin().num<"x">(1).end().newline();
    }
    BOOST_TEST(out == "previous\n{\"x\":1}\n");
}

BOOST_AUTO_TEST_CASE(quoted_values_are_written_with_their_quotes_long_ones_too) {
    const json::Quoted empty(""), est("established"), longest("abcdefghijklmn"), too_long("abcdefghijklmno");
    BOOST_TEST(longest.len == 16);
    BOOST_TEST(too_long.len == 0);
    const std::string s = line([&](JsonLine& j) {
        j.begin().quoted<"a">(empty).quoted<"b">(est).quoted<"c">(longest).quoted<"d">(too_long).end();
    });
    BOOST_TEST(s == "{\"a\":\"\",\"b\":\"established\",\"c\":\"abcdefghijklmn\",\"d\":\"abcdefghijklmno\"}");
}

BOOST_AUTO_TEST_CASE(timestamps_in_alternating_seconds_are_each_right) {
    // put_ts() keeps the text of the last second: changing seconds, widths and signs must not reuse it.
    const Nanos ts[] = {5 * kSecond + 1000, 5 * kSecond + 2000, 1'700'000'000 * kSecond, 5 * kSecond,
                        -5 * kSecond - 1000, 5 * kSecond + 3000, 99 * kSecond, 100 * kSecond, 99 * kSecond + 1000};
    for (Nanos t : ts) {
        std::string want = "{\"ts\":";
        append_ts(want, t, 6);
        want += "}";
        BOOST_TEST(ts_text(t, 6) == want);
    }
}
