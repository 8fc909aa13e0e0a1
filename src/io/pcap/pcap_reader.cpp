#include "io/pcap/pcap_reader.hpp"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "fwsim/error.hpp"

namespace fwsim {

namespace {

constexpr uint32_t kShb = 0x0A0D0D0A, kIdb = 1, kPb = 2, kSpb = 3, kEpb = 6;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr size_t kReadBuffer = size_t(1) << 18;  // stdio buffer for libpcap

uint32_t le32(const uint8_t* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint32_t bswap32(uint32_t v) {
    return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

// Digits needed to print an if_tsresol exactly (6 for the default 10^-6).
int tsresol_digits(uint8_t v) {
    if (v & 0x80) return int(std::ceil((v & 0x7f) * std::log10(2.0)));
    return v;
}

// Walks the pcapng blocks up to the first packet block and returns the
// largest timestamp precision any interface declares (if_tsresol, option 9).
int pcapng_digits(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    bool swap = false;
    int digits = 6;
    uint8_t hdr[8];
    for (int blocks = 0; blocks < 1000 && in.read(reinterpret_cast<char*>(hdr), 8); ++blocks) {
        uint32_t type = le32(hdr), len = le32(hdr + 4);
        std::vector<uint8_t> body;
        if (type == kShb) {
            uint8_t m[4];
            if (!in.read(reinterpret_cast<char*>(m), 4)) break;
            swap = le32(m) != kByteOrderMagic;
            if (swap) len = bswap32(len);
            if (len < 16 || len > (1u << 24)) break;
            in.seekg(len - 12, std::ios::cur);
            continue;
        }
        if (swap) {
            type = bswap32(type);
            len = bswap32(len);
        }
        if (len < 12 || len > (1u << 24) || len % 4) break;
        if (type == kEpb || type == kSpb || type == kPb) break;
        body.resize(len - 8);
        if (!in.read(reinterpret_cast<char*>(body.data()), std::streamsize(body.size()))) break;
        if (type != kIdb || body.size() < 12) continue;
        auto u16 = [&](size_t o) {
            const uint16_t v = uint16_t(body[o] | body[o + 1] << 8);
            return swap ? uint16_t(v >> 8 | v << 8) : v;
        };
        int d = 6;
        for (size_t o = 8; o + 4 <= body.size() - 4;) {  // options, before the trailing length
            const uint16_t code = u16(o), olen = u16(o + 2);
            if (code == 0) break;
            if (code == 9 && olen == 1 && o + 5 <= body.size()) d = tsresol_digits(body[o + 4]);
            o += 4 + ((olen + 3u) & ~3u);
        }
        if (d > digits) digits = d;
    }
    return digits > 6 ? 9 : 6;
}

}  // namespace

void PcapReader::PcapClose::operator()(pcap* p) const { pcap_close(p); }

uint32_t PcapReader::NgScan::u32(const uint8_t* p) const {
    const uint32_t v = le32(p);
    return swap ? bswap32(v) : v;
}

int32_t PcapReader::NgScan::next_interface() {
    uint8_t hdr[8];
    while (ok && in.read(reinterpret_cast<char*>(hdr), 8)) {
        uint32_t type = le32(hdr);
        uint32_t len;
        if (type == kShb) {
            uint8_t m[4];
            if (!in.read(reinterpret_cast<char*>(m), 4)) break;
            swap = le32(m) != kByteOrderMagic;
            len = u32(hdr + 4);
            if (len < 16) break;
            if_base += if_count;
            if_count = 0;
            in.ignore(std::streamsize(len) - 12);
            pos += len;
            continue;
        }
        type = u32(hdr);
        len = u32(hdr + 4);
        if (len < 12 || len % 4) break;
        int32_t id = -2;
        if (type == kEpb || type == kPb) {
            uint8_t b[4];
            if (!in.read(reinterpret_cast<char*>(b), 4)) break;
            id = type == kEpb ? int32_t(u32(b)) : int32_t(swap ? (b[0] << 8 | b[1]) : (b[0] | b[1] << 8));
            in.ignore(std::streamsize(len) - 12);
        } else {
            if (type == kSpb) id = 0;
            if (type == kIdb) ++if_count;
            in.ignore(std::streamsize(len) - 8);
        }
        pos += len;
        if (id != -2) return if_base + id;
    }
    ok = false;
    return -1;
}

PcapReader::PcapReader(const std::string& path) : path_(path), name_(path) { open(true); }

PcapReader::PcapReader(const std::string& path, const std::string& name) : path_(path), name_(name) { open(true); }

PcapReader::PcapReader(const std::string& path, ForceLibpcap) : path_(path), name_(path) { open(false); }

void PcapReader::open(bool allow_native) {
    const std::string& path = path_;
    const std::string& name = name_;  // in messages
    // A capture is opened more than once (the magic probe, libpcap, the
    // pcapng side scan): a pipe (`-`, `<(zcat x.pcap.gz)`) would be consumed
    // by the first open and the next would wait for a writer forever. The
    // command line copies those to a file first (cli/capture_source.hpp);
    // here they are refused before anything is opened.
    if (path == "-")
        throw InputError(name, 0, 0, "standard input cannot be read directly; copy it to a file first");
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
        throw InputError(name, 0, 0,
                         "not a regular file (a pipe or device cannot be read more than once); copy the capture to "
                         "a file first");
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw InputError(name, 0, 0, std::strerror(errno));
    uint8_t magic[4] = {};
    const size_t got = std::fread(magic, 1, 4, f);
    std::fclose(f);
    const uint32_t m = le32(magic);
    if (got == 4 && (m == 0xa1b2c3d4 || m == 0xd4c3b2a1)) {
        ts_digits_ = 6;
    } else if (got == 4 && (m == 0xa1b23c4d || m == 0x4d3cb2a1)) {
        ts_digits_ = 9;
    } else if (got == 4 && m == kShb) {
        pcapng_ = true;
        ts_digits_ = pcapng_digits(path);
    } else {
        throw InputError(name, 0, 0, "not a pcap or pcapng file");
    }
    // libpcap reads with fread(): with stdio's default buffer (st_blksize,
    // 4 KiB) that is a read() system call every ~20 records. We open the
    // file ourselves to give it a larger buffer; libpcap closes it.
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (!file) throw InputError(name, 0, 0, std::strerror(errno));
    // (glibc ignores the size when given no buffer, hence our own.)
    read_buf_.resize(kReadBuffer);
    std::setvbuf(file, read_buf_.data(), _IOFBF, read_buf_.size());
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    handle_.reset(pcap_fopen_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_NANO, errbuf));
    if (!handle_) {
        std::fclose(file);  // not taken over on failure
        throw InputError(name, 0, 0, errbuf);
    }
    linktype_ = pcap_datalink(handle_.get());
    snapshot_ = uint32_t(pcap_snapshot(handle_.get()));
    std::error_code ec;
    file_size_ = std::filesystem::file_size(path, ec);
    if (ec) file_size_ = 0;
    record_start_ = bytes_read();
    if (pcapng_) {
        ng_ = std::make_unique<NgScan>();
        // Set before open() to take effect (libstdc++ basic_filebuf::setbuf).
        ng_->buf.resize(1 << 16);
        ng_->in.rdbuf()->pubsetbuf(ng_->buf.data(), std::streamsize(ng_->buf.size()));
        ng_->in.open(path, std::ios::binary);
        ng_->ok = bool(ng_->in);
    } else if (allow_native) {
        try_native(fileno(file), pcap_is_swapped(handle_.get()) != 0, ts_digits_ == 9);
    }
}

// Hands the records to ClassicPcapReader when it reads this file exactly as
// libpcap would; else leaves them to libpcap.
void PcapReader::try_native(int fd, bool swapped, bool nanos) {
    // pread() needs a regular file (not a pipe or a terminal).
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
    // Version 2.4 records have caplen before len; libpcap swaps the two
    // fields in older files (pcap_check_header() in sf-pcap.c).
    if (pcap_major_version(handle_.get()) != 2 || pcap_minor_version(handle_.get()) != 4) return;
    // max_snaplen_for_dlt() in libpcap's pcap-common.c: MAXIMUM_SNAPLEN
    // (262144) but for DLT_DBUS, DLT_EBHSCR and DLT_USBPCAP.
    if (linktype_ == DLT_DBUS || linktype_ == DLT_EBHSCR || linktype_ == DLT_USBPCAP) return;
    constexpr uint32_t kMaxSnaplen = 262144;
    // In a byte-swapped file libpcap also swaps the host-order fields of some
    // pseudo-headers (swap_pseudo_headers() in pcap-common.c: Linux SLL with
    // CAN, USB, NFLOG). Natively only link types without any.
    if (swapped) {
        switch (linktype_) {
            case DLT_NULL: case DLT_EN10MB: case DLT_RAW: case DLT_LOOP: case DLT_IPV4: case DLT_IPV6:
                break;
            default:
                return;
        }
    }
    if (snapshot_ == 0) return;  // (pcap_adjust_snapshot() never leaves it 0)
    // libpcap has read the 24-byte file header and nothing else.
    std::FILE* file = pcap_file(handle_.get());
    if (!file || std::ftell(file) != 24) return;
    const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) return;
    classic_ = std::make_unique<ClassicPcapReader>(
        own, 24, ClassicPcapReader::Format{swapped, nanos, snapshot_, kMaxSnaplen});
    handle_.reset();
    read_buf_ = {};
}

PcapReader::~PcapReader() = default;

uint64_t PcapReader::bytes_read() const {
    if (classic_) return classic_->position();
    std::FILE* f = handle_ ? pcap_file(handle_.get()) : nullptr;
    const long pos = f ? std::ftell(f) : -1;
    return pos < 0 ? 0 : uint64_t(pos);
}

void PcapReader::set_error(const std::string& why) {
    if (why.find("truncated") != std::string::npos)
        error_ = "truncated record " + std::to_string(count_ + 1) + " at byte offset " +
                 std::to_string(record_start_);
    else
        error_ = "record " + std::to_string(count_ + 1) + " at byte offset " +
                 std::to_string(record_start_) + ": " + why;
}

bool PcapReader::native_end() {
    if (!done_ && !classic_->error().empty()) {
        record_start_ = classic_->position();
        set_error(classic_->error());
    }
    done_ = true;
    return false;
}

bool PcapReader::next_libpcap(RawRecord& r) {
    if (done_) return false;
    pcap_pkthdr* hdr = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(handle_.get(), &hdr, &data);
    if (rc == 1) {
        r.index = ++count_;
        // Asked for nanosecond precision: tv_usec holds nanoseconds.
        r.ts = Nanos(hdr->ts.tv_sec) * kSecond + Nanos(hdr->ts.tv_usec);
        r.wire_len = hdr->len;
        r.data = {data, hdr->caplen};
        // Where the next record starts, by arithmetic (ftell() would cost a
        // system call per record): a pcap record header is 16 bytes.
        if (ng_) {
            r.capture_if = ng_->next_interface();
            record_start_ = ng_->pos;
        } else {
            r.capture_if = -1;
            record_start_ += 16 + hdr->caplen;
            // A record longer than the snapshot length comes cut to it, its
            // other bytes skipped: only the file position says where it ended.
            if (hdr->caplen == snapshot_) {
                const long pos = std::ftell(pcap_file(handle_.get()));
                if (pos >= 0) record_start_ = uint64_t(pos);
            }
        }
        return true;
    }
    done_ = true;
    if (rc == PCAP_ERROR_BREAK) return false;  // clean end of file
    set_error(pcap_geterr(handle_.get()));
    return false;
}

}  // namespace fwsim
