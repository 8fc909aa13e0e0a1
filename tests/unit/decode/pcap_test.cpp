// The pcap reader and writer, on the scenario captures in captures/.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <filesystem>
#include <memory>
#include <fstream>
#include <vector>

#include "frames.hpp"
#include "fwsim/config.hpp"
#include "fwsim/decode/defrag.hpp"
#include "fwsim/error.hpp"
#include "io/pcap/pcap_reader.hpp"
#include "io/pcap/pcap_writer.hpp"

using namespace fwsim;

namespace {

std::string capture(const std::string& name) { return std::string(FWSIM_SOURCE_DIR) + "/captures/" + name; }

struct Rec {
    RawRecord raw;
    std::vector<uint8_t> bytes;
};

std::vector<Rec> read_all(const std::string& path, std::string* error = nullptr, int* dlt = nullptr) {
    PcapReader r(path);
    if (dlt) *dlt = r.linktype();
    std::vector<Rec> out;
    RawRecord raw;
    while (r.next(raw)) {
        out.push_back({raw, {raw.data.begin(), raw.data.end()}});
        out.back().raw.data = out.back().bytes;
    }
    if (error) *error = r.error();
    return out;
}

Packet decode_rec(int dlt, const Rec& r) {
    Packet p;
    p.index = r.raw.index;
    p.ts = r.raw.ts;
    p.wire_len = r.raw.wire_len;
    p.cap_len = uint32_t(r.bytes.size());
    p.capture_if = r.raw.capture_if;
    decode_frame(dlt, r.bytes, p);
    return p;
}

std::filesystem::path temp_dir() {
    auto d = std::filesystem::temp_directory_path() / ("fwsim-decode-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
}

constexpr Nanos kT0 = 1'700'000'000LL * kSecond;

}  // namespace

BOOST_AUTO_TEST_SUITE(pcap_files)

BOOST_AUTO_TEST_CASE(reader_reports_record_counts_link_types_and_precision) {
    struct Want {
        const char* file;
        size_t records;
        int dlt;
        int digits;
    };
    // Counts as `tshark -r FILE | wc -l` gives them.
    const Want wants[] = {
        {"home-mixed.pcap", 60, 1, 6},          {"home-mixed-ns.pcapng", 60, 1, 9},
        {"linktype-ethernet-vlan.pcap", 6, 1, 6}, {"linktype-sll.pcap", 5, 113, 6},
        {"linktype-sll2.pcap", 4, 276, 6},      {"linktype-raw.pcap", 4, 12, 6},
        {"linktype-null.pcap", 4, 0, 6},        {"linktype-loop.pcap", 4, 108, 6},
        {"fragments.pcap", 10, 1, 6},           {"malformed.pcap", 12, 1, 6},
    };
    for (const Want& w : wants) {
        BOOST_TEST_CONTEXT(w.file) {
            PcapReader r(capture(w.file));
            BOOST_TEST(r.linktype() == w.dlt);
            BOOST_TEST(r.ts_digits() == w.digits);
            RawRecord raw;
            size_t n = 0;
            while (r.next(raw)) {
                ++n;
                BOOST_TEST(raw.index == n);
            }
            BOOST_TEST(n == w.records);
            BOOST_TEST(r.error().empty());
            BOOST_TEST(r.bytes_read() == r.file_size());
        }
    }
}

BOOST_AUTO_TEST_CASE(every_link_type_capture_decodes) {
    for (const char* f : {"linktype-ethernet-vlan.pcap", "linktype-sll.pcap", "linktype-sll2.pcap",
                          "linktype-raw.pcap", "linktype-null.pcap", "linktype-loop.pcap"}) {
        BOOST_TEST_CONTEXT(f) {
            int dlt = -1;
            const auto recs = read_all(capture(f), nullptr, &dlt);
            BOOST_TEST(linktype_supported(dlt));
            size_t v4 = 0, v6 = 0, not_ip = 0;
            for (const auto& r : recs) {
                const Packet p = decode_rec(dlt, r);
                BOOST_TEST((p.ok() || p.status == DecodeStatus::not_ip), "record " << r.raw.index << ": " << p.error);
                if (!p.ok()) ++not_ip;
                else if (p.family == Family::ipv4) ++v4;
                else ++v6;
                if (p.ok()) BOOST_TEST(l4_checksum_ok(p));
            }
            BOOST_TEST(v4 >= 2u);
            BOOST_TEST(v6 >= 1u);
            BOOST_TEST(not_ip <= 1u);
        }
    }
}

BOOST_AUTO_TEST_CASE(vlan_capture_has_single_and_double_tags) {
    int dlt = 0;
    const auto recs = read_all(capture("linktype-ethernet-vlan.pcap"), nullptr, &dlt);
    BOOST_TEST_REQUIRE(recs.size() == 6u);
    BOOST_TEST(decode_rec(dlt, recs[0]).vlan_depth == 1);
    BOOST_TEST(decode_rec(dlt, recs[1]).vlan_depth == 2);
    BOOST_TEST(decode_rec(dlt, recs[3]).vlan_depth == 2);
    BOOST_TEST(decode_rec(dlt, recs[4]).vlan_depth == 1);  // one tag with the old 0x9100 TPID
    BOOST_TEST(recs[4].bytes[12] == 0x91);
    BOOST_TEST(int(decode_rec(dlt, recs[5]).status) == int(DecodeStatus::not_ip));
}

BOOST_AUTO_TEST_CASE(sll2_capture_reports_interface_indexes) {
    int dlt = 0;
    const auto recs = read_all(capture("linktype-sll2.pcap"), nullptr, &dlt);
    BOOST_TEST_REQUIRE(recs.size() == 4u);
    BOOST_TEST(recs[0].raw.capture_if == -1);  // plain pcap
    BOOST_TEST(decode_rec(dlt, recs[0]).capture_if == 3);
    BOOST_TEST(decode_rec(dlt, recs[1]).capture_if == 2);
}

BOOST_AUTO_TEST_CASE(pcapng_gives_interface_ids_and_nanosecond_times) {
    const auto recs = read_all(capture("home-mixed-ns.pcapng"));
    BOOST_TEST_REQUIRE(recs.size() == 60u);
    BOOST_TEST(recs[0].raw.capture_if == 0);  // lan0
    BOOST_TEST(recs[1].raw.capture_if == 1);  // wan0
    BOOST_TEST(recs[0].raw.ts == kT0);
    BOOST_TEST(recs[1].raw.ts == kT0 + 1'500'919);
    const auto us = read_all(capture("home-mixed.pcap"));
    BOOST_TEST(us[1].raw.ts == kT0 + 1'500'000);
    BOOST_TEST(us[1].bytes == recs[1].bytes);
}

BOOST_AUTO_TEST_CASE(home_mixed_decodes_with_one_arp_and_one_malformed_packet) {
    int dlt = 0;
    const auto recs = read_all(capture("home-mixed.pcap"), nullptr, &dlt);
    size_t ok = 0, not_ip = 0, malformed = 0;
    for (const auto& r : recs) {
        const Packet p = decode_rec(dlt, r);
        if (p.ok()) {
            ++ok;
            BOOST_TEST(l4_checksum_ok(p), "record " << r.raw.index);
        } else if (p.status == DecodeStatus::not_ip) {
            ++not_ip;
            BOOST_TEST(r.raw.index == 28u);
        } else {
            ++malformed;
            BOOST_TEST(r.raw.index == 49u);
            BOOST_TEST(std::string(p.error) == "ipv4: header length 16 < 20");
        }
    }
    BOOST_TEST(ok == 58u);
    BOOST_TEST(not_ip == 1u);
    BOOST_TEST(malformed == 1u);
    // #57: port unreachable quoting the masqueraded probe.
    const Packet icmp = decode_rec(dlt, recs[56]);
    BOOST_TEST(icmp.icmp_type == 3);
    BOOST_TEST(icmp.inner.has_ports);
    BOOST_TEST(to_string(Family::ipv4, icmp.inner.src) == "203.0.113.1");
    BOOST_TEST(icmp.inner.sport == 33000);
    BOOST_TEST(icmp.inner.dport == 33434);
}

BOOST_AUTO_TEST_CASE(malformed_capture_records_give_their_exact_errors) {
    const char* want[] = {
        "ipv4: header length 16 < 20",
        "ipv4: version 5 != 4",
        "ipv4: total length 1500 > 40 captured",
        nullptr,  // bad header checksum: value depends on scapy's checksum
        "tcp: data offset 3 < 5",
        "udp: length 4 < 8",
        "ipv6: payload length 400 > 20 captured",
        "ipv6: extension header chain too long",
        "ethernet: frame 13 bytes < 14",
        "icmp: packet 4 bytes < 8",
        "tcp: data offset 15 (60 bytes) > segment 20 bytes",
        "ipv4: total length 12 < header length 20",
    };
    int dlt = 0;
    const auto recs = read_all(capture("malformed.pcap"), nullptr, &dlt);
    BOOST_TEST_REQUIRE(recs.size() == 12u);
    for (size_t i = 0; i < recs.size(); ++i) {
        const Packet p = decode_rec(dlt, recs[i]);
        BOOST_TEST_CONTEXT("record " << i + 1) {
            BOOST_TEST(int(p.status) == int(DecodeStatus::malformed));
            if (want[i])
                BOOST_TEST(std::string(p.error) == want[i]);
            else
                BOOST_TEST(std::string(p.error).starts_with("ipv4: bad header checksum 0x"));
        }
    }
}

BOOST_AUTO_TEST_CASE(fragments_capture_reassembles_three_datagrams_and_leaves_one) {
    int dlt = 0;
    const auto recs = read_all(capture("fragments.pcap"), nullptr, &dlt);
    Defragmenter d{Config{}};
    std::vector<std::vector<uint64_t>> done;
    std::vector<Packet> datagrams;
    for (const auto& r : recs) {
        const Packet p = decode_rec(dlt, r);
        BOOST_TEST_REQUIRE(p.ok());
        BOOST_TEST_REQUIRE(p.is_fragment);
        Packet out;
        std::string_view why;
        if (d.add(p, &out, &why) == Defragmenter::Result::complete) {
            done.emplace_back(d.members().begin(), d.members().end());
            BOOST_TEST(out.has_l4);
            BOOST_TEST(l4_checksum_ok(out));
            BOOST_TEST(out.payload_len == (done.size() == 2 ? 2000u : 3072u));
        }
    }
    BOOST_TEST_REQUIRE(done.size() == 3u);
    BOOST_TEST(done[0] == (std::vector<uint64_t>{1, 2, 3}));
    BOOST_TEST(done[1] == (std::vector<uint64_t>{4, 5, 6}));
    BOOST_TEST(done[2] == (std::vector<uint64_t>{7, 8, 9}));
    std::vector<uint64_t> left;
    d.flush_all([&](uint64_t i) { left.push_back(i); });
    BOOST_TEST(left == (std::vector<uint64_t>{10}));
}

BOOST_AUTO_TEST_CASE(truncated_file_ends_with_an_error_naming_the_record) {
    std::string err;
    const auto recs = read_all(capture("truncated.pcap"), &err);
    BOOST_TEST_REQUIRE(recs.size() == 5u);
    uint64_t offset = 24;
    for (const auto& r : recs) offset += 16 + r.bytes.size();
    BOOST_TEST(err == "truncated record 6 at byte offset " + std::to_string(offset));
}

BOOST_AUTO_TEST_CASE(truncated_pcapng_ends_with_an_error_naming_the_record) {
    const auto dir = temp_dir();
    const std::string path = (dir / "cut.pcapng").string();
    std::filesystem::copy_file(capture("home-mixed-ns.pcapng"), path);
    std::filesystem::resize_file(path, std::filesystem::file_size(path) - 30);
    std::string err;
    const auto recs = read_all(path, &err);
    BOOST_TEST(recs.size() == 59u);
    BOOST_TEST(err.starts_with("truncated record 60 at byte offset "));
    // The side scan stayed in step: the last good record is on wan0.
    BOOST_TEST(recs.back().raw.capture_if == 1);
    BOOST_TEST_MESSAGE(err);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_capture_is_refused_by_name) {
    const auto dir = temp_dir();
    const std::string path = (dir / "notes.txt").string();
    std::ofstream(path) << "hello, not a pcap\n";
    try {
        PcapReader r(path);
        BOOST_FAIL("no error");
    } catch (const InputError& e) {
        BOOST_TEST(e.render() == path + ": not a pcap or pcapng file");
    }
    const std::string missing = (dir / "missing.pcap").string();
    BOOST_CHECK_THROW(PcapReader{missing}, InputError);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(writer_round_trips_records_at_both_precisions) {
    const auto dir = temp_dir();
    for (int digits : {6, 9}) {
        BOOST_TEST_CONTEXT("digits " << digits) {
            const std::string path = (dir / ("out" + std::to_string(digits) + ".pcap")).string();
            const std::vector<uint8_t> a = {1, 2, 3, 4}, b(100, 7);
            {
                PcapWriter w(path, 1, digits);
                w.write(kT0 + 123'456'789, a, 4);
                w.write(kT0 + 2 * kSecond + 1'000, b, 1500);  // a cut record keeps its wire length
                BOOST_TEST(!std::filesystem::exists(path));  // nothing in place before commit
                w.commit();
            }
            BOOST_TEST(std::filesystem::exists(path));
            const auto recs = read_all(path);
            BOOST_TEST_REQUIRE(recs.size() == 2u);
            BOOST_TEST(recs[0].bytes == a);
            BOOST_TEST(recs[0].raw.ts == (digits == 9 ? kT0 + 123'456'789 : kT0 + 123'456'000));
            BOOST_TEST(recs[1].bytes == b);
            BOOST_TEST(recs[1].raw.wire_len == 1500u);
            BOOST_TEST(recs[1].raw.ts == kT0 + 2 * kSecond + 1'000);
            BOOST_TEST(PcapReader(path).ts_digits() == digits);
        }
    }
    std::filesystem::remove_all(dir);
}

// The reader reads classic pcap files 256 KiB at a time (ClassicPcapReader;
// libpcap's stdio buffer is as large): a capture several times that size,
// with records of every length up to a jumbo frame (some across the buffer's
// edges), reads back whole, and bytes_read() reaches the end.
BOOST_AUTO_TEST_CASE(reader_reads_a_capture_many_times_its_buffer) {
    const auto dir = temp_dir();
    const std::string path = (dir / "big.pcap").string();
    size_t expect_bytes = 24;
    {
        PcapWriter w(path, 1, 9);
        for (uint32_t i = 0; i < 3000; ++i) {
            const size_t len = i % 10 == 9 ? 9000 : 1 + (i * 37) % 1514;
            std::vector<uint8_t> frame(len);
            for (size_t k = 0; k < len; ++k) frame[k] = uint8_t(i + k);
            w.write(kT0 + i, frame, uint32_t(len));
            expect_bytes += 16 + len;
        }
        w.commit();
    }
    BOOST_TEST_REQUIRE(std::filesystem::file_size(path) == expect_bytes);
    PcapReader r(path);
    RawRecord rec;
    uint32_t n = 0;
    bool same = true;
    while (r.next(rec)) {
        const size_t len = n % 10 == 9 ? 9000 : 1 + (n * 37) % 1514;
        same = same && rec.data.size() == len && rec.ts == kT0 + n && rec.index == n + 1;
        for (size_t k = 0; same && k < len; k += 97) same = rec.data[k] == uint8_t(n + k);
        ++n;
    }
    BOOST_TEST(r.error().empty());
    BOOST_TEST(n == 3000u);
    BOOST_TEST(same);
    BOOST_TEST(r.bytes_read() == expect_bytes);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(writer_without_commit_leaves_no_file) {
    const auto dir = temp_dir();
    const std::string path = (dir / "half.pcap").string();
    std::string tmp;
    {
        PcapWriter w(path, 1, 6);
        tmp = w.temp_path();
        w.write(kT0, std::vector<uint8_t>(60, 1), 60);
        BOOST_TEST(std::filesystem::exists(tmp));
    }
    BOOST_TEST(!std::filesystem::exists(tmp));
    BOOST_TEST(!std::filesystem::exists(path));
    BOOST_CHECK_THROW(PcapWriter((dir / "no/such/dir/x.pcap").string(), 1, 6), InputError);
    std::filesystem::remove_all(dir);
}

// Hostile input: every prefix of every record, and byte flips, of the
// scenario captures go through the decoder and the defragmenter. Each prefix
// is its own heap block, so the sanitizer build catches any read past it.
BOOST_AUTO_TEST_CASE(decoder_survives_every_prefix_and_byte_flip_of_the_captures) {
    size_t decoded = 0;
    for (const char* f : {"home-mixed.pcap", "malformed.pcap", "fragments.pcap", "linktype-sll2.pcap",
                          "linktype-null.pcap", "linktype-ethernet-vlan.pcap"}) {
        int dlt = 0;
        const auto recs = read_all(capture(f), nullptr, &dlt);
        Defragmenter d{Config{}};
        uint32_t lcg = 12345;
        for (const auto& r : recs) {
            const size_t n = std::min<size_t>(r.bytes.size(), 160);
            for (size_t len = 0; len <= n; ++len) {
                auto cut = std::make_unique<uint8_t[]>(len ? len : 1);
                std::copy_n(r.bytes.begin(), len, cut.get());
                for (uint32_t wire : {uint32_t(len), r.raw.wire_len}) {
                    Packet p;
                    p.wire_len = wire;
                    decode_frame(dlt, {cut.get(), len}, p);
                    (void)l4_checksum_ok(p);
                    if (p.ok() && p.is_fragment) {
                        Packet out;
                        std::string_view why;
                        d.add(p, &out, &why);
                    }
                    ++decoded;
                }
            }
            std::vector<uint8_t> m = r.bytes;
            for (int i = 0; i < 64; ++i) {
                lcg = lcg * 1103515245u + 12345u;
                m[(lcg >> 8) % m.size()] ^= uint8_t(lcg >> 24);
                auto copy = std::make_unique<uint8_t[]>(m.size());
                std::copy(m.begin(), m.end(), copy.get());
                Packet p;
                decode_frame(dlt, {copy.get(), m.size()}, p);
                (void)l4_checksum_ok(p);
                ++decoded;
            }
        }
        d.flush_all([](uint64_t) {});
    }
    BOOST_TEST(decoded > 10000u);
}

BOOST_AUTO_TEST_SUITE_END()
