// RecordPipe: an EngineObserver that hands the engine's records to a thread
// of their own, where they reach the real observer (the output sinks) in the
// order they were made. With --threads >= 2, the JSON formatting and writing
// (verdicts, flows, stats) then run beside the engine instead of after each
// packet. Records go over in chunks; each record owns copies of what the
// sinks read of it (the packet and its error text when verdicts are written,
// its bytes when they are written to a capture), so the engine may reuse its
// buffers at once. The outputs are
// byte-identical to calling the observer directly: every kind of record
// keeps its order, and the sinks write each kind to its own file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fwsim/engine/records.hpp"
#include "io/handoff.hpp"

namespace fwsim {

class RecordPipe final : public EngineObserver {
public:
    // What the downstream observer reads of a packet record: the fields the
    // summary counts (Tally; the record's `pkt` is null on the other side),
    // the whole record and the decoded packet (--verdicts), or also the
    // packet's bytes (--write-pcap).
    enum class Copy { record, packet, frame };
    RecordPipe(EngineObserver& downstream, Copy copy);
    ~RecordPipe();  // stops the thread (records not yet delivered are dropped)
    RecordPipe(const RecordPipe&) = delete;
    RecordPipe& operator=(const RecordPipe&) = delete;

    void on_packet(const PacketRecord& r) override;
    void on_flow(const FlowRecord& f) override;
    void on_stats(const TableStats& s) override;

    // Delivers everything queued and stops the thread; the downstream
    // observer may then be used from the calling thread again.
    void drain();

private:
    static constexpr size_t kChunkPackets = 1024;
    static constexpr size_t kChunks = 4;
    struct Item {
        PacketRecord rec;
        Packet pkt;
        std::string error;             // the record's error text when it is not in pkt.error
        std::vector<uint8_t> frame;    // the packet's bytes, with copy_frames
    };
    // Copy::record: what the summary counts read of a packet record (a
    // PacketRecord is ~230 bytes, most of them NAT and log fields).
    struct Tally {
        uint32_t rule, chain;
        Verdict verdict;
        Reason reason;
        CtState ct_state;
        bool has_ct;
    };
    struct Chunk {
        Chunk() {
            packets.reserve(kChunkPackets);  // never reallocated: items point into themselves
            tallies.reserve(kChunkPackets);
        }
        std::vector<Item> packets;     // reused: capacities survive, no allocation in steady state
        std::vector<Tally> tallies;    // instead of packets with Copy::record
        size_t n_packets = 0;
        std::vector<FlowRecord> flows;
        std::vector<TableStats> stats;
        bool empty() const { return n_packets == 0 && tallies.empty() && flows.empty() && stats.empty(); }
        void clear() {
            n_packets = 0;
            tallies.clear();
            flows.clear();
            stats.clear();
        }
    };
    void send();  // hands the current chunk over, takes a free one
    void run();   // the writer thread

    EngineObserver& down_;
    Copy copy_;
    Handoff<Chunk> chunks_{kChunks + 1};
    std::unique_ptr<Chunk> cur_;  // being filled by the engine thread
    std::thread writer_;
};

}  // namespace fwsim
