// Where a replay reads its capture from (cli: replay, explain). A regular file is read where it is.
// Standard input ("-") and pipes (`zcat x.pcap.gz | fwsim replay -`,
// `<(zcat x.pcap.gz)`, a FIFO) are first copied whole into an unnamed
// temporary file, because a capture is opened more than once (the format
// probe, the replay, a second reader beside libpcap for pcapng) and a pipe
// can be read only once. The copy is an O_TMPFILE file in $TMPDIR (else /tmp):
// it has no name, so it disappears with the process, even a killed one; it is
// reopened through /proc/self/fd. When asked, its SHA-256 is computed while
// copying, so the summary's digest costs no second pass.
#pragma once

#include <string>

namespace fwsim {

class CaptureSource {
public:
    // Throws InputError naming `arg`: a directory, a device, a terminal on
    // standard input, a read or write error while copying (disk full).
    // digest: hash a copied capture on the way (for the summary).
    CaptureSource(const std::string& arg, bool digest);
    ~CaptureSource();
    CaptureSource(const CaptureSource&) = delete;
    CaptureSource& operator=(const CaptureSource&) = delete;

    const std::string& name() const { return name_; }  // as given: for messages and the summary
    const std::string& path() const { return path_; }  // what to open
    bool spooled() const { return fd_ >= 0; }
    uint64_t spooled_bytes() const { return bytes_; }
    const std::string& sha256() const { return sha256_; }  // of the copy, lowercase hex; empty if not spooled or not asked

private:
    void spool(int in);      // into a new temporary file (fd_), then path_ names it
    void copy_from(int in);  // in's bytes to the end of fd_, hashed if digest_

    std::string name_, path_, sha256_;
    bool digest_ = false;
    int fd_ = -1;
    uint64_t bytes_ = 0;
};

}  // namespace fwsim
