// ClassicPcapReader through a mapped window (io/pcap/mapped_file.hpp) against
// its pread() path: the same records, errors and offsets, with windows small
// enough that records straddle their ends; and a file that shrinks while it
// is mapped, which without the SIGBUS guard would kill the process.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "io/pcap/classic_pcap.hpp"
#include "io/pcap/mapped_file.hpp"
#include "io/pcap/pcap_reader.hpp"
#include "pcap_file.hpp"

using namespace fwsim;
using fwsim::test::PcapFile;
using fwsim::test::temp_dir;

namespace {

// Boost.Test catches SIGBUS itself around each test case (and puts the
// previous handler back afterwards, which would remove the guard's): fwsim
// has no such handler, so this module runs without Boost's. Set before
// main(), where Boost reads its configuration.
const bool g_boost_leaves_signals = [] { return ::setenv("BOOST_TEST_CATCH_SYSTEM_ERRORS", "no", 0) == 0; }();

struct Rec {
    Nanos ts;
    uint32_t wire_len;
    std::vector<uint8_t> data;
    bool operator==(const Rec&) const = default;
};

struct Read {
    bool mapped = false;
    std::vector<Rec> recs;
    std::string error;
    uint64_t position = 0;
};

// Records up to 2,000 bytes, cut to 1,600 past that (the snapshot length),
// refused past 2,000: small limits so that a minimal window is two pages.
constexpr ClassicPcapReader::Format kSmall{false, true, 1600, 2000};

std::unique_ptr<ClassicPcapReader> open_reader(const std::string& path, size_t window,
                                               ClassicPcapReader::Format f = kSmall) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    BOOST_TEST_REQUIRE(fd >= 0);
    return std::make_unique<ClassicPcapReader>(fd, 24, f, window);
}

Read read_all(const std::string& path, size_t window, ClassicPcapReader::Format f = kSmall) {
    auto r = open_reader(path, window, f);
    Read out;
    RawRecord raw;
    while (r->next(raw)) {
        out.mapped = out.mapped || r->mapped();
        out.recs.push_back({raw.ts, raw.wire_len, {raw.data.begin(), raw.data.end()}});
    }
    out.mapped = out.mapped || r->mapped();
    out.error = r->error();
    out.position = r->position();
    return out;
}

void same(const Read& a, const Read& b) {
    BOOST_TEST_REQUIRE(a.recs.size() == b.recs.size());
    for (size_t i = 0; i < a.recs.size(); ++i) {
        BOOST_TEST_CONTEXT("record " << i + 1) { BOOST_TEST((a.recs[i] == b.recs[i])); }
    }
    BOOST_TEST(a.error == b.error);
    BOOST_TEST(a.position == b.position);
}

// ~3 MB of records from 0 to 2,000 bytes (a few past the snapshot length).
PcapFile generated(size_t n = 4000) {
    PcapFile f(false, true, 1, 1600);
    uint32_t lcg = 11;
    for (uint32_t i = 0; i < n; ++i) {
        lcg = lcg * 1103515245u + 12345u;
        const uint32_t len = i % 97 == 5 ? 2000 : i % 31 == 7 ? 1700 : (lcg >> 8) % 1515;
        f.record(1'700'000'000 + i, i * 1000, len, len + 4, len);
    }
    return f;
}

// Window lengths that put the window ends at different places: the minimum
// (two pages here), a little more, one that is not a multiple of the page.
const size_t kWindows[] = {1, 3 * 4096, 5 * 4096 + 100, ClassicPcapReader::kMappedWindow};

}  // namespace

BOOST_AUTO_TEST_SUITE(mapped_pcap)

BOOST_AUTO_TEST_CASE(mapped_and_pread_paths_give_the_same_records) {
    const auto dir = temp_dir();
    const PcapFile f = generated();
    const std::string path = f.write(dir / "gen.pcap");
    const Read pread = read_all(path, 0);
    BOOST_TEST(!pread.mapped);
    BOOST_TEST(pread.recs.size() == 4000u);
    BOOST_TEST(pread.error.empty());
    BOOST_TEST(pread.position == f.bytes.size());
    BOOST_TEST(pread.recs[5].data.size() == 1600u);  // cut to the snapshot length
    for (size_t w : kWindows) {
        BOOST_TEST_CONTEXT("window " << w) {
            const Read m = read_all(path, w);
            BOOST_TEST(m.mapped);
            same(m, pread);
        }
    }
    std::filesystem::remove_all(dir);
}

