// Reads the records of a classic pcap file (not pcapng) without libpcap:
// large pread()s into one buffer or, when asked for, a window of the file
// mapped into memory (mapped_file.hpp) and moved along it; either way each
// record is handed out in place.
//
// The mapped window is not the default: on the 10M-packet bench capture (in
// the page cache) it saved the kernel's copy but paid about as much for
// mapping and unmapping 4 KiB pages and for cache misses moved into user
// space: -0.03..-0.07 s of system time, +0.03..+0.1 s of user time per run
// (docs/performance.md, "What is missed"). fwsim-micro-pcap measures both.
//
// libpcap's savefile reader (pcap_next_packet() in sf-pcap.c) fread()s every
// record from a stdio FILE into its own buffer: two copies and ~450
// instructions per record. This reader does the same checks in the same
// order, with the same messages, on the bytes where the mapping or read()
// put them.
// PcapReader lets libpcap open the file and check the file header (so header
// errors, the link type mapping and the snapshot length are libpcap's own),
// then hands the records to this reader when the file is one it mirrors
// exactly (see PcapReader::try_native).
//
// A file that shrinks while it is mapped: a record that reaches into a lost
// page is not handed out (mapped_file.hpp's SIGBUS guard reads the page as
// zeros and sets a flag, checked per record); next() then fails with
// "truncated dump file; the capture shrank while it was read", which
// PcapReader reports as a truncated record. A cut inside a page is seen only
// at the next page (the bytes between read as zeros, and records made of
// them may come first); a record's bytes lost after next() returned read as
// zeros, and the next call fails. A file that grows is read on, as with
// pread().
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fwsim/time.hpp"
#include "io/pcap/mapped_file.hpp"
#include "io/pcap/raw_record.hpp"

namespace fwsim {

class ClassicPcapReader {
public:
    struct Format {
        bool swapped = false;      // header fields in the other byte order (pcap_is_swapped())
        bool nanos = false;        // 0xa1b23c4d magic: the fraction is in nanoseconds
        uint32_t snapshot = 0;     // pcap_snapshot(): the file's snaplen as libpcap adjusted it
        uint32_t max_caplen = 0;   // libpcap's max_snaplen_for_dlt() for the link type
    };
    // A good mapped window's length. Its pages count in the resident set
    // while it is mapped, so it is kept small: 4 MiB means ~560 moves over a
    // 2.2 GB file and 4 MiB of RSS (and was the fastest of 1, 4, 16 and 64 MiB
    // in fwsim-micro-pcap).
    static constexpr size_t kMappedWindow = size_t(4) << 20;

    // Takes ownership of fd (a regular file); records start at byte `start`
    // (after the 24-byte file header). `window`: 0 reads with pread(); else
    // the length of the mapped window (rounded up to whole pages and to at
    // least one page more than the largest record, so that a window placed
    // at a record's page holds it whole). A file that cannot be mapped is
    // read with pread(), with the same results.
    ClassicPcapReader(int fd, uint64_t start, Format f, size_t window = 0);
    ~ClassicPcapReader();
    ClassicPcapReader(const ClassicPcapReader&) = delete;
    ClassicPcapReader& operator=(const ClassicPcapReader&) = delete;

    // Sets r.ts, r.wire_len and r.data (valid until the next call); false at
    // the end of the file or on an error, and from then on. error() is then
    // empty at a clean end, else libpcap's message for the same condition.
    bool next(RawRecord& r) { return mapped_ ? next_mapped(r) : next_read(r); }
    const std::string& error() const { return error_; }

    // True while records come from a mapped window (false: pread()).
    bool mapped() const { return mapped_; }

    // File offset of the first byte not handed out yet: after a record, where
    // the next one starts; after an error, where the failed record starts.
    uint64_t position() const { return buf_offset_ + pos_; }

private:
    // Makes at least `need` bytes available from pos_ unless the file ends
    // first; false then (error_ is set if reading failed).
    bool have(size_t need) { return end_ - pos_ >= need || fill(need); }
    template <bool Mapped>
    bool next_from(RawRecord& r);
    bool next_read(RawRecord& r);
    bool next_mapped(RawRecord& r);
    bool fill(size_t need);  // (out of line: keeps next() as small as with pread() alone)
    bool slide(size_t need);
    bool read_more(size_t need);
    void use_pread();
    bool fail_read(const std::string& why);
    bool fail_short(const char* what, size_t wanted, size_t got);
    bool long_record(uint32_t caplen, RawRecord& r);
    // Reads `last` (the last byte of the record about to be handed out), then
    // whether any access to the window met a page the file no longer has.
    bool lost(const uint8_t* last) const {
        (void)*static_cast<const volatile uint8_t*>(last);
        std::atomic_signal_fence(std::memory_order_seq_cst);  // the read above, then the flag
        return lost_->load(std::memory_order_relaxed);
    }
    bool fail_lost();

    int fd_;
    Format f_;
    Nanos frac_unit_;      // nanoseconds per unit of the timestamp fraction
    uint32_t short_limit_; // records up to this long need no check (min of snapshot and max_caplen)
    // Only when a window is asked for: a MappedWindow installs the SIGBUS
    // handler (once per process) and takes a slot of its table.
    std::optional<MappedWindow> window_;
    const std::atomic<bool>* lost_ = nullptr;  // window_'s SIGBUS flag
    bool mapped_ = false;
    size_t window_len_ = 0;
    uint64_t file_size_ = 0;  // as fstat() last said (mapped only)
    std::vector<uint8_t> buf_;  // the pread() buffer
    const uint8_t* base_ = nullptr;  // the window's or buf_'s first byte
    uint64_t buf_offset_;  // file offset of base_[0]
    size_t pos_ = 0;       // next unread byte from base_
    size_t end_ = 0;       // end of the bytes available from base_
    bool eof_ = false;     // pread() returned 0
    bool done_ = false;    // next() returned false
    bool read_failed_ = false;
    std::string error_;
};

}  // namespace fwsim
