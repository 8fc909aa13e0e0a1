// One capture record as the readers hand it out.
#pragma once

#include <cstdint>
#include <span>

#include "fwsim/time.hpp"

namespace fwsim {

struct RawRecord {
    uint64_t index = 0;        // 1-based, = Wireshark's frame number
    Nanos ts = 0;              // always nanoseconds
    uint32_t wire_len = 0;     // original length
    std::span<const uint8_t> data;  // captured bytes, valid until the next next()
    int32_t capture_if = -1;   // pcapng interface id (numbered across sections), -1 for pcap
};

}  // namespace fwsim
