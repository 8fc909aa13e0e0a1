// Writes a pcap file (for --write-pcap) so that nothing is left half: it
// writes to a temporary name beside the target and renames on commit().
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "fwsim/time.hpp"

struct pcap;
struct pcap_dumper;

namespace fwsim {

class PcapWriter {
public:
    // Throws InputError naming the file when it cannot be created.
    PcapWriter(const std::string& path, int linktype, int ts_digits);
    ~PcapWriter();  // without commit(): removes the temporary file
    PcapWriter(const PcapWriter&) = delete;
    PcapWriter& operator=(const PcapWriter&) = delete;

    void write(Nanos ts, std::span<const uint8_t> data, uint32_t wire_len);
    // Closes and renames into place; throws InputError on a write error.
    void commit();

    const std::string& temp_path() const { return tmp_; }

private:
    void close();
    std::string path_, tmp_;
    int ts_digits_;
    pcap* dead_ = nullptr;
    pcap_dumper* dumper_ = nullptr;
    bool committed_ = false;
};

}  // namespace fwsim
