// Capture time. fwsim never reads the wall clock: all time is the capture's.
#pragma once

#include <cstdint>
#include <string>

namespace fwsim {

// Nanoseconds since the Unix epoch, as read from the capture.
using Nanos = int64_t;

inline constexpr Nanos kSecond = 1'000'000'000;

// Prints a timestamp "exactly to the capture's precision": 6 fractional
// digits for microsecond captures, 9 for nanosecond ones.
std::string format_ts(Nanos t, int digits);
// Appends the same text to a buffer, no allocation when it has room.
void append_ts(std::string& out, Nanos t, int digits);

}  // namespace fwsim
