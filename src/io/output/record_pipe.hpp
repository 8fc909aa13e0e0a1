// RecordPipe: an EngineObserver that hands the engine's records to a thread
// of their own, where they reach the real observer (the output sinks) in the
// order they were made. With --threads >= 2 and per-packet outputs, the JSON
// formatting and writing then run beside the engine instead of after each
// packet. Records go over in chunks; each record owns copies of what it
// points at (the packet, its error text, its bytes when they are written to
// a capture), so the engine may reuse its buffers at once. The outputs are
// byte-identical to calling the observer directly: every kind of record
// keeps its order, and the sinks write each kind to its own file.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fwsim/engine/records.hpp"

namespace fwsim {

class RecordPipe final : public EngineObserver {
public:
    // copy_frames: the downstream observer reads the packet bytes (--write-pcap).
    RecordPipe(EngineObserver& downstream, bool copy_frames);
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
    struct Chunk {
        Chunk() { packets.reserve(kChunkPackets); }  // never reallocated: items point into themselves
        std::vector<Item> packets;     // reused: capacities survive, no allocation in steady state
        size_t n_packets = 0;
        std::vector<FlowRecord> flows;
        std::vector<TableStats> stats;
        bool empty() const { return n_packets == 0 && flows.empty() && stats.empty(); }
        void clear() {
            n_packets = 0;
            flows.clear();
            stats.clear();
        }
    };
    void send();  // hands the current chunk over, takes a free one
    void run();   // the writer thread
    std::unique_ptr<Chunk> pop(std::deque<std::unique_ptr<Chunk>>& q);
    void push(std::deque<std::unique_ptr<Chunk>>& q, std::unique_ptr<Chunk> c);

    EngineObserver& down_;
    bool copy_frames_;
    std::unique_ptr<Chunk> cur_;
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::unique_ptr<Chunk>> free_, full_;
    bool closing_ = false;  // no more chunks will come: the writer ends when full_ is empty
    bool stopped_ = false;  // give up at once (destructor)
    std::thread writer_;
};

}  // namespace fwsim
