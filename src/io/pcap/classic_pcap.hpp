// Reads the records of a classic pcap file (not pcapng) without libpcap:
// large pread()s into one buffer, each record handed out in place.
//
// libpcap's savefile reader (pcap_next_packet() in sf-pcap.c) fread()s every
// record from a stdio FILE into its own buffer: two copies and ~450
// instructions per record. This reader does the same checks in the same
// order, with the same messages, on bytes that stay where read() put them.
// PcapReader lets libpcap open the file and check the file header (so header
// errors, the link type mapping and the snapshot length are libpcap's own),
// then hands the records to this reader when the file is one it mirrors
// exactly (see PcapReader::try_native).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fwsim/time.hpp"
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
    // Takes ownership of fd (a regular file: reads use pread()); records start
    // at byte `start` (after the 24-byte file header).
    ClassicPcapReader(int fd, uint64_t start, Format f);
    ~ClassicPcapReader();
    ClassicPcapReader(const ClassicPcapReader&) = delete;
    ClassicPcapReader& operator=(const ClassicPcapReader&) = delete;

    // Sets r.ts, r.wire_len and r.data (valid until the next call); false at
    // the end of the file or on an error, and from then on. error() is then
    // empty at a clean end, else libpcap's message for the same condition.
    bool next(RawRecord& r);
    const std::string& error() const { return error_; }

    // File offset of the first byte not handed out yet: after a record, where
    // the next one starts; after an error, where the failed record starts.
    uint64_t position() const { return buf_offset_ + pos_; }

private:
    // Makes at least `need` bytes available from pos_ unless the file ends
    // first; false then (error_ is set if read() failed).
    bool have(size_t need) { return end_ - pos_ >= need || fill(need); }
    bool fill(size_t need);
    bool fail_short(const char* what, size_t wanted, size_t got);
    bool long_record(uint32_t caplen, RawRecord& r);

    int fd_;
    Format f_;
    Nanos frac_unit_;      // nanoseconds per unit of the timestamp fraction
    uint32_t short_limit_; // records up to this long need no check (min of snapshot and max_caplen)
    std::vector<uint8_t> buf_;
    uint64_t buf_offset_;  // file offset of buf_[0]
    size_t pos_ = 0;       // next unread byte in buf_
    size_t end_ = 0;       // end of the bytes read into buf_
    bool eof_ = false;     // pread() returned 0
    bool done_ = false;    // next() returned false
    bool read_failed_ = false;
    std::string error_;
};

}  // namespace fwsim
