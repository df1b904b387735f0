#include "server/net/worker_pool.h"

#include <algorithm>

namespace outreach::server {

WorkerPool::WorkerPool(size_t threads) {
  for (size_t i = 0; i < std::max<size_t>(1, threads); ++i) threads_.emplace_back([this] { Work(); });
}

WorkerPool::~WorkerPool() {
  Join();
}

void WorkerPool::Enqueue(Priority priority, std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    (priority == Priority::kWrite ? writes_ : reads_).push_back(std::move(task));
  }
  cv_.notify_one();
}

void WorkerPool::Join() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

bool WorkerPool::ReadAllowed() const {
  if (reads_.empty()) return false;
  return (writes_.empty() && writes_running_ == 0) || writes_in_a_row_ >= kWritesPerRead;
}

void WorkerPool::Work() {
  for (;;) {
    std::function<void()> task;
    bool read_turn = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return !writes_.empty() || ReadAllowed() || (stopping_ && reads_.empty()); });
      if (writes_.empty() && reads_.empty()) return;  // stopping, and nothing left to run
      read_turn = ReadAllowed();
      if (read_turn) {
        task = std::move(reads_.front());
        reads_.pop_front();
        writes_in_a_row_ = 0;
      } else {
        task = std::move(writes_.front());
        writes_.pop_front();
        ++writes_running_;
        writes_in_a_row_ = reads_.empty() ? 0 : writes_in_a_row_ + 1;
        // A read held back by this stream of writes may now go, on another worker.
        if (writes_in_a_row_ >= kWritesPerRead && !reads_.empty()) cv_.notify_one();
      }
    }
    task();
    if (!read_turn) {
      std::lock_guard<std::mutex> lock(mu_);
      // The last write done: reads held back behind it may go.
      if (--writes_running_ == 0 && !reads_.empty()) cv_.notify_all();
    }
  }
}

}  // namespace outreach::server
