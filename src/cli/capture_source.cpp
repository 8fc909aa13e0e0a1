#include "cli/capture_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fwsim/error.hpp"
#include "io/output/sha256.hpp"

namespace fwsim {

namespace {

std::string temp_dir() {
    const char* t = std::getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

// An unnamed file in the temporary directory, open for reading and writing.
int unnamed_temp_file(const std::string& name) {
    const std::string dir = temp_dir();
    int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    // A file system without O_TMPFILE: a named file, unlinked at once.
    std::string tmpl = dir + "/fwsim-capture-XXXXXX";
    fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0) throw InputError(name, 0, 0, "cannot create a temporary file in " + dir + " to hold the capture: " +
                                                 std::strerror(errno));
    ::unlink(tmpl.c_str());
    return fd;
}

}  // namespace

CaptureSource::CaptureSource(const std::string& arg, bool digest) : name_(arg), path_(arg), digest_(digest) {
    struct stat st {};
    if (arg == "-") {
        if (::isatty(0))
            throw InputError(arg, 0, 0,
                             "standard input is a terminal; pipe a capture in (zcat x.pcap.gz | fwsim replay - ...)");
        if (::fstat(0, &st) != 0) throw InputError(arg, 0, 0, std::strerror(errno));
        if (S_ISREG(st.st_mode)) {
            path_ = "/proc/self/fd/0";  // `< x.pcap`: a file already, reopened where it is
            return;
        }
    } else if (::stat(arg.c_str(), &st) != 0) {
        return;  // the reader says what is wrong ("No such file or directory", ...)
    }
    if (S_ISREG(st.st_mode)) return;
    if (S_ISDIR(st.st_mode)) throw InputError(arg, 0, 0, "is a directory, not a capture");
    if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
        throw InputError(arg, 0, 0, "is a device, not a capture (a capture is a file, standard input or a pipe)");
    if (arg == "-") {
        spool(0);
        return;
    }
    const int in = ::open(arg.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) throw InputError(arg, 0, 0, std::strerror(errno));
    try {
        spool(in);
    } catch (...) {
        ::close(in);
        throw;
    }
    ::close(in);
}

CaptureSource::~CaptureSource() {
    if (fd_ >= 0) ::close(fd_);
}

void CaptureSource::spool(int in) {
    fd_ = unnamed_temp_file(name_);
    try {
        copy_from(in);
    } catch (...) {
        // The constructor throws: no destructor will close it.
        ::close(fd_);
        fd_ = -1;
        throw;
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
}

void CaptureSource::copy_from(int in) {
    Sha256 h;
    std::vector<uint8_t> buf(1 << 20);
    for (;;) {
        const ssize_t n = ::read(in, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw InputError(name_, 0, 0, std::string("read error: ") + std::strerror(errno));
        }
        if (n == 0) break;
        if (digest_) h.update({buf.data(), size_t(n)});
        for (ssize_t done = 0; done < n;) {
            const ssize_t w = ::write(fd_, buf.data() + done, size_t(n - done));
            if (w < 0) {
                if (errno == EINTR) continue;
                throw InputError(name_, 0, 0, "cannot hold the capture in a temporary file in " + temp_dir() + ": " +
                                                  std::strerror(errno));
            }
            done += w;
        }
        bytes_ += uint64_t(n);
    }
    if (digest_) sha256_ = Sha256::hex(h.final());
}

}  // namespace fwsim
