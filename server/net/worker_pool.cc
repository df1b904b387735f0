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

void WorkerPool::Work() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !writes_.empty() || !reads_.empty(); });
      if (writes_.empty() && reads_.empty()) return;  // stopping, and nothing left to run
      const bool read_turn = !reads_.empty() && (writes_.empty() || writes_in_a_row_ >= kWritesPerRead);
      std::deque<std::function<void()>>& from = read_turn ? reads_ : writes_;
      task = std::move(from.front());
      from.pop_front();
      writes_in_a_row_ = read_turn || reads_.empty() ? 0 : writes_in_a_row_ + 1;
    }
    task();
  }
}

}  // namespace outreach::server
