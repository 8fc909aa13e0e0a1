// Classic pcap files built field by field for the pcap tests, odd ones on
// purpose, and a scratch directory for them.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fwsim::test {

inline std::filesystem::path temp_dir() {
    auto d = std::filesystem::temp_directory_path() / ("fwsim-pcap-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
}

// A classic pcap file, written field by field in either byte order.
struct PcapFile {
    bool big_endian = false;
    std::vector<uint8_t> bytes;

    void u16(uint16_t v) {
        if (big_endian) bytes.insert(bytes.end(), {uint8_t(v >> 8), uint8_t(v)});
        else bytes.insert(bytes.end(), {uint8_t(v), uint8_t(v >> 8)});
    }
    void u32(uint32_t v) {
        if (big_endian) bytes.insert(bytes.end(), {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)});
        else bytes.insert(bytes.end(), {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)});
    }
    PcapFile(bool be, bool nanos, uint32_t linktype = 1, uint32_t snaplen = 65535, uint16_t major = 2,
             uint16_t minor = 4)
        : big_endian(be) {
        u32(nanos ? 0xa1b23c4d : 0xa1b2c3d4);
        u16(major);
        u16(minor);
        u32(0);  // thiszone
        u32(0);  // sigfigs
        u32(snaplen);
        u32(linktype);
    }
    // A record header, then `stored` bytes of data (caplen may say otherwise).
    PcapFile& record(uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len, size_t stored) {
        u32(sec);
        u32(frac);
        u32(caplen);
        u32(len);
        for (size_t i = 0; i < stored; ++i) bytes.push_back(uint8_t(bytes.size() * 7 + i));
        return *this;
    }
    PcapFile& record(uint32_t sec, uint32_t frac, uint32_t caplen) { return record(sec, frac, caplen, caplen, caplen); }
    std::string write(const std::filesystem::path& p, size_t keep = SIZE_MAX) const {
        std::ofstream out(p, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(std::min(keep, bytes.size())));
        return p.string();
    }
};

}  // namespace fwsim::test
