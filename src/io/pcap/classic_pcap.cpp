#include "io/pcap/classic_pcap.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace fwsim {

namespace {

// 256 KiB of records per read, plus room for the largest record libpcap
// accepts on this path (16-byte header + 262144 bytes, MAXIMUM_SNAPLEN), so a
// record is always whole in the buffer.
constexpr size_t kChunk = size_t(1) << 18;
constexpr size_t kRecordHeader = 16;  // struct pcap_sf_pkthdr: ts_sec, ts_frac, caplen, len

uint32_t load32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

}  // namespace

ClassicPcapReader::ClassicPcapReader(int fd, uint64_t start, Format f)
    : fd_(fd),
      f_(f),
      frac_unit_(f.nanos ? 1 : 1000),
      short_limit_(std::min(f.snapshot, f.max_caplen)),
      buf_(kChunk + kRecordHeader + f.max_caplen),
      buf_offset_(start) {}

ClassicPcapReader::~ClassicPcapReader() { ::close(fd_); }

// have() found fewer than `need` bytes from pos_.
bool ClassicPcapReader::fill(size_t need) {
    // Keep the unread tail (part of one record) and read after it.
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    buf_offset_ += pos_;
    end_ -= pos_;
    pos_ = 0;
    while (end_ < need && !eof_ && !read_failed_) {
        const ssize_t n = ::pread(fd_, buf_.data() + end_, buf_.size() - end_, off_t(buf_offset_ + end_));
        if (n > 0) {
            end_ += size_t(n);
        } else if (n == 0) {
            eof_ = true;
        } else if (errno != EINTR) {
            read_failed_ = true;
            // As pcap_fmt_errmsg_for_errno(errbuf, errno, "error reading dump file").
            error_ = std::string("error reading dump file: ") + std::strerror(errno);
        }
    }
    return end_ >= need;
}

// A record cut short by the end of the file (or a read error): libpcap's
// message for it, as pcap_next_packet() in sf-pcap.c words it.
bool ClassicPcapReader::fail_short(const char* what, size_t wanted, size_t got) {
    done_ = true;
    if (!read_failed_) {
        char msg[128];
        std::snprintf(msg, sizeof msg, "truncated dump file; tried to read %zu %s bytes, only got %zu", wanted, what,
                      got);
        error_ = msg;
    }
    return false;
}

// The checks of pcap_next_packet() in libpcap's sf-pcap.c, in its order.
bool ClassicPcapReader::next(RawRecord& r) {
    if (done_) return false;
    if (!have(kRecordHeader)) {
        if (end_ == pos_ && !read_failed_) {  // EOF between records: the clean end
            done_ = true;
            return false;
        }
        return fail_short("header", kRecordHeader, end_ - pos_);
    }
    const uint8_t* h = buf_.data() + pos_;
    uint32_t sec = load32(h), frac = load32(h + 4), caplen = load32(h + 8), len = load32(h + 12);
    if (f_.swapped) {
        sec = __builtin_bswap32(sec);
        frac = __builtin_bswap32(frac);
        caplen = __builtin_bswap32(caplen);
        len = __builtin_bswap32(len);
        // libpcap stores SWAPLONG() (an unsigned int) into the time_t and
        // suseconds_t of struct pcap_pkthdr: zero-extended.
        r.ts = Nanos(sec) * kSecond + Nanos(frac) * frac_unit_;
    } else {
        // The file's bpf_int32 fields are assigned as they are: sign-extended.
        r.ts = Nanos(int32_t(sec)) * kSecond + Nanos(int32_t(frac)) * frac_unit_;
    }
    r.wire_len = len;
    if (caplen > short_limit_) return long_record(caplen, r);
    if (!have(kRecordHeader + caplen)) return fail_short("captured", caplen, end_ - pos_ - kRecordHeader);
    r.data = {buf_.data() + pos_ + kRecordHeader, caplen};
    pos_ += kRecordHeader + caplen;
    return true;
}

// A record longer than the file's snapshot length or libpcap's maximum, as
// pcap_next_packet() handles it: past the maximum it is an error; else the
// first `snapshot` bytes are the record and the rest is skipped.
bool ClassicPcapReader::long_record(uint32_t caplen, RawRecord& r) {
    if (caplen > f_.max_caplen) {
        done_ = true;
        char msg[128];
        // (pcap_snapshot() is an int, printed with %d.)
        if (caplen > f_.snapshot)
            std::snprintf(msg, sizeof msg, "invalid packet capture length %u, bigger than snaplen of %d", caplen,
                          int(f_.snapshot));
        else
            std::snprintf(msg, sizeof msg, "invalid packet capture length %u, bigger than maximum of %u", caplen,
                          f_.max_caplen);
        error_ = msg;
        return false;
    }
    // Here snapshot < caplen <= max_caplen, so the whole record fits in buf_.
    if (!have(kRecordHeader + caplen)) {
        const size_t got = end_ - pos_ - kRecordHeader;
        // libpcap reads the snapshot first, then discards the rest: its
        // message names whichever read came up short.
        return got < f_.snapshot ? fail_short("captured", f_.snapshot, got) : fail_short("captured", caplen, got);
    }
    r.data = {buf_.data() + pos_ + kRecordHeader, f_.snapshot};
    pos_ += kRecordHeader + caplen;
    return true;
}

}  // namespace fwsim
