// SHA-256 (FIPS 180-4), for the summary's capture digest. Small and
// dependency-free: the project links no crypto library for one hash.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace fwsim {

class Sha256 {
public:
    Sha256();
    void update(std::span<const uint8_t> data);
    std::array<uint8_t, 32> final();
    static std::string hex(const std::array<uint8_t, 32>& d);
    // Use the x86 SHA extensions when the CPU has them (tests switch it off
    // to compare both paths).
    static bool hardware;

private:
    void block(const uint8_t* p);
    uint32_t h_[8];
    uint8_t buf_[64];
    size_t len_ = 0;
    uint64_t total_ = 0;
};

// The digest of a whole file as lowercase hex; empty string if unreadable.
std::string sha256_file(const std::string& path);

}  // namespace fwsim
