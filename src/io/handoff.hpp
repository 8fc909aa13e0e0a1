// Handoff<T>: a bounded hand-over of reusable buffers between two threads.
// The producer takes a free buffer, fills it and gives it full; the consumer
// takes it full, empties it and gives it back. `depth` buffers circulate, so
// the faster side waits for the slower one and memory stays bounded; the
// buffers keep their capacity, so nothing is allocated in steady state.
// Used by the replay's reader thread (decoded batches, src/cli/common.cpp)
// and writer thread (output records, io/output/record_pipe.hpp).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>

namespace fwsim {

template <class T>
class Handoff {
public:
    explicit Handoff(size_t depth) {
        for (size_t i = 0; i < depth; ++i) free_.push_back(std::make_unique<T>());
    }

    // Waits for a free buffer; nullptr once stopped.
    std::unique_ptr<T> take_free() { return pop(free_, false); }
    void give_full(std::unique_ptr<T> b) { push(full_, std::move(b)); }
    // Waits for a full buffer; nullptr once stopped, or once closed and
    // every full buffer was taken.
    std::unique_ptr<T> take_full() { return pop(full_, true); }
    void give_free(std::unique_ptr<T> b) { push(free_, std::move(b)); }

    // No more full buffers will come: the consumer drains what is there.
    void close() { set(closed_); }
    // Give up at once: every take returns nullptr from now on.
    void stop() { set(stopped_); }

private:
    std::unique_ptr<T> pop(std::deque<std::unique_ptr<T>>& q, bool ends_when_closed) {
        std::unique_lock<std::mutex> g(m_);
        cv_.wait(g, [&] { return stopped_ || !q.empty() || (ends_when_closed && closed_); });
        if (stopped_ || q.empty()) return nullptr;
        auto b = std::move(q.front());
        q.pop_front();
        return b;
    }
    void push(std::deque<std::unique_ptr<T>>& q, std::unique_ptr<T> b) {
        std::lock_guard<std::mutex> g(m_);
        q.push_back(std::move(b));
        cv_.notify_all();
    }
    void set(bool& flag) {
        std::lock_guard<std::mutex> g(m_);
        flag = true;
        cv_.notify_all();
    }

    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::unique_ptr<T>> free_, full_;
    bool closed_ = false, stopped_ = false;
};

}  // namespace fwsim
