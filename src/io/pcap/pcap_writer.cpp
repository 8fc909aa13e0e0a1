#include "io/pcap/pcap_writer.hpp"

#include <pcap/pcap.h>

#include <cstdio>
#include <filesystem>

#include "fwsim/error.hpp"

namespace fwsim {

PcapWriter::PcapWriter(const std::string& path, int linktype, int ts_digits)
    : path_(path), ts_digits_(ts_digits == 9 ? 9 : 6) {
    // Same directory, so that the final rename() cannot cross file systems.
    const std::filesystem::path p(path);
    tmp_ = (p.parent_path() / ("." + p.filename().string() + ".tmp")).string();
    dead_ = pcap_open_dead_with_tstamp_precision(
        linktype, 262144, ts_digits_ == 9 ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
    if (!dead_) throw InputError(path, 0, 0, "cannot set up a pcap writer");
    dumper_ = pcap_dump_open(dead_, tmp_.c_str());
    if (!dumper_) {
        const std::string why = pcap_geterr(dead_);
        pcap_close(dead_);
        dead_ = nullptr;
        throw InputError(path, 0, 0, why);
    }
}

PcapWriter::~PcapWriter() {
    if (committed_) return;
    close();
    std::remove(tmp_.c_str());
}

void PcapWriter::close() {
    if (dumper_) pcap_dump_close(dumper_);
    dumper_ = nullptr;
    if (dead_) pcap_close(dead_);
    dead_ = nullptr;
}

void PcapWriter::write(Nanos ts, std::span<const uint8_t> data, uint32_t wire_len) {
    if (!dumper_) return;
    pcap_pkthdr h{};
    Nanos sec = ts / kSecond, frac = ts % kSecond;
    if (frac < 0) {  // floor, for times before 1970
        frac += kSecond;
        --sec;
    }
    h.ts.tv_sec = time_t(sec);
    h.ts.tv_usec = suseconds_t(ts_digits_ == 9 ? frac : frac / 1000);
    h.caplen = uint32_t(data.size());
    h.len = wire_len < data.size() ? uint32_t(data.size()) : wire_len;
    pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, data.data());
}

void PcapWriter::commit() {
    if (committed_ || !dumper_) return;
    const bool failed = pcap_dump_flush(dumper_) != 0 || std::ferror(pcap_dump_file(dumper_));
    close();
    if (failed) throw InputError(path_, 0, 0, "write error");
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) throw InputError(path_, 0, 0, "cannot rename into place");
    committed_ = true;
}

}  // namespace fwsim
