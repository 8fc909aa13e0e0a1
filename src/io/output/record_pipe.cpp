#include "io/output/record_pipe.hpp"

namespace fwsim {

RecordPipe::RecordPipe(EngineObserver& downstream, bool copy_frames)
    : down_(downstream), copy_frames_(copy_frames) {
    for (size_t i = 0; i < kChunks; ++i) free_.push_back(std::make_unique<Chunk>());
    cur_ = std::make_unique<Chunk>();
    writer_ = std::thread([this] { run(); });
}

RecordPipe::~RecordPipe() {
    {
        std::lock_guard<std::mutex> g(m_);
        stopped_ = true;
        cv_.notify_all();
    }
    if (writer_.joinable()) writer_.join();
}

void RecordPipe::on_packet(const PacketRecord& r) {
    Chunk& c = *cur_;
    if (c.n_packets == c.packets.size()) c.packets.emplace_back();
    Item& it = c.packets[c.n_packets++];
    it.pkt = *r.pkt;
    it.rec = r;
    it.rec.pkt = &it.pkt;
    if (r.error.empty() || r.error.data() == r.pkt->error) {
        it.rec.error = std::string_view(it.pkt.error, r.error.size());
    } else {
        it.error.assign(r.error);
        it.rec.error = it.error;
    }
    if (copy_frames_) {
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
    push(full_, std::move(cur_));
    cur_ = pop(free_);
    if (!cur_) cur_ = std::make_unique<Chunk>();  // stopped: keep accepting, deliver nothing
    cur_->clear();
}

void RecordPipe::drain() {
    if (!writer_.joinable()) return;
    if (!cur_->empty()) push(full_, std::move(cur_));
    {
        std::lock_guard<std::mutex> g(m_);
        closing_ = true;
        cv_.notify_all();
    }
    writer_.join();
    cur_ = std::make_unique<Chunk>();
}

void RecordPipe::run() {
    for (;;) {
        std::unique_ptr<Chunk> c = pop(full_);
        if (!c) return;
        // Each kind keeps its order; the sinks write each kind to its own file.
        for (size_t i = 0; i < c->n_packets; ++i) down_.on_packet(c->packets[i].rec);
        for (const FlowRecord& f : c->flows) down_.on_flow(f);
        for (const TableStats& s : c->stats) down_.on_stats(s);
        c->clear();
        push(free_, std::move(c));
    }
}

std::unique_ptr<RecordPipe::Chunk> RecordPipe::pop(std::deque<std::unique_ptr<Chunk>>& q) {
    std::unique_lock<std::mutex> g(m_);
    // The writer (popping full_) ends once closing and nothing is left.
    const bool writer = &q == &full_;
    cv_.wait(g, [&] { return stopped_ || !q.empty() || (writer && closing_); });
    if (stopped_ || q.empty()) return nullptr;
    auto c = std::move(q.front());
    q.pop_front();
    return c;
}

void RecordPipe::push(std::deque<std::unique_ptr<Chunk>>& q, std::unique_ptr<Chunk> c) {
    std::lock_guard<std::mutex> g(m_);
    q.push_back(std::move(c));
    cv_.notify_all();
}

}  // namespace fwsim
