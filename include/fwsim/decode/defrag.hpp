// IPv4/IPv6 fragment reassembly before connection tracking, as nf_defrag_ipv4
// (ip_defrag() in net/ipv4/ip_fragment.c) and nf_defrag_ipv6
// (nf_ct_frag6_gather() in net/ipv6/netfilter/nf_conntrack_reasm.c) do, with
// the queue insertion rules of inet_frag_queue_insert() (net/ipv4/inet_fragment.c).
//
// Differences from the kernel, on purpose:
//  - memory is counted as the IP bytes of the held fragments (the kernel
//    counts skb->truesize, which depends on the driver);
//  - queues are keyed without the input interface / VRF (the decoder does not
//    know them); ECN mixing checks (ip_frag_ecn_table) are not done;
//  - timers fire when `now >= first fragment's ts + timeout` at the next
//    expire() call, which the caller makes before each add().
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <tuple>
#include <span>
#include <string_view>
#include <vector>

#include "fwsim/config.hpp"
#include "fwsim/net.hpp"
#include "fwsim/packet.hpp"
#include "fwsim/time.hpp"

namespace fwsim {

class Defragmenter {
public:
    explicit Defragmenter(const Config& cfg);  // frag.timeout, frag.high_thresh, frag6.*

    enum class Result { held, complete, dropped };

    // p: a decoded fragment (p.ok() && p.is_fragment), its bytes whole in
    // p.frame (l3_offset + ip_len captured).
    //  held: kept, waiting for more (members() is empty).
    //  complete: *out is the whole datagram decoded by decode_ip(); out->frame
    //    points into storage owned by the Defragmenter, valid until the next
    //    add()/expire()/flush_all() call; out->index/ts/capture_if are p's and
    //    out->wire_len = out->cap_len = the datagram's length. members() lists
    //    the capture indexes of all its fragments in capture order (p included).
    //  dropped: p was refused, *reason_text says why; members() lists every
    //    fragment dropped with it in capture order (p included): the whole
    //    queue for an overlap or an inconsistent length (the kernel kills the
    //    queue), only p for a duplicate, a too-large fragment or memory pressure.
    Result add(const Packet& p, Packet* out, std::string_view* reason_text);
    std::span<const uint64_t> members() const { return members_; }

    // Drops the datagrams whose timer (started by their first fragment, as
    // inet_frag_create() arms it, never re-armed) has run out at `now`,
    // calling cb(index) for each of their fragments: datagrams in
    // (deadline, creation) order, fragments in capture order.
    template <class Callback>
    void expire(Nanos now, Callback&& cb) {
        collect(now, false);
        for (uint64_t i : expired_) cb(i);
    }
    // The same for every datagram still incomplete (end of capture).
    template <class Callback>
    void flush_all(Callback&& cb) {
        collect(0, true);
        for (uint64_t i : expired_) cb(i);
    }

    size_t bytes_held() const { return mem4_ + mem6_; }
    size_t queues() const { return queues_.size(); }

private:
    struct Key {
        Family family;
        uint8_t proto;  // IPv4 only: IPv6 queues are keyed without it
        uint32_t id;
        IpAddr src, dst;
        auto operator<=>(const Key&) const = default;
    };
    struct Frag {
        uint32_t offset, end;
        std::vector<uint8_t> data;
    };
    struct Run {  // a fragrun: fragments appended back to back at the tail
        uint32_t offset, len;
    };
    struct Queue {
        uint64_t seq = 0;
        Nanos deadline = 0;
        std::vector<Frag> frags;  // by offset
        std::vector<Run> runs;    // by offset
        std::vector<uint64_t> members;
        uint32_t len = 0, meat = 0;
        bool first_in = false, last_in = false, all_df = true;
        std::vector<uint8_t> head;  // IPv4 header / IPv6 header + unfragmentable part
        size_t nh_at = 0;           // IPv6: where in head the fragment header was announced
        uint8_t frag_nh = 0;        // IPv6: the first fragment's fragment header's next header
        size_t mem = 0;
    };
    enum class Insert { ok, dup, overlap };

    static Insert insert(Queue& q, uint32_t offset, uint32_t end);
    Result kill(std::map<Key, Queue>::iterator it, uint64_t index, std::string_view why,
                std::string_view* reason_text);
    Result drop_one(uint64_t index, std::string_view why, std::string_view* reason_text);
    Result reassemble(std::map<Key, Queue>::iterator it, const Packet& p, Packet* out,
                      std::string_view* reason_text);
    size_t& mem_of(Family f) { return f == Family::ipv4 ? mem4_ : mem6_; }
    void release(std::map<Key, Queue>::iterator it);
    void collect(Nanos now, bool all);

    Nanos timeout4_, timeout6_;
    uint64_t high4_, high6_;
    std::map<Key, Queue> queues_;
    std::set<std::tuple<Nanos, uint64_t, Key>> timers_;  // (deadline, creation seq, queue)
    uint64_t next_seq_ = 0;
    size_t mem4_ = 0, mem6_ = 0;
    std::vector<uint64_t> members_, expired_;
    std::vector<uint8_t> datagram_;
    char reason_[96] = {};
};

}  // namespace fwsim