// Random small files as in the classic_pcap suite (record lengths around
// random snapshot lengths, some past libpcap's maximum, cut anywhere), read
// with libpcap's real limits: the mapped path agrees with pread() on each.
BOOST_AUTO_TEST_CASE(random_files_read_the_same_mapped_and_with_pread) {
    const auto dir = temp_dir();
    uint64_t x = 0x2545f4914f6cdd1dull;
    auto rnd = [&](uint64_t n) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x % n;
    };
    size_t errors = 0;
    for (int file = 0; file < 200; ++file) {
        const uint32_t snaps[] = {1, 64, 1514, 65535, 262144, 0x7fffffff};
        const ClassicPcapReader::Format fmt{false, rnd(2) == 0, snaps[rnd(6)], 262144};
        PcapFile f(false, fmt.nanos, 1, fmt.snapshot);
        const int n = int(rnd(12));
        for (int i = 0; i < n; ++i) {
            const uint32_t lens[] = {0, 1, 14, 60, 63, 64, 65, 1514, 1515, 9000, 262144, 262145};
            const uint32_t caplen = lens[rnd(12)];
            f.record(uint32_t(rnd(1ull << 32)), uint32_t(rnd(1ull << 32)), caplen, caplen, caplen > 262144 ? 0 : caplen);
        }
        const size_t keep = rnd(3) == 0 ? 24 + rnd(f.bytes.size() - 23) : f.bytes.size();
        const std::string path = f.write(dir / "r.pcap", keep);
        BOOST_TEST_CONTEXT("file " << file) {
            const Read p = read_all(path, 0, fmt);
            const Read m = read_all(path, 1, fmt);
            BOOST_TEST(m.mapped);
            same(m, p);
            errors += !p.error.empty();
        }
    }
    BOOST_TEST(errors > 20u);
    std::filesystem::remove_all(dir);
}

// A window of two pages holds ~5 records: most window ends fall inside a
// record, which must come whole from the next window. Checked against the
// bytes as written, not only against the pread() path.
BOOST_AUTO_TEST_CASE(records_straddling_a_window_end_come_whole) {
    const auto dir = temp_dir();
    PcapFile f(false, false, 1, 2000);
    // Records of 2,000 bytes from offset 24: every record from the 3rd on
    // crosses a 4 KiB boundary somewhere in it.
    for (uint32_t i = 0; i < 300; ++i) f.record(i, 0, 2000);
    const std::string path = f.write(dir / "straddle.pcap");
    auto r = open_reader(path, 1, ClassicPcapReader::Format{false, false, 2000, 2000});
    RawRecord rec;
    size_t n = 0;
    uint64_t at = 24;
    while (r->next(rec)) {
        BOOST_TEST_REQUIRE(r->mapped());
        BOOST_TEST_REQUIRE(rec.data.size() == 2000u);
        BOOST_TEST_REQUIRE(std::equal(rec.data.begin(), rec.data.end(), f.bytes.begin() + long(at + 16)));
        at += 2016;
        ++n;
    }
    BOOST_TEST(n == 300u);
    BOOST_TEST(r->error().empty());
    std::filesystem::remove_all(dir);
}

// The mapped path's messages and offsets for a file cut anywhere near the
// end of a window are the pread() path's (which test_pcap's classic_pcap
// suite compares with libpcap).
BOOST_AUTO_TEST_CASE(a_capture_cut_mid_record_fails_as_the_pread_path_does) {
    const auto dir = temp_dir();
    const PcapFile f = generated(200);
    size_t checked = 0;
    for (size_t keep = 24; keep <= f.bytes.size(); keep += keep < 9000 ? 1 : 997) {
        const std::string path = f.write(dir / "cut.pcap", keep);
        const Read pread = read_all(path, 0);
        const Read m = read_all(path, 1);
        BOOST_TEST_CONTEXT("cut at " << keep) { same(m, pread); }
        checked += !pread.error.empty();
    }
    BOOST_TEST(checked > 1000u);
    // The message itself: record 2 (2 bytes of data) cut after its header.
    PcapFile g(false, false, 1, 1600);
    g.record(1, 0, 10).record(2, 0, 50);
    const Read cut = read_all(g.write(dir / "g.pcap", 24 + 26 + 16 + 2), 1);
    BOOST_TEST(cut.recs.size() == 1u);
    BOOST_TEST(cut.error == "truncated dump file; tried to read 50 captured bytes, only got 2");
    BOOST_TEST(cut.position == 50u);
    std::filesystem::remove_all(dir);
}

