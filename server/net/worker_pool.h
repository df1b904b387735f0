// WorkerPool: the threads that run blocking SyncService calls for the sessions, with
// writes served before reads.
//
// Two FIFO queues: kWrite (enrolment, hello, push: what a device waits on before it
// can drop its outbox) and kRead (pull pages). A free worker takes the oldest write
// first; a read runs when no write waits AND none is running, or after kWritesPerRead
// writes started in a row while reads wait, so a stream of pushes slows pulls down but
// never stops them. Holding reads while a write runs keeps the CPU for the store's one
// writer during a burst of pushes (which group-commit while other workers wait: the
// running writes are all queued at the store, none in this pool), and the pages served
// after it are full ones instead of many small pages of a log still growing. Within each
// queue the order is FIFO, so one device's long sync (many batches or pages, one
// request at a time) takes turns with everyone else's. Pushes serialise on the store's
// one writer anyway; served first, they are not kept waiting behind pull pages (found by
// the bench dayend scenario: pulls answered beside pushes kept the devices applying
// pages on the same cores while the last pushes queued).
//
// Thread-safety: Post() from any thread. Join() once, from a thread that is not a worker.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace outreach::server {

class WorkerPool {
 public:
  enum class Priority { kWrite, kRead };
  static constexpr int kWritesPerRead = 8;

  explicit WorkerPool(size_t threads);
  ~WorkerPool();  // Join()s if not joined yet
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task` (any callable, move-only ones included) to run on a worker.
  template <typename F>
  void Post(Priority priority, F task) {
    auto shared = std::make_shared<F>(std::move(task));
    Enqueue(priority, [shared] { (*shared)(); });
  }

  // Runs every task queued (and any they queue) to the end, then stops the threads.
  void Join();

 private:
  void Enqueue(Priority priority, std::function<void()> task);
  void Work();
  // A read may start now (see the file comment). Called with mu_ held.
  bool ReadAllowed() const;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> writes_;  // guarded by mu_
  std::deque<std::function<void()>> reads_;   // guarded by mu_
  int writes_in_a_row_ = 0;                   // started while reads wait; guarded by mu_
  int writes_running_ = 0;                    // guarded by mu_
  bool stopping_ = false;                     // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace outreach::server
