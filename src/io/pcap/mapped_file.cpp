#include "io/pcap/mapped_file.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

namespace fwsim {

namespace {

// The windows the handler knows: one slot per live MappedWindow. A window's
// range is one word (first page number, number of pages) so that the
// handler, which may interrupt a thread that is remapping its own window,
// never sees the start of one range with the end of another.
constexpr int kSlots = 64;
constexpr unsigned kPagesBits = 28;  // up to 2^28 pages (1 TiB of 4 KiB pages) per window
constexpr uint64_t kPagesMask = (uint64_t(1) << kPagesBits) - 1;

struct Slot {
    std::atomic<bool> used{false};
    std::atomic<uint64_t> range{0};  // first page << kPagesBits | pages; 0: no window
    std::atomic<bool> faulted{false};
};

Slot g_slots[kSlots];
struct sigaction g_previous;  // SIGBUS's disposition before ours
size_t g_page = 4096;
unsigned g_page_shift = 12;
const std::atomic<bool> g_no_fault{false};  // the flag of a MappedWindow without a slot

// Only async-signal-safe calls here: sigaction() and raise() (POSIX lists
// them), mmap() (not listed, but a bare system call in glibc) and lock-free
// atomics; errno is kept.
void on_sigbus(int sig, siginfo_t* si, void* ctx) {
    const int saved_errno = errno;
    // si_code > 0: raised by the kernel for an access (BUS_ADRERR for a page
    // past the end of a mapped file), not sent with kill().
    if (si->si_code > 0) {
        const uint64_t page_no = uint64_t(reinterpret_cast<uintptr_t>(si->si_addr)) >> g_page_shift;
        for (Slot& s : g_slots) {
            const uint64_t r = s.range.load(std::memory_order_acquire);
            const uint64_t first = r >> kPagesBits, pages = r & kPagesMask;
            if (page_no < first || page_no - first >= pages) continue;
            // A zero page in place of the lost one: the access, restarted on
            // return, reads zeros; the owner sees the flag.
            void* page = reinterpret_cast<void*>(uintptr_t(page_no << g_page_shift));
            if (::mmap(page, g_page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) break;
            s.faulted.store(true, std::memory_order_relaxed);
            errno = saved_errno;
            return;
        }
    }
    // Not ours: whatever was there before.
    if (g_previous.sa_flags & SA_SIGINFO) {
        g_previous.sa_sigaction(sig, si, ctx);
    } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
        g_previous.sa_handler(sig);
    } else {
        // The default action (an ignored SIGBUS from a fault is fatal too):
        // a fault happens again when the access restarts; a sent signal is
        // sent again (blocked here, delivered on return).
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        ::sigaction(SIGBUS, &dfl, nullptr);
        if (si->si_code <= 0) ::raise(SIGBUS);
    }
    errno = saved_errno;
}

bool install_handler() {
    static const bool installed = [] {
        const long page = ::sysconf(_SC_PAGESIZE);
        if (page <= 0 || (page & (page - 1)) != 0) return false;
        g_page = size_t(page);
        g_page_shift = unsigned(__builtin_ctzl(static_cast<unsigned long>(page)));
        struct sigaction sa {};
        sa.sa_sigaction = on_sigbus;
        sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        return ::sigaction(SIGBUS, &sa, &g_previous) == 0;
    }();
    return installed;
}

}  // namespace

size_t MappedWindow::page_size() {
    install_handler();
    return g_page;
}

MappedWindow::MappedWindow() : faulted_(&g_no_fault) {
    if (!install_handler()) return;
    for (int i = 0; i < kSlots; ++i) {
        bool expected = false;
        if (g_slots[i].used.compare_exchange_strong(expected, true)) {
            g_slots[i].faulted.store(false);
            g_slots[i].range.store(0);
            slot_ = i;
            faulted_ = &g_slots[i].faulted;
            return;
        }
    }
}

MappedWindow::~MappedWindow() {
    unmap();
    if (slot_ >= 0) g_slots[slot_].used.store(false);
}

void MappedWindow::unmap() {
    if (!data_) return;
    g_slots[slot_].range.store(0, std::memory_order_release);
    ::munmap(const_cast<uint8_t*>(data_), len_);
    data_ = nullptr;
    len_ = 0;
}

bool MappedWindow::map(int fd, uint64_t offset, size_t len) {
    unmap();
    if (slot_ < 0) return false;
    if (len == 0) return true;
    // MAP_POPULATE: the window's page table is filled in one go instead of
    // by a page fault every 16 pages (fault-around); reading a 2.2 GB cached
    // capture (fwsim-micro-pcap, BM_read_window/4096) took 436-438 ms so,
    // 466-467 ms faulting (with MADV_SEQUENTIAL), 459-462 ms with pread().
    void* p = ::mmap(nullptr, len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, off_t(offset));
    if (p == MAP_FAILED) return false;
    const uint64_t first = uint64_t(reinterpret_cast<uintptr_t>(p)) >> g_page_shift;
    const uint64_t pages = (len + g_page - 1) >> g_page_shift;
    if (pages > kPagesMask || first >> (64 - kPagesBits) != 0) {  // not representable in a slot: unguarded, so not used
        ::munmap(p, len);
        return false;
    }
    data_ = static_cast<const uint8_t*>(p);
    len_ = len;
    g_slots[slot_].range.store(first << kPagesBits | pages, std::memory_order_release);
    return true;
}

}  // namespace fwsim
