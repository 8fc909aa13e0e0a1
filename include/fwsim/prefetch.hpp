// A cache prefetch hint that the compiler keeps.
#pragma once

namespace fwsim {

// __builtin_prefetch is a side-effect-free builtin to GCC: a small inline
// function made only of prefetches is found "pure" by interprocedural
// analysis and a call to it, returning nothing, is deleted (seen with GCC 12
// at -O2/-O3 on the conntrack look-ahead). A volatile asm is never deleted.
inline void prefetch(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
    asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
    __builtin_prefetch(p);
#endif
}

}  // namespace fwsim
