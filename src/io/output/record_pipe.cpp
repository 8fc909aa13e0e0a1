#include "io/output/record_pipe.hpp"

namespace fwsim {

RecordPipe::RecordPipe(EngineObserver& downstream, Copy copy)
    : down_(downstream), copy_(copy), cur_(chunks_.take_free()) {
    writer_ = std::thread([this] { run(); });
}

RecordPipe::~RecordPipe() {
    chunks_.stop();
    if (writer_.joinable()) writer_.join();
}

void RecordPipe::on_packet(const PacketRecord& r) {
    Chunk& c = *cur_;
    if (copy_ == Copy::record) {  // the summary counts read a few fields, not the packet
        c.tallies.push_back({r.rule, r.chain, r.verdict, r.reason, r.ct_state, r.has_ct});
        if (c.tallies.size() >= kChunkPackets) send();
        return;
    }
    if (c.n_packets == c.packets.size()) c.packets.emplace_back();
    Item& it = c.packets[c.n_packets++];
    it.rec = r;
    it.pkt = *r.pkt;
    it.rec.pkt = &it.pkt;
    if (r.error.empty() || r.error.data() == r.pkt->error) {
        it.rec.error = std::string_view(it.pkt.error, r.error.size());
    } else {
        it.error.assign(r.error);
        it.rec.error = it.error;
    }
    if (copy_ == Copy::frame) {
        it.frame.assign(r.pkt->frame.begin(), r.pkt->frame.end());
        it.pkt.frame = it.frame;
    } else {
        it.pkt.frame = {};
    }
    if (c.n_packets >= kChunkPackets) send();
}

// Flows come in bursts (every entry left at the end of the capture): a chunk
// holds at most kChunkPackets of them too, so memory stays bounded.
void RecordPipe::on_flow(const FlowRecord& f) {
    cur_->flows.push_back(f);
    if (cur_->flows.size() >= kChunkPackets) send();
}

void RecordPipe::on_stats(const TableStats& s) {
    cur_->stats.push_back(s);
    if (cur_->stats.size() >= kChunkPackets) send();
}

void RecordPipe::send() {
    chunks_.give_full(std::move(cur_));
    cur_ = chunks_.take_free();
    if (!cur_) cur_ = std::make_unique<Chunk>();  // stopped: keep accepting, deliver nothing
    cur_->clear();
}

void RecordPipe::drain() {
    if (!writer_.joinable()) return;
    if (!cur_->empty()) chunks_.give_full(std::move(cur_));
    chunks_.close();
    writer_.join();
    cur_ = std::make_unique<Chunk>();
}

void RecordPipe::run() {
    for (;;) {
        std::unique_ptr<Chunk> c = chunks_.take_full();
        if (!c) return;
        // Each kind keeps its order; the sinks write each kind to its own file.
        for (size_t i = 0; i < c->n_packets; ++i) down_.on_packet(c->packets[i].rec);
        for (const Tally& t : c->tallies) {
            PacketRecord r;  // pkt stays null: nothing downstream reads the packet
            r.rule = t.rule;
            r.chain = t.chain;
            r.verdict = t.verdict;
            r.reason = t.reason;
            r.ct_state = t.ct_state;
            r.has_ct = t.has_ct;
            down_.on_packet(r);
        }
        for (const FlowRecord& f : c->flows) down_.on_flow(f);
        for (const TableStats& s : c->stats) down_.on_stats(s);
        c->clear();
        chunks_.give_free(std::move(c));
    }
}

}  // namespace fwsim
