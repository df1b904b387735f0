// Puller: fetches the hub's log from the device's cursor, page by page.
//
// Invariant: pages are applied in batches, each batch together with its last page's
// cursor in one transaction (LocalStore::ApplyPulledPages), so the cursor never runs
// ahead of, or behind, what the device holds. Pages are received on a thread of its own
// (the only user of the connection while Run() lasts), which asks for the next page as
// soon as one arrives, while the calling thread applies the batch before: the server
// reads and the device writes at the same time. While most of what it pulls is new to
// the device, the receiving thread also prepares the rows of each page's records
// (LocalStore::PreparePulledPage), so the applier mostly binds and writes. A connection
// lost mid-pull keeps every page received before the loss, and the next sync resumes
// after them. Progress callbacks run on the calling thread.
#pragma once

#include <chrono>
#include <cstdint>

#include "client/store/local_store.h"
#include "client/sync/connection.h"
#include "outreach/sync.h"

namespace outreach::client {

class Puller {
 public:
  Puller(LocalStore& store, SyncConnection& connection, std::chrono::milliseconds timeout, uint32_t page_size)
      : store_(store), connection_(connection), timeout_(timeout), page_size_(page_size) {}

  // Pulls until the server says there is no more. Updates report->pulled and progress.
  Status Run(SyncReport* report, SyncProgress* progress, const SyncProgressCallback& callback);

 private:
  LocalStore& store_;
  SyncConnection& connection_;
  const std::chrono::milliseconds timeout_;
  const uint32_t page_size_;
};

}  // namespace outreach::client
