// Reads pcap and pcapng captures with libpcap, one record at a time.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fwsim/time.hpp"

struct pcap;  // libpcap's pcap_t

namespace fwsim {

struct RawRecord {
    uint64_t index = 0;        // 1-based, = Wireshark's frame number
    Nanos ts = 0;              // always nanoseconds
    uint32_t wire_len = 0;     // original length
    std::span<const uint8_t> data;  // captured bytes, valid until the next next()
    int32_t capture_if = -1;   // pcapng interface id (numbered across sections), -1 for pcap
};

class PcapReader {
public:
    // Throws InputError naming the file: "x.pcap: not a pcap or pcapng file",
    // "x.pcap: No such file or directory", ...
    explicit PcapReader(const std::string& path);
    ~PcapReader();
    PcapReader(const PcapReader&) = delete;
    PcapReader& operator=(const PcapReader&) = delete;

    int linktype() const { return linktype_; }  // DLT
    int ts_digits() const { return ts_digits_; } // 6 (microsecond) or 9 (nanosecond capture)
    bool is_pcapng() const { return pcapng_; }

    // False at the end of the file or on an error; error() then says which.
    bool next(RawRecord& r);
    // Empty at a clean end; else e.g. "truncated record 1234 at byte offset 56789".
    const std::string& error() const { return error_; }

    uint64_t bytes_read() const;  // for progress
    uint64_t file_size() const { return file_size_; }
    const std::string& path() const { return path_; }

private:
    struct PcapClose {
        void operator()(pcap* p) const;
    };
    // The pcapng side scan: libpcap does not expose an EPB's interface id, so
    // a second, light reader walks the block structure in step with it. It
    // skips block bodies with ignore(), inside its buffer: seekg() on a
    // filebuf costs an lseek() and a read() per block (2.3 us per packet).
    struct NgScan {
        std::vector<char> buf;   // the ifstream's buffer
        std::ifstream in;
        bool ok = false;
        bool swap = false;       // section byte order differs from little-endian
        int32_t if_base = 0;     // interfaces of earlier sections
        int32_t if_count = 0;    // interfaces of this section
        uint64_t pos = 0;        // file offset after the blocks walked so far
        int32_t next_interface();  // -1 when the block structure is broken
        uint32_t u32(const uint8_t* p) const;
    };

    std::string path_;
    std::vector<char> read_buf_;  // the capture FILE's stdio buffer: declared before handle_, freed after it
    std::unique_ptr<pcap, PcapClose> handle_;
    int linktype_ = 0;
    int ts_digits_ = 6;
    bool pcapng_ = false;
    uint64_t file_size_ = 0;
    uint64_t count_ = 0;
    uint64_t record_start_ = 0;  // byte offset where the next record begins
    std::string error_;
    bool done_ = false;
    std::unique_ptr<NgScan> ng_;
};

}  // namespace fwsim
