// A read-only window onto part of a file (mmap), guarded against SIGBUS.
//
// A file that shrinks while it is mapped makes every access to a mapped page
// past its new end raise SIGBUS, which by default kills the process. A
// window registers its address range in a process-wide table; a SIGBUS
// handler (installed once, by the first window) maps an anonymous zero page
// over a faulting page inside a registered window and sets that window's
// flag, so the access reads zeros and the reader, checking faulted(), fails
// with an error instead of dying. Any other SIGBUS goes to the disposition
// that was there before (by default: the process dies, as without the guard).
//
// The handler works on addresses, not threads: whichever thread touches a
// window's bytes (the reader's own thread, or code copying a record it
// handed out) is covered, as long as it does not block SIGBUS.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace fwsim {

class MappedWindow {
public:
    // Takes a slot of the process-wide table (installing the handler on first
    // use); ok() is false when all slots are taken or the handler could not be
    // installed, and then map() always fails.
    MappedWindow();
    ~MappedWindow();  // unmaps, frees the slot
    MappedWindow(const MappedWindow&) = delete;
    MappedWindow& operator=(const MappedWindow&) = delete;

    bool ok() const { return slot_ >= 0; }

    // Maps bytes [offset, offset + len) of fd read-only in place of the
    // current window (unmapped first); offset must be a multiple of
    // page_size(). len 0 leaves no window. False if mmap() failed: then there
    // is no window.
    bool map(int fd, uint64_t offset, size_t len);
    void unmap();

    const uint8_t* data() const { return data_; }
    size_t size() const { return len_; }

    // True once an access to any of this object's windows met a page past the
    // end of the file (it then read zeros); stays true.
    bool faulted() const { return faulted_->load(std::memory_order_relaxed); }
    // The flag itself, for a hot loop that checks it per record.
    const std::atomic<bool>* fault_flag() const { return faulted_; }

    static size_t page_size();

private:
    int slot_ = -1;
    const std::atomic<bool>* faulted_;
    const uint8_t* data_ = nullptr;
    size_t len_ = 0;
};

}  // namespace fwsim