// ftruncate() while the reader has the file mapped: the records past the new
// end raise SIGBUS; the guard reads them as zeros and the reader fails.
BOOST_AUTO_TEST_CASE(a_file_truncated_while_mapped_fails_without_a_crash) {
    const auto dir = temp_dir();
    const PcapFile f = generated();
    const std::string path = dir / "shrink.pcap";
    const Read whole = read_all(f.write(path), 0);
    const size_t page = MappedWindow::page_size();
    // Cut at a page boundary ahead, mid-page ahead, and behind the reader.
    for (const size_t cut : {size_t(1) << 20, (size_t(1) << 20) + 1000, size_t(4096), size_t(0)}) {
        BOOST_TEST_CONTEXT("cut at " << cut) {
            f.write(path);
            auto r = open_reader(path, ClassicPcapReader::kMappedWindow);  // the whole file in one window
            RawRecord rec;
            size_t n = 0;
            while (n < 50 && r->next(rec)) ++n;
            BOOST_TEST_REQUIRE(n == 50u);
            BOOST_TEST_REQUIRE(r->mapped());
            const uint64_t read_to = r->position();
            BOOST_TEST_REQUIRE(::truncate(path.c_str(), off_t(cut)) == 0);
            std::vector<Rec> got;
            while (r->next(rec)) got.push_back({rec.ts, rec.wire_len, {rec.data.begin(), rec.data.end()}});
            BOOST_TEST(r->error() == "truncated dump file; the capture shrank while it was read");
            if (cut % page == 0) {
                // A whole lost page faults at once: every record handed out is
                // one of the file's, and the error is at the record that
                // reaches into the lost page.
                BOOST_TEST_REQUIRE(got.size() + 50 <= whole.recs.size());
                for (size_t i = 0; i < got.size(); ++i) BOOST_TEST((got[i] == whole.recs[50 + i]));
                if (cut >= read_to) BOOST_TEST(r->position() <= cut);
                else BOOST_TEST(got.empty());
            }
        }
    }
    std::filesystem::remove_all(dir);
}

// The bytes of a record handed out are read after next() returns (the replay
// copies them into its batch, possibly on another thread): a page lost then
// reads as zeros and the next call fails.
BOOST_AUTO_TEST_CASE(a_record_read_after_the_file_shrank_reads_zeros_and_the_next_call_fails) {
    const auto dir = temp_dir();
    const PcapFile f = generated();
    const std::string path = f.write(dir / "late.pcap");
    std::thread reader([&] {
        auto r = open_reader(path, ClassicPcapReader::kMappedWindow);
        RawRecord rec;
        // The first record that starts past 2 MiB and is at least 1,000 bytes.
        while (r->next(rec) && (r->position() < (2u << 20) || rec.data.size() < 1000)) {
        }
        BOOST_TEST_REQUIRE(rec.data.size() >= 1000u);
        BOOST_TEST_REQUIRE(::truncate(path.c_str(), 4096) == 0);
        uint64_t sum = 0;
        for (uint8_t b : rec.data) sum += b;  // faults, page by page: zeros
        BOOST_TEST(sum == 0u);
        BOOST_TEST(!r->next(rec));
        BOOST_TEST(r->error() == "truncated dump file; the capture shrank while it was read");
    });
    reader.join();
    std::filesystem::remove_all(dir);
}

// PcapReader (which reads with pread()) reports a capture that shrinks while
// it is read as any truncated capture: the command line's exit code follows
// from "truncated" in the reader's message, which the mapped path's message
// has too.
BOOST_AUTO_TEST_CASE(pcap_reader_reports_a_shrunk_capture_as_truncated) {
    const auto dir = temp_dir();
    const PcapFile f = generated();
    const std::string path = f.write(dir / "reader.pcap");
    PcapReader r(path);
    BOOST_TEST_REQUIRE(r.is_native());
    RawRecord rec;
    for (int i = 0; i < 10; ++i) BOOST_TEST_REQUIRE(r.next(rec));
    BOOST_TEST_REQUIRE(::truncate(path.c_str(), 1 << 20) == 0);
    uint64_t n = 10;
    while (r.next(rec)) ++n;
    BOOST_TEST(n < 4000u);
    BOOST_TEST(r.error().starts_with("truncated record " + std::to_string(n + 1) + " at byte offset "), r.error());
    std::filesystem::remove_all(dir);
}

