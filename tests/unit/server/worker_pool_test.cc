// The worker pool of outreach-server's sessions: writes (enrol, hello, push) before pull
// pages, FIFO within each, and pulls never starved by a stream of writes.
#include "server/net/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <vector>

namespace outreach::server {
namespace {

// One worker, held busy until released, so the order of the queued tasks is the pool's.
class WorkerPoolTest : public ::testing::Test {
 protected:
  void Hold() {
    auto started = std::make_shared<std::promise<void>>();
    pool_.Post(WorkerPool::Priority::kWrite, [this, started] {
      started->set_value();
      release_.get_future().wait();
    });
    started->get_future().wait();
  }
  void Queue(WorkerPool::Priority priority, std::string name) {
    pool_.Post(priority, [this, name] {
      std::lock_guard<std::mutex> lock(mu_);
      order_.push_back(name);
    });
  }
  std::vector<std::string> RunAll() {
    release_.set_value();
    pool_.Join();
    return order_;
  }

  WorkerPool pool_{1};
  std::promise<void> release_;
  std::mutex mu_;
  std::vector<std::string> order_;
};

TEST_F(WorkerPoolTest, WritesRunBeforeReadsAndEachKindInOrder) {
  Hold();
  Queue(WorkerPool::Priority::kRead, "pull 1");
  Queue(WorkerPool::Priority::kRead, "pull 2");
  Queue(WorkerPool::Priority::kWrite, "push 1");
  Queue(WorkerPool::Priority::kWrite, "push 2");
  EXPECT_EQ(RunAll(), (std::vector<std::string>{"push 1", "push 2", "pull 1", "pull 2"}));
}

TEST_F(WorkerPoolTest, AStreamOfWritesLetsAWaitingReadThrough) {
  Hold();
  Queue(WorkerPool::Priority::kRead, "pull");
  const int writes = WorkerPool::kWritesPerRead + 2;
  for (int i = 0; i < writes; ++i) Queue(WorkerPool::Priority::kWrite, "push " + std::to_string(i));
  std::vector<std::string> expected;
  for (int i = 0; i < WorkerPool::kWritesPerRead; ++i) expected.push_back("push " + std::to_string(i));
  expected.push_back("pull");
  for (int i = WorkerPool::kWritesPerRead; i < writes; ++i) expected.push_back("push " + std::to_string(i));
  EXPECT_EQ(RunAll(), expected);
}

// A read waits while a write runs, though a worker is free: the store's one writer keeps
// the CPU during a burst of pushes. It runs as soon as the write is done.
TEST(WorkerPool, AReadWaitsWhileAWriteRunsThenRuns) {
  WorkerPool pool(2);
  std::promise<void> started, release, read_ran;
  pool.Post(WorkerPool::Priority::kWrite, [&] {
    started.set_value();
    release.get_future().wait();
  });
  started.get_future().wait();
  pool.Post(WorkerPool::Priority::kRead, [&] { read_ran.set_value(); });
  std::future<void> read = read_ran.get_future();
  EXPECT_EQ(read.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  release.set_value();
  EXPECT_EQ(read.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  pool.Join();
}

TEST(WorkerPool, JoinRunsEveryQueuedTaskOnEveryThread) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool(3);
    for (int i = 0; i < 100; ++i) {
      pool.Post(i % 2 ? WorkerPool::Priority::kRead : WorkerPool::Priority::kWrite, [&ran] { ++ran; });
    }
    pool.Join();
    EXPECT_EQ(ran.load(), 100);
  }
  EXPECT_EQ(ran.load(), 100);
}

}  // namespace
}  // namespace outreach::server
