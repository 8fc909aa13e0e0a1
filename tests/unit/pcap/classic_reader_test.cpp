// The native reader of classic pcap files (io/pcap/classic_pcap.hpp) against
// libpcap itself: PcapReader(path, ForceLibpcap) reads the same file through
// pcap_next_ex(), and every record, every error and every offset must be
// the same. The files are built here, odd ones on purpose.
#define BOOST_TEST_MODULE pcap
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fwsim/error.hpp"
#include "io/pcap/pcap_reader.hpp"
#include "pcap_file.hpp"

using namespace fwsim;
using fwsim::test::PcapFile;
using fwsim::test::temp_dir;

namespace {

std::string capture(const std::string& name) { return std::string(FWSIM_SOURCE_DIR) + "/captures/" + name; }

struct Rec {
    uint64_t index;
    Nanos ts;
    uint32_t wire_len;
    int32_t capture_if;
    std::vector<uint8_t> data;
    bool operator==(const Rec&) const = default;
};

struct Result {
    bool native = false;
    int linktype = 0, digits = 0;
    std::vector<Rec> recs;
    std::string error;
    uint64_t bytes_read = 0;
};

template <class... Mode>
Result read_all(const std::string& path, Mode... mode) {
    PcapReader r(path, mode...);
    Result out;
    out.native = r.is_native();
    out.linktype = r.linktype();
    out.digits = r.ts_digits();
    RawRecord raw;
    while (r.next(raw)) out.recs.push_back({raw.index, raw.ts, raw.wire_len, raw.capture_if, {raw.data.begin(), raw.data.end()}});
    out.error = r.error();
    out.bytes_read = r.bytes_read();
    return out;
}

// Reads `path` both ways and checks they agree; returns the native result.
Result same_as_libpcap(const std::string& path, bool want_native = true) {
    const Result n = read_all(path);
    const Result l = read_all(path, PcapReader::ForceLibpcap{});
    BOOST_TEST(n.native == want_native);
    BOOST_TEST(!l.native);
    BOOST_TEST(n.linktype == l.linktype);
    BOOST_TEST(n.digits == l.digits);
    BOOST_TEST_REQUIRE(n.recs.size() == l.recs.size());
    for (size_t i = 0; i < n.recs.size(); ++i) {
        BOOST_TEST_CONTEXT("record " << i + 1) {
            BOOST_TEST(n.recs[i].index == l.recs[i].index);
            BOOST_TEST(n.recs[i].ts == l.recs[i].ts);
            BOOST_TEST(n.recs[i].wire_len == l.recs[i].wire_len);
            BOOST_TEST(n.recs[i].capture_if == l.recs[i].capture_if);
            BOOST_TEST((n.recs[i].data == l.recs[i].data));
        }
    }
    BOOST_TEST(n.error == l.error);
    if (n.error.empty()) BOOST_TEST(n.bytes_read == l.bytes_read);
    return n;
}

// Every cut of the file at `path` from its header to its end, both ways.
void every_cut_same_as_libpcap(const PcapFile& f, const std::filesystem::path& dir, bool want_native = true) {
    for (size_t keep = 24; keep <= f.bytes.size(); ++keep) {
        BOOST_TEST_CONTEXT("cut at " << keep) { same_as_libpcap(f.write(dir / "cut.pcap", keep), want_native); }
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(classic_pcap)

BOOST_AUTO_TEST_CASE(bundled_captures_read_natively_as_libpcap_reads_them) {
    for (const char* f : {"home-mixed.pcap", "fragments.pcap", "malformed.pcap", "truncated.pcap",
                          "linktype-ethernet-vlan.pcap", "linktype-sll.pcap", "linktype-sll2.pcap",
                          "linktype-raw.pcap", "linktype-null.pcap", "linktype-loop.pcap"}) {
        BOOST_TEST_CONTEXT(f) { same_as_libpcap(capture(f)); }
    }
    // The truncated capture keeps its message.
    const Result t = read_all(capture("truncated.pcap"));
    BOOST_TEST(t.recs.size() == 5u);
    BOOST_TEST(t.error.starts_with("truncated record 6 at byte offset "));
}

BOOST_AUTO_TEST_CASE(pcapng_stays_with_libpcap) {
    const Result r = read_all(capture("home-mixed-ns.pcapng"));
    BOOST_TEST(!r.native);
    BOOST_TEST(r.recs.size() == 60u);
}

// Seconds and fractions with the top bit set: libpcap sign-extends the fields
// of a file in the host's byte order and zero-extends swapped ones.
BOOST_AUTO_TEST_CASE(all_four_magics_give_libpcaps_timestamps) {
    const auto dir = temp_dir();
    for (bool be : {false, true}) {
        for (bool ns : {false, true}) {
            BOOST_TEST_CONTEXT((be ? "big-endian" : "little-endian") << (ns ? " ns" : " us")) {
                PcapFile f(be, ns);
                f.record(1'700'000'000, 123'456, 60)
                    .record(0x80000001u, 0xffffffffu, 4)
                    .record(5, 0x80000000u, 0)
                    .record(0xffffffffu, 999, 14, 1514, 14)
                    .record(1, 2'000'000'000u, 3, 2, 3);  // fraction past a second, caplen > len: as they are
                const Result r = same_as_libpcap(f.write(dir / "ts.pcap"));
                BOOST_TEST(r.digits == (ns ? 9 : 6));
                BOOST_TEST_REQUIRE(r.recs.size() == 5u);
                BOOST_TEST(r.recs[0].ts == 1'700'000'000 * kSecond + 123'456 * (ns ? 1 : 1000));
                BOOST_TEST(r.recs[3].wire_len == 1514u);
                BOOST_TEST(r.recs[2].data.empty());
                BOOST_TEST(r.error.empty());
            }
        }
    }
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(a_file_cut_anywhere_gives_libpcaps_records_and_error) {
    const auto dir = temp_dir();
    for (bool be : {false, true}) {
        BOOST_TEST_CONTEXT((be ? "big-endian" : "little-endian")) {
            PcapFile f(be, true);
            f.record(10, 1, 60).record(10, 2, 0).record(10, 3, 1).record(11, 4, 100);
            every_cut_same_as_libpcap(f, dir);
        }
    }
    // Named by record and offset: record 3 starts after 24 + (16 + 60) + (16 + 0).
    PcapFile f(false, false);
    f.record(10, 1, 60).record(10, 2, 0).record(10, 3, 100);
    BOOST_TEST(read_all(f.write(dir / "t.pcap", f.bytes.size() - 1)).error == "truncated record 3 at byte offset 116");
    BOOST_TEST(read_all(f.write(dir / "t.pcap", 116 + 7)).error == "truncated record 3 at byte offset 116");
    BOOST_TEST(read_all(f.write(dir / "t.pcap", 116)).error.empty());
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(header_only_file_has_no_records_and_no_error) {
    const auto dir = temp_dir();
    const Result r = same_as_libpcap(PcapFile(false, false).write(dir / "empty.pcap"));
    BOOST_TEST(r.recs.empty());
    BOOST_TEST(r.error.empty());
    BOOST_TEST(r.bytes_read == 24u);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(short_or_bad_file_headers_are_refused_with_libpcaps_message) {
    const auto dir = temp_dir();
    const PcapFile f(false, false);
    auto refusal = [&](const std::string& path, auto... mode) {
        try {
            PcapReader r(path, mode...);
        } catch (const InputError& e) {
            return e.render();
        }
        return std::string("no error");
    };
    const std::string cut = f.write(dir / "short.pcap", 10);
    BOOST_TEST(refusal(cut) == refusal(cut, PcapReader::ForceLibpcap{}));
    BOOST_TEST(refusal(cut).find("truncated dump file") != std::string::npos);
    const std::string old = PcapFile(false, false, 1, 65535, 1, 0).write(dir / "old.pcap");
    BOOST_TEST(refusal(old) == old + ": archaic pcap savefile format");
    const std::string empty = f.write(dir / "zero.pcap", 0);
    BOOST_TEST(refusal(empty) == empty + ": not a pcap or pcapng file");
    std::filesystem::remove_all(dir);
}

// Longer than the snapshot length but within libpcap's maximum: the record is
// cut to the snapshot, the rest skipped; past the maximum it is an error.
BOOST_AUTO_TEST_CASE(records_past_the_snapshot_length_are_cut_or_refused_as_libpcap_does) {
    const auto dir = temp_dir();
    PcapFile f(false, false, 1, 64);
    f.record(1, 0, 60).record(2, 0, 200, 1500, 200).record(3, 0, 64).record(4, 0, 300000, 300000, 10);
    every_cut_same_as_libpcap(f, dir);
    const Result r = read_all(f.write(dir / "snap.pcap"));
    BOOST_TEST_REQUIRE(r.recs.size() == 3u);
    BOOST_TEST(r.recs[1].data.size() == 64u);
    BOOST_TEST(r.recs[1].wire_len == 1500u);
    // Record 4 starts after 24 + 76 + 216 + 80 bytes (the skipped 136 included).
    BOOST_TEST(r.error == "record 4 at byte offset 396: invalid packet capture length 300000, bigger than snaplen of 64");
    // A snaplen of 0 (or too large) means libpcap's maximum, 262144.
    PcapFile z(true, true, 1, 0);
    z.record(1, 0, 262144).record(2, 0, 262145, 262145, 0);
    const Result rz = same_as_libpcap(z.write(dir / "max.pcap"));
    BOOST_TEST(rz.recs.size() == 1u);
    BOOST_TEST(rz.error.ends_with("invalid packet capture length 262145, bigger than snaplen of 262144"));
    // libpcap keeps a snaplen up to INT_MAX: then the record is within it but
    // past the maximum.
    PcapFile big(false, false, 1, 0x7fffffff);
    big.record(1, 0, 70000).record(2, 0, 262145, 262145, 0);
    const Result rb = same_as_libpcap(big.write(dir / "big-snap.pcap"));
    BOOST_TEST(rb.recs.size() == 1u);
    BOOST_TEST(rb.error.ends_with("invalid packet capture length 262145, bigger than maximum of 262144"));
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(link_types_map_as_libpcap_maps_them) {
    const auto dir = temp_dir();
    // LINKTYPE_RAW (101) is DLT_RAW (12); LINKTYPE_IPV4 (228) is itself.
    for (uint32_t lt : {101u, 228u, 0u, 108u}) {
        for (bool be : {false, true}) {
            BOOST_TEST_CONTEXT("linktype " << lt << (be ? " big-endian" : "")) {
                PcapFile f(be, false, lt);
                f.record(1, 1, 20).record(2, 2, 40);
                const Result r = same_as_libpcap(f.write(dir / "lt.pcap"));
                BOOST_TEST(r.linktype == (lt == 101 ? 12 : int(lt)));
            }
        }
    }
    std::filesystem::remove_all(dir);
}

// What the native reader does not mirror, libpcap still reads.
BOOST_AUTO_TEST_CASE(files_the_native_reader_does_not_mirror_go_to_libpcap) {
    const auto dir = temp_dir();
    // Byte-swapped Linux SLL: libpcap swaps CAN ids inside the pseudo-header.
    PcapFile sll(true, false, 113);
    sll.record(1, 1, 20).record(2, 2, 40);
    same_as_libpcap(sll.write(dir / "sll-be.pcap"), false);
    // Versions 2.2 and 2.3 may have caplen and len the other way round.
    for (uint16_t minor : {2, 3}) {
        PcapFile old(false, false, 1, 65535, 2, minor);
        old.record(1, 1, 60, 30, 30).record(2, 2, 20, 20, 20);  // 2.3: swapped only when caplen > len
        const Result r = same_as_libpcap(old.write(dir / "old.pcap"), false);
        BOOST_TEST(r.recs.size() == 2u);
    }
    // D-Bus has a larger maximum record length.
    PcapFile dbus(false, false, 231, 0);
    dbus.record(1, 1, 300000);
    BOOST_TEST(same_as_libpcap(dbus.write(dir / "dbus.pcap"), false).recs.size() == 1u);
    std::filesystem::remove_all(dir);
}

// Random small files: random snapshot lengths, record lengths around them
// (some past libpcap's maximum), random timestamps, either byte order and
// magic, cut at a random place or whole; both readers must agree on each.
BOOST_AUTO_TEST_CASE(random_files_read_the_same_both_ways) {
    const auto dir = temp_dir();
    uint64_t x = 0x9e3779b97f4a7c15ull;
    auto rnd = [&](uint64_t n) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x % n;
    };
    size_t native = 0;
    for (int file = 0; file < 300; ++file) {
        const uint32_t snaps[] = {0, 1, 64, 1514, 65535, 262144, 262145, 0x7fffffff, 0x80000000u, 0xffffffffu};
        PcapFile f(rnd(2), rnd(2), rnd(4) == 0 ? 12 : 1, snaps[rnd(10)]);
        const int n = int(rnd(6));
        for (int i = 0; i < n; ++i) {
            const uint32_t lens[] = {0, 1, 14, 60, 63, 64, 65, 1514, 1515, 9000, 262144, 262145};
            const uint32_t caplen = rnd(8) == 0 ? uint32_t(rnd(1u << 20)) : lens[rnd(12)];
            const size_t stored = caplen > 262144 ? rnd(100) : caplen;
            f.record(uint32_t(rnd(1ull << 32)), uint32_t(rnd(1ull << 32)), caplen, uint32_t(rnd(1ull << 32)), stored);
        }
        const size_t keep = rnd(3) == 0 ? 24 + rnd(f.bytes.size() - 23) : f.bytes.size();
        BOOST_TEST_CONTEXT("file " << file) { native += same_as_libpcap(f.write(dir / "r.pcap", keep)).native; }
    }
    BOOST_TEST(native == 300u);
    std::filesystem::remove_all(dir);
}

// Records of every size up to libpcap's maximum, many times the read buffer,
// cut at many places around the buffer's edges.
BOOST_AUTO_TEST_CASE(records_across_the_read_buffer_edges_read_whole) {
    const auto dir = temp_dir();
    PcapFile f(false, true, 1, 0);
    uint32_t lcg = 7;
    for (uint32_t i = 0; i < 4000; ++i) {
        lcg = lcg * 1103515245u + 12345u;
        const uint32_t len = i % 500 == 17 ? 262144 : i % 50 == 3 ? 9000 : (lcg >> 8) % 1515;
        f.record(1'700'000'000 + i, i, len);
    }
    const Result r = same_as_libpcap(f.write(dir / "big.pcap"));
    BOOST_TEST(r.recs.size() == 4000u);
    BOOST_TEST(r.bytes_read == f.bytes.size());
    for (size_t keep : {size_t(1) << 18, (size_t(1) << 18) + 5, (size_t(1) << 19) + 16, f.bytes.size() - 1,
                        f.bytes.size() - 262144}) {
        BOOST_TEST_CONTEXT("cut at " << keep) { same_as_libpcap(f.write(dir / "big-cut.pcap", keep)); }
    }
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(pipes_and_stdin_are_refused_without_waiting) {
    // Opened twice, a pipe would block the second open() forever: the reader
    // refuses it up front (no writer exists here, so an open() would hang).
    // The command line copies such captures to a file first (cli/capture_source.hpp).
    const std::string fifo = (std::filesystem::temp_directory_path() /
                              ("fwsim-test-fifo-" + std::to_string(::getpid()))).string();
    ::unlink(fifo.c_str());
    BOOST_REQUIRE_EQUAL(::mkfifo(fifo.c_str(), 0600), 0);
    std::string what;
    try {
        PcapReader r(fifo);
    } catch (const InputError& e) {
        what = e.what();
    }
    ::unlink(fifo.c_str());
    BOOST_TEST(what.find("not a regular file") != std::string::npos, what);
    what.clear();
    try {
        PcapReader r("-");
    } catch (const InputError& e) {
        what = e.what();
    }
    BOOST_TEST(what.find("standard input cannot be read directly") != std::string::npos, what);
    what.clear();
    try {
        PcapReader r(std::filesystem::temp_directory_path().string());  // a directory
    } catch (const InputError& e) {
        what = e.what();
    }
    BOOST_TEST(what.find("not a regular file") != std::string::npos, what);
}

BOOST_AUTO_TEST_SUITE_END()