// Shorter, but still holding every byte handed out: as pread() sees it, a
// file that ends there.
BOOST_AUTO_TEST_CASE(a_file_cut_behind_nothing_lost_ends_as_the_shorter_file) {
    const auto dir = temp_dir();
    const PcapFile f = generated(100);
    const std::string path = f.write(dir / "tail.pcap");
    const Read shorter = read_all(f.write(dir / "short.pcap", f.bytes.size() - 10), 0);
    BOOST_TEST_REQUIRE(!shorter.error.empty());
    auto r = open_reader(path, ClassicPcapReader::kMappedWindow);
    RawRecord rec;
    size_t n = 0;
    while (n < shorter.recs.size() && r->next(rec)) ++n;
    BOOST_TEST_REQUIRE(n == shorter.recs.size());
    BOOST_TEST_REQUIRE(::truncate(path.c_str(), off_t(f.bytes.size() - 10)) == 0);
    BOOST_TEST(!r->next(rec));
    BOOST_TEST(r->error() == shorter.error);
    BOOST_TEST(r->position() == shorter.position);
    std::filesystem::remove_all(dir);
}

// pread() reads on while a file grows; so does the mapped path.
BOOST_AUTO_TEST_CASE(a_file_growing_while_read_is_read_on) {
    const auto dir = temp_dir();
    const PcapFile f = generated(300);
    const PcapFile g = generated(500);  // the same 300 records, then 200 more
    for (size_t w : {size_t(0), size_t(1), ClassicPcapReader::kMappedWindow}) {
        BOOST_TEST_CONTEXT("window " << w) {
            const std::string path = f.write(dir / "grow.pcap");
            auto r = open_reader(path, w);
            RawRecord rec;
            size_t n = 0;
            while (n < 290 && r->next(rec)) ++n;
            std::ofstream(path, std::ios::binary | std::ios::app)
                .write(reinterpret_cast<const char*>(g.bytes.data() + f.bytes.size()),
                       std::streamsize(g.bytes.size() - f.bytes.size()));
            while (r->next(rec)) ++n;
            BOOST_TEST(n == 500u);
            BOOST_TEST(r->error().empty());
            BOOST_TEST(r->position() == g.bytes.size());
        }
    }
    std::filesystem::remove_all(dir);
}

// When no window can be had (here: every slot of the guard's table taken),
// the reader uses pread(), with the same results.
BOOST_AUTO_TEST_CASE(without_a_free_window_slot_the_reader_uses_pread) {
    const auto dir = temp_dir();
    const std::string path = generated(500).write(dir / "slots.pcap");
    const Read mapped = read_all(path, 1);
    BOOST_TEST(mapped.mapped);
    std::vector<std::unique_ptr<MappedWindow>> taken;
    for (;;) {
        auto w = std::make_unique<MappedWindow>();
        if (!w->ok()) break;
        taken.push_back(std::move(w));
    }
    BOOST_TEST(taken.size() >= 8u);
    const Read fallback = read_all(path, 1);
    BOOST_TEST(!fallback.mapped);
    same(fallback, mapped);
    taken.clear();
    BOOST_TEST(read_all(path, 1).mapped);
    std::filesystem::remove_all(dir);
}

// The guard handles only faults inside a registered window: any other SIGBUS
// goes to the disposition that was there before, here the default one, and
// kills the process (a child here). (Under ASan the previous handler is
// ASan's, which reports and exits with an error: the child dies either way.)
BOOST_AUTO_TEST_CASE(a_sigbus_outside_any_window_keeps_its_default_action) {
    const auto dir = temp_dir();
    const std::string path = generated(100).write(dir / "other.pcap");
    {
        auto r = open_reader(path, 1);  // installs the handler
        RawRecord rec;
        BOOST_TEST_REQUIRE(r->next(rec));
    }
    auto child_dies = [](auto body) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            const rlimit no_core{0, 0};
            ::setrlimit(RLIMIT_CORE, &no_core);
            const int null = ::open("/dev/null", O_WRONLY);  // (ASan's report of it)
            if (null >= 0) ::dup2(null, 2);
            body();
            ::_exit(0);
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        return (WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS) || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
    };
    // A mapping of our own, not a reader's, past the end of its file.
    BOOST_TEST(child_dies([&] {
                   const int fd = ::open(path.c_str(), O_RDWR);
                   auto* p = static_cast<volatile uint8_t*>(::mmap(nullptr, 1 << 16, PROT_READ, MAP_SHARED, fd, 0));
                   if (::ftruncate(fd, 0) != 0) ::_exit(3);
                   (void)p[8192];
               }));
    BOOST_TEST(child_dies([] { ::raise(SIGBUS); }));
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
