#include "io/output/out_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fwsim/error.hpp"

namespace fwsim {

OutFile::~OutFile() {
    if (f_) abort();
}

void OutFile::open(const std::string& path) {
    path_ = path;
    buf_.reserve(kFlushAt + 4096);
    if (path == "-") {
        f_ = stdout;
        return;
    }
    struct stat st;
    const bool special = ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
    if (special && S_ISDIR(st.st_mode)) throw InputError(path + ": cannot create output file: is a directory");
    if (!special) tmp_ = path + ".fwsim-tmp";
    f_ = std::fopen(special ? path.c_str() : tmp_.c_str(), "wb");
    if (!f_) throw InputError(path + ": cannot create output file: " + std::strerror(errno));
}

void OutFile::flush() {
    if (!f_ || buf_.empty()) return;
    if (std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) failed_ = true;
    buf_.clear();
}

void OutFile::commit() {
    if (!f_) return;
    flush();
    if (f_ == stdout) {
        std::fflush(stdout);
        f_ = nullptr;
        return;
    }
    const bool bad = failed_ || std::fflush(f_) != 0 || std::ferror(f_);
    const int err = errno;
    std::fclose(f_);
    f_ = nullptr;
    if (bad) {
        if (!tmp_.empty()) std::remove(tmp_.c_str());
        throw InputError(path_ + ": write failed: " + std::strerror(err));
    }
    if (tmp_.empty()) return;  // a device or pipe: written in place
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
        throw InputError(path_ + ": cannot move output into place: " + std::strerror(errno));
}

void OutFile::discard() {
    if (!f_) return;
    buf_.clear();
    if (f_ == stdout) {
        f_ = nullptr;
        return;
    }
    std::fclose(f_);
    f_ = nullptr;
    if (!tmp_.empty()) std::remove(tmp_.c_str());
}

bool OutFile::rewindable(const std::string& path) {
    if (path.empty()) return true;  // not asked for
    if (path == "-") return false;
    struct stat st;
    return ::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode);
}

void OutFile::abort() {
    if (!f_) return;
    flush();
    if (f_ == stdout) {
        std::fflush(stdout);
        f_ = nullptr;
        return;
    }
    std::fclose(f_);
    f_ = nullptr;
    if (!tmp_.empty()) std::rename(tmp_.c_str(), (path_ + ".partial").c_str());
}

}  // namespace fwsim
