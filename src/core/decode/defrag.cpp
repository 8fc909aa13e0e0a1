// Fragment reassembly; see defrag.hpp for the kernel functions it mirrors.
#include "fwsim/decode/defrag.hpp"

#include <algorithm>
#include <cstdio>

#include "decode_util.hpp"
#include "fwsim/checksum.hpp"
#include "fwsim/decode/decoder.hpp"

namespace fwsim {

using namespace decode_detail;

Defragmenter::Defragmenter(const Config& cfg)
    : timeout4_(Nanos(cfg.frag_timeout) * kSecond),
      timeout6_(Nanos(cfg.frag6_timeout) * kSecond),
      high4_(cfg.frag_high_thresh),
      high6_(cfg.frag6_high_thresh) {}

// inet_frag_queue_insert(): a fragment past the tail is appended (overlapping
// the tail is an overlap); otherwise one that lies wholly inside an existing
// run is a duplicate (dropped, queue kept) and any other intersection is an
// overlap (RFC 5722: the whole queue goes).
Defragmenter::Insert Defragmenter::insert(Queue& q, uint32_t offset, uint32_t end) {
    if (q.frags.empty()) {
        q.runs.push_back({offset, end - offset});
        return Insert::ok;
    }
    const Frag& last = q.frags.back();  // fragments_tail: the highest offset
    if (last.end < end) {
        if (offset < last.end) return Insert::overlap;
        if (offset == last.end)
            q.runs.back().len += end - offset;  // fragrun_append_to_last()
        else
            q.runs.push_back({offset, end - offset});
        return Insert::ok;
    }
    for (const Run& r : q.runs) {
        if (end <= r.offset || offset >= r.offset + r.len) continue;
        return offset >= r.offset && end <= r.offset + r.len ? Insert::dup : Insert::overlap;
    }
    auto pos = std::lower_bound(q.runs.begin(), q.runs.end(), offset,
                                [](const Run& r, uint32_t o) { return r.offset < o; });
    q.runs.insert(pos, {offset, end - offset});
    return Insert::ok;
}

void Defragmenter::release(std::map<Key, Queue>::iterator it) {
    mem_of(it->first.family) -= it->second.mem;
    timers_.erase({it->second.deadline, it->second.seq, it->first});
    queues_.erase(it);
}

Defragmenter::Result Defragmenter::drop_one(uint64_t index, std::string_view why,
                                            std::string_view* reason_text) {
    members_.assign(1, index);
    if (reason_text) *reason_text = why;
    return Result::dropped;
}

// inet_frag_kill(): the queue and every fragment in it are discarded, p too.
Defragmenter::Result Defragmenter::kill(std::map<Key, Queue>::iterator it, uint64_t index,
                                        std::string_view why, std::string_view* reason_text) {
    members_ = it->second.members;
    if (std::find(members_.begin(), members_.end(), index) == members_.end())
        members_.push_back(index);
    std::sort(members_.begin(), members_.end());
    release(it);
    if (reason_text) *reason_text = why;
    return Result::dropped;
}

Defragmenter::Result Defragmenter::add(const Packet& p, Packet* out, std::string_view* reason_text) {
    members_.clear();
    if (!p.ok() || !p.is_fragment || p.family == Family::none)
        return drop_one(p.index, "not a fragment", reason_text);
    if (size_t(p.l3_offset) + p.ip_len > p.frame.size())
        return drop_one(p.index, "fragment cut by the capture's snaplen", reason_text);
    const bool v4 = p.family == Family::ipv4;
    const uint8_t* ip = p.frame.data() + p.l3_offset;

    size_t data_start = p.ip_hdr_len, head_len = p.ip_hdr_len, nh_at = 0;
    uint8_t frag_nh = 0;
    if (!v4) {
        ExtChain c;
        if (!walk_ipv6_ext({ip, p.ip_len}, ip[6], 40, false, &c) || c.frag_hdr == 0)
            return drop_one(p.index, "ipv6: fragment header not found", reason_text);
        head_len = c.frag_hdr;
        data_start = c.frag_hdr + 8;
        nh_at = c.frag_nh_at;
        frag_nh = ip[c.frag_hdr];
    }
    const uint32_t offset = p.frag_offset;
    uint32_t end = offset + uint32_t(p.ip_len - data_start);

    // nf_ct_frag6_queue(): "offset is too large" (IPv4 finds out at reassembly).
    if (!v4 && end > 65535) {
        std::snprintf(reason_, sizeof reason_, "fragment ends at %u > 65535", end);
        return drop_one(p.index, reason_, reason_text);
    }
    // inet_frag_find(): above high_thresh no fragment is queued at all.
    const uint64_t high = v4 ? high4_ : high6_;
    if (high == 0 || mem_of(p.family) > high)
        return drop_one(p.index, "fragment memory above high_thresh", reason_text);

    const Key key{p.family, v4 ? p.l4proto : uint8_t(0), p.frag_id, p.src, p.dst};
    auto it = queues_.find(key);
    if (it == queues_.end()) {
        Queue q;
        q.seq = next_seq_++;
        q.deadline = p.ts + (v4 ? timeout4_ : timeout6_);  // armed once, by the first fragment
        timers_.emplace(q.deadline, q.seq, key);
        it = queues_.emplace(key, std::move(q)).first;
    }
    Queue& q = it->second;

    // Length consistency, as ip_frag_queue() (IPv4: "goto discard_qp", the
    // queue dies) and nf_ct_frag6_queue() (IPv6: "goto err", only this
    // fragment is dropped, except a misaligned end which kills the queue).
    auto refuse = [&](std::string_view why) {
        return v4 ? kill(it, p.index, why, reason_text) : drop_one(p.index, why, reason_text);
    };
    if (!p.more_frags) {
        if (end < q.len || (q.last_in && end != q.len))
            return refuse("last fragment's end disagrees with the datagram");
        q.last_in = true;
        q.len = end;
    } else {
        if (end & 7) {
            if (!v4) return kill(it, p.index, "fragment length not a multiple of 8", reason_text);
            end &= ~7u;  // IPv4 trims the odd tail bytes
        }
        if (end > q.len) {
            if (q.last_in) return refuse("fragment beyond the last fragment's end");
            q.len = end;
        }
    }
    if (end == offset) return refuse("empty fragment");

    switch (insert(q, offset, end)) {
        case Insert::dup:
            return drop_one(p.index, "duplicate fragment", reason_text);
        case Insert::overlap:
            return kill(it, p.index, "overlapping fragment", reason_text);
        case Insert::ok:
            break;
    }
    Frag f{offset, end, std::vector<uint8_t>(ip + data_start, ip + data_start + (end - offset))};
    auto pos = std::lower_bound(q.frags.begin(), q.frags.end(), offset,
                                [](const Frag& a, uint32_t o) { return a.offset < o; });
    q.frags.insert(pos, std::move(f));
    q.meat += end - offset;
    q.mem += p.ip_len;
    mem_of(p.family) += p.ip_len;
    q.members.push_back(p.index);
    if (v4 && !p.dont_frag) q.all_df = false;
    if (offset == 0) {
        q.first_in = true;
        q.head.assign(ip, ip + head_len);
        q.nh_at = nh_at;
        q.frag_nh = frag_nh;
    }
    if (q.first_in && q.last_in && q.meat == q.len) return reassemble(it, p, out, reason_text);
    return Result::held;
}

// ip_frag_reasm() / nf_ct_frag6_reasm(): the first fragment's header (IPv6:
// its unfragmentable part, the fragment header removed) + all the data.
Defragmenter::Result Defragmenter::reassemble(std::map<Key, Queue>::iterator it, const Packet& p,
                                              Packet* out, std::string_view* reason_text) {
    Queue& q = it->second;
    const bool v4 = it->first.family == Family::ipv4;
    const size_t total = q.head.size() + q.len;
    const size_t limit_len = v4 ? total : total - 40;  // IPv4 total length / IPv6 payload length
    if (limit_len > 65535) {
        std::snprintf(reason_, sizeof reason_, "reassembled datagram %zu bytes > 65535", limit_len);
        return kill(it, p.index, reason_, reason_text);
    }
    datagram_.assign(q.head.begin(), q.head.end());
    for (const Frag& f : q.frags) datagram_.insert(datagram_.end(), f.data.begin(), f.data.end());
    uint8_t* h = datagram_.data();
    if (v4) {
        h[2] = uint8_t(total >> 8);
        h[3] = uint8_t(total);
        h[6] = q.all_df ? 0x40 : 0;  // ip_frag_reasm() keeps DF only if the fragments had it
        h[7] = 0;
        h[10] = h[11] = 0;
        const uint16_t sum = csum_fold(csum_partial({h, q.head.size()}));
        h[10] = uint8_t(sum >> 8);
        h[11] = uint8_t(sum);
    } else {
        const size_t plen = total - 40;
        h[4] = uint8_t(plen >> 8);
        h[5] = uint8_t(plen);
        h[q.nh_at] = q.frag_nh;
    }
    members_ = q.members;
    std::sort(members_.begin(), members_.end());
    release(it);

    *out = Packet{};
    out->index = p.index;
    out->ts = p.ts;
    out->capture_if = p.capture_if;
    out->wire_len = out->cap_len = uint32_t(datagram_.size());
    decode_ip(datagram_, *out);
    if (reason_text) *reason_text = {};
    return Result::complete;
}

void Defragmenter::collect(Nanos now, bool all) {
    expired_.clear();
    while (!timers_.empty()) {
        const auto& [deadline, seq, key] = *timers_.begin();
        if (!all && deadline > now) break;
        const auto it = queues_.find(key);
        std::vector<uint64_t>& m = it->second.members;
        std::sort(m.begin(), m.end());
        expired_.insert(expired_.end(), m.begin(), m.end());
        release(it);  // erases the timer too
    }
}

}  // namespace fwsim
