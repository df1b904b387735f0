#include "client/sync/puller.h"

#include <google/protobuf/arena.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "client/sync/refusal.h"

namespace outreach::client {

namespace {

// Pages applied together in one transaction: a batch ends once it holds this many
// pages or changes (or the log ends). Bounds how long the store is held per commit
// (about a tenth of a second here), the memory of the pages waiting (a few MB), and
// what a connection lost on a slow link with small pages costs (nothing received is
// lost: see Run).
constexpr size_t kBatchPages = 8;
constexpr uint64_t kBatchChanges = 8000;
// Pages the receiver may hold ahead of the applier: the next batch, filling while one
// is applied. Beyond that it waits (its next request is already sent).
constexpr size_t kMaxWaitingPages = kBatchPages;

// A page as received: parsed onto an arena of its own, so its thousands of small
// objects are allocated in a few blocks and freed at once when the page is applied.
// With it, when the applier asks for them, the rows its changes would make as records
// new to the device (LocalStore::PreparePulledPage), made here rather than on the
// applier's thread.
struct ReceivedPage {
  std::unique_ptr<google::protobuf::Arena> arena;
  const v1::ChangesPage* page = nullptr;   // on `arena`
  std::unique_ptr<PreparedPage> prepared;  // null: not prepared
};

// The pages between the receiver (network) and the applier (store), in log order.
// Guarded by mu; the receiver appends and finishes, the applier takes and may stop it.
struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<ReceivedPage> pages;
  uint64_t changes = 0;         // in `pages`
  bool finished = false;        // the receiver is done: end of log, or `why`
  Status why;                   // what ended the pull early (ok at the end of the log)
  bool applier_failed = false;  // the applier gave up: the receiver stops
  // Whether the receiver prepares pages: while most records pulled are new to the
  // device (a new device, or one far behind), so that preparing pays; set by the
  // applier after each batch.
  std::atomic<bool> prepare{false};
};

// The network side of a pull: asks for a page, and asks for the next one as soon as a
// page arrives, so the server reads page n+1 while the device writes page n. Runs on a
// thread of its own; the only user of the connection until Run() joins it.
void Receive(SyncConnection& connection, std::chrono::milliseconds timeout, uint32_t page_size, uint64_t cursor,
             Inbox& inbox) {
  auto request = [&](uint64_t from) {
    v1::Envelope pull;
    pull.mutable_pull()->set_cursor(from);
    pull.mutable_pull()->set_page_size(page_size);
    return connection.Send(pull, timeout);
  };
  auto finish = [&](Status why) {
    std::lock_guard<std::mutex> lock(inbox.mu);
    inbox.finished = true;
    inbox.why = std::move(why);
    inbox.cv.notify_all();
  };
  Status sent = request(cursor);
  if (!sent.ok()) return finish(sent);
  google::protobuf::ArenaOptions options;
  options.start_block_size = 64 * 1024;  // a page of 1,000 changes takes a few hundred KB
  options.max_block_size = 1024 * 1024;
  while (true) {
    ReceivedPage received{std::make_unique<google::protobuf::Arena>(options), nullptr, nullptr};
    auto* reply = google::protobuf::Arena::CreateMessage<v1::Envelope>(received.arena.get());
    Status got = connection.Receive(reply, timeout);
    if (!got.ok()) return finish(got);
    if (reply->has_refusal()) return finish(RefusalStatus(reply->refusal()));
    if (!reply->has_changes_page()) {
      return finish(Status::ProtocolError("server answered a Pull with something other than ChangesPage"));
    }
    const v1::ChangesPage& page = reply->changes_page();
    received.page = &page;
    if (page.next_cursor() < cursor) return finish(Status::ProtocolError("server moved the cursor backwards"));
    const bool more = page.more();
    const bool advanced = page.next_cursor() != cursor;
    cursor = page.next_cursor();
    if (more && advanced) {
      Status next = request(cursor);
      if (!next.ok()) return finish(next);
    }
    // While the server reads the next page.
    if (inbox.prepare.load(std::memory_order_relaxed)) received.prepared = LocalStore::PreparePulledPage(page);
    {
      std::unique_lock<std::mutex> lock(inbox.mu);
      inbox.cv.wait(lock, [&] { return inbox.applier_failed || inbox.pages.size() < kMaxWaitingPages; });
      if (inbox.applier_failed) return;
      inbox.changes += static_cast<uint64_t>(page.changes_size());
      inbox.pages.push_back(std::move(received));
      inbox.cv.notify_all();
    }
    if (!more) return finish(Status::Ok());
    if (!advanced) return finish(Status::ProtocolError("server said more but did not advance the cursor"));
  }
}

}  // namespace

Status Puller::Run(SyncReport* report, SyncProgress* progress, const SyncProgressCallback& callback) {
  Result<uint64_t> start = store_.PullCursor();
  if (!start.ok()) return start.status();

  Inbox inbox;
  // A device that has pulled nothing yet holds none of what it pulls.
  inbox.prepare.store(*start == 0, std::memory_order_relaxed);
  std::thread receiver(Receive, std::ref(connection_), timeout_, page_size_, *start, std::ref(inbox));
  // However the applier leaves, the receiver is stopped (if still going) and joined.
  struct StopAndJoin {
    Inbox& inbox;
    std::thread& receiver;
    ~StopAndJoin() {
      {
        std::lock_guard<std::mutex> lock(inbox.mu);
        inbox.applier_failed = !inbox.finished;
        inbox.cv.notify_all();
      }
      receiver.join();
    }
  } stop_and_join{inbox, receiver};

  // The applier (this thread): a batch at a time, in log order. Pages received before a
  // failure are applied before it is reported, so the next sync resumes after them.
  while (true) {
    std::vector<ReceivedPage> batch;
    std::vector<const v1::ChangesPage*> in_order;
    std::vector<const PreparedPage*> prepared;
    uint64_t batched = 0;
    bool finished = false;
    Status why;
    {
      std::unique_lock<std::mutex> lock(inbox.mu);
      inbox.cv.wait(
          lock, [&] { return inbox.finished || inbox.pages.size() >= kBatchPages || inbox.changes >= kBatchChanges; });
      while (!inbox.pages.empty() && batch.size() < kBatchPages && batched < kBatchChanges) {
        const uint64_t changes = static_cast<uint64_t>(inbox.pages.front().page->changes_size());
        batched += changes;
        inbox.changes -= changes;
        in_order.push_back(inbox.pages.front().page);
        prepared.push_back(inbox.pages.front().prepared.get());
        batch.push_back(std::move(inbox.pages.front()));
        inbox.pages.pop_front();
      }
      finished = inbox.finished && inbox.pages.empty();
      if (finished) why = inbox.why;
      inbox.cv.notify_all();
    }
    if (!batch.empty()) {
      PulledBatchStats stats;
      OUTREACH_RETURN_IF_ERROR(store_.ApplyPulledPages(in_order, prepared, &stats));
      inbox.prepare.store(stats.new_records * 2 > stats.records, std::memory_order_relaxed);
      report->pulled += batched;
      progress->pulled = report->pulled;
      if (callback) callback(*progress);
    }
    if (finished) return why;
  }
}

}  // namespace outreach::client
