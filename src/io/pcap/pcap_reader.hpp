// Reads pcap and pcapng captures one record at a time: classic pcap files
// natively (classic_pcap.hpp), pcapng and anything unusual with libpcap.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fwsim/time.hpp"
#include "io/pcap/classic_pcap.hpp"
#include "io/pcap/raw_record.hpp"

struct pcap;  // libpcap's pcap_t

namespace fwsim {

// Libpcap opens every capture and checks its file header (so the errors, the
// link type and the snapshot length are libpcap's); the records of a classic
// pcap file are then read by ClassicPcapReader, which mirrors libpcap's
// record checks, unless the file is one it does not mirror (pcapng, a
// version other than 2.4, a link type with a byte-swapped pseudo-header or a
// larger maximum record): libpcap reads those records itself.
class PcapReader {
public:
    // Throws InputError naming the file: "x.pcap: not a pcap or pcapng file",
    // "x.pcap: No such file or directory", ...
    explicit PcapReader(const std::string& path);
    // Opens `path`; messages name the capture `name` (e.g. "-" for a copy of
    // standard input, cli/capture_source.hpp).
    PcapReader(const std::string& path, const std::string& name);
    // For tests: libpcap reads the records even where the native reader would.
    struct ForceLibpcap {};
    PcapReader(const std::string& path, ForceLibpcap);
    ~PcapReader();
    PcapReader(const PcapReader&) = delete;
    PcapReader& operator=(const PcapReader&) = delete;

    int linktype() const { return linktype_; }  // DLT
    int ts_digits() const { return ts_digits_; } // 6 (microsecond) or 9 (nanosecond capture)
    bool is_pcapng() const { return pcapng_; }
    bool is_native() const { return classic_ != nullptr; }  // records read without libpcap

    // False at the end of the file or on an error; error() then says which.
    // Inline: the native reader's records are the hot path of a replay.
    bool next(RawRecord& r) {
        if (!classic_) return next_libpcap(r);
        if (!classic_->next(r)) return native_end();
        r.index = ++count_;
        r.capture_if = -1;
        return true;
    }
    // Empty at a clean end; else e.g. "truncated record 1234 at byte offset 56789"
    // or "record 7 at byte offset 1234: <libpcap's message>".
    const std::string& error() const { return error_; }

    uint64_t bytes_read() const;  // for progress: the file offset after the last record read
    uint64_t file_size() const { return file_size_; }
    const std::string& path() const { return path_; }
    const std::string& name() const { return name_; }

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

    void open(bool allow_native);
    void try_native(int fd, bool swapped, bool nanos);
    void set_error(const std::string& why);
    bool next_libpcap(RawRecord& r);
    bool native_end();

    std::string path_, name_;
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
    std::unique_ptr<ClassicPcapReader> classic_;
    uint32_t snapshot_ = 0;  // pcap_snapshot(), on the libpcap path
};

}  // namespace fwsim
