// An output file that is never left looking complete: it is written under a
// temporary name beside the target and renamed into place by commit(). If the
// run fails, abort() leaves what was written as PATH.partial (so a user can
// look at it) and PATH itself is not created. "-" means standard output.
// A PATH that exists and is not a regular file (/dev/null, /dev/stdout, a
// FIFO, a shell's >(...) substitution) is written directly: renaming a file
// over it would replace the device or pipe.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace fwsim {

class OutFile {
public:
    OutFile() = default;
    ~OutFile();
    OutFile(const OutFile&) = delete;
    OutFile& operator=(const OutFile&) = delete;

    // Throws InputError when the file cannot be created.
    void open(const std::string& path);
    bool is_open() const { return f_ != nullptr; }
    bool is_stdout() const { return path_ == "-"; }
    const std::string& path() const { return path_; }

    // Append to buf(), then call maybe_flush().
    std::string& buf() { return buf_; }
    void maybe_flush() {
        if (buf_.size() >= kFlushAt) flush();
    }
    void write(std::string_view s) {
        buf_ += s;
        maybe_flush();
    }
    void flush();
    void commit();  // throws InputError on a write error (disk full, ...)
    void abort();   // keep what was written as PATH.partial
    // Throw away what was written (the run starts over): the temporary file
    // is removed. For a file written in place (stdout, a device, a FIFO)
    // this cannot take back what was written: do not start over there.
    void discard();
    // Whether an output at `path` can be discarded (written under a
    // temporary name): false for "-" and for a path that exists and is not a
    // regular file. True for an empty path (no such output).
    static bool rewindable(const std::string& path);

private:
    static constexpr size_t kFlushAt = 1 << 18;
    std::FILE* f_ = nullptr;
    std::string path_, tmp_;  // tmp_ empty: written directly (stdout, device, FIFO)
    std::string buf_;
    bool failed_ = false;
};

}  // namespace fwsim
