#include "io/pcap/classic_pcap.hpp"

#include <sys/stat.h>
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

ClassicPcapReader::ClassicPcapReader(int fd, uint64_t start, Format f, size_t window)
    : fd_(fd),
      f_(f),
      frac_unit_(f.nanos ? 1 : 1000),
      short_limit_(std::min(f.snapshot, f.max_caplen)),
      buf_offset_(start) {
    struct stat st {};
    if (window == 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !window_.emplace().ok()) {
        use_pread();
        return;
    }
    lost_ = window_->fault_flag();
    // The first window is mapped by the first have().
    const size_t page = MappedWindow::page_size();
    const size_t least = page + kRecordHeader + f.max_caplen;
    window_len_ = (std::max(window, least) + page - 1) / page * page;
    file_size_ = uint64_t(st.st_size);
    mapped_ = true;
}

ClassicPcapReader::~ClassicPcapReader() { ::close(fd_); }

void ClassicPcapReader::use_pread() {
    window_.reset();
    lost_ = nullptr;
    mapped_ = false;
    buf_.resize(kChunk + kRecordHeader + f_.max_caplen);
    base_ = buf_.data();
}

[[gnu::noinline]] bool ClassicPcapReader::fill(size_t need) { return mapped_ ? slide(need) : read_more(need); }

// The mapped path's have() found fewer than `need` bytes from pos_: maps a
// new window at the page of pos_ if the current one does not hold them, and
// says how far the bytes from pos_ may be read.
bool ClassicPcapReader::slide(size_t need) {
    const uint64_t at = buf_offset_ + pos_;
    // Where the file ends now: pread() reads on while a file grows, so does
    // this; one that shrank may have lost bytes already handed out.
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return fail_read(std::string("error reading dump file: ") + std::strerror(errno));
    const uint64_t size = uint64_t(st.st_size);
    if (size < file_size_ && (size < at || lost_->load(std::memory_order_relaxed))) return fail_lost();
    // (Shorter but still holding every byte handed out: from here on it is
    // simply a file that ends at `size`, as pread() would find it.)
    file_size_ = size;
    if (size <= at) {
        end_ = pos_;
        return need == 0;
    }
    const uint64_t want = std::min<uint64_t>(at + need, size);
    if (!window_->data() || want > buf_offset_ + window_->size()) {
        const uint64_t page = MappedWindow::page_size();
        const uint64_t from = at / page * page;
        const size_t len = size_t(std::min<uint64_t>(window_len_, size - from));
        if (!window_->map(fd_, from, len)) {
            // Out of address space or mappings, or a file system without
            // mmap: on with pread() from here.
            use_pread();
            buf_offset_ = at;
            pos_ = end_ = 0;
            return read_more(need);
        }
        base_ = window_->data();
        buf_offset_ = from;
        pos_ = size_t(at - from);
    }
    // A lost whole page raises SIGBUS (the guard); the bytes of a last,
    // partial page past a new, shorter end read as zeros without one. So the
    // file's last partial page is handed out only as far as fstat() said just
    // now, one request at a time (each record there costs an fstat()).
    const uint64_t page = MappedWindow::page_size();
    uint64_t avail = std::min(buf_offset_ + window_->size(), size / page * page);
    if (avail < at + need) avail = std::min(at + need, size);
    end_ = size_t(avail - buf_offset_);
    return end_ - pos_ >= need;
}

// A failure that is not a short record: the message stays (fail_short()
// keeps it), and no clean end is reported.
bool ClassicPcapReader::fail_read(const std::string& why) {
    read_failed_ = true;
    done_ = true;
    error_ = why;
    return false;
}

// The window met a page the file no longer has (or fstat() says it is
// shorter than before): the file shrank while it was read. "truncated" makes
// PcapReader report it as a truncated record, the record where it was seen.
bool ClassicPcapReader::fail_lost() {
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && uint64_t(st.st_size) >= file_size_)
        // Same length: a page that could not be read (an I/O error).
        return fail_read(std::string("error reading dump file: ") + std::strerror(EIO));
    return fail_read("truncated dump file; the capture shrank while it was read");
}

// The pread() path's have() found fewer than `need` bytes from pos_.
bool ClassicPcapReader::read_more(size_t need) {
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
template <bool Mapped>
inline bool ClassicPcapReader::next_from(RawRecord& r) {
    if (done_) return false;
    if (!have(kRecordHeader)) {
        if (end_ == pos_ && !read_failed_) {  // EOF between records: the clean end
            done_ = true;
            return false;
        }
        return fail_short("header", kRecordHeader, end_ - pos_);
    }
    const uint8_t* h = base_ + pos_;
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
    const uint8_t* rec = base_ + pos_;
    if constexpr (Mapped) {
        if (lost(rec + kRecordHeader + caplen - 1)) return fail_lost();
    }
    r.data = {rec + kRecordHeader, caplen};
    pos_ += kRecordHeader + caplen;
    return true;
}

// Two functions, so that the pread() path has no trace of the mapped one.
bool ClassicPcapReader::next_read(RawRecord& r) { return next_from<false>(r); }
bool ClassicPcapReader::next_mapped(RawRecord& r) { return next_from<true>(r); }

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
    // Here snapshot < caplen <= max_caplen, so the whole record fits in the
    // buffer or the window.
    if (!have(kRecordHeader + caplen)) {
        const size_t got = end_ - pos_ - kRecordHeader;
        // libpcap reads the snapshot first, then discards the rest: its
        // message names whichever read came up short.
        return got < f_.snapshot ? fail_short("captured", f_.snapshot, got) : fail_short("captured", caplen, got);
    }
    const uint8_t* rec = base_ + pos_;
    if (mapped_ && lost(rec + kRecordHeader + f_.snapshot - 1)) return fail_lost();
    r.data = {rec + kRecordHeader, f_.snapshot};
    pos_ += kRecordHeader + caplen;
    return true;
}

}  // namespace fwsim
