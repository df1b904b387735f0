// Pusher: sends the outbox to the server in batches and records each acknowledgement.
//
// Invariant: an outbox entry leaves the outbox only inside the transaction that stores
// the server's PushAck for it (LocalStore::AcknowledgeChanges). A connection lost while
// a batch is in flight leaves that batch, and only that batch, to be sent again; the
// server answers a re-sent change DUPLICATE, so nothing is applied twice.
#pragma once

#include <chrono>
#include <cstdint>

#include "client/store/local_store.h"
#include "client/sync/connection.h"
#include "outreach/sync.h"

namespace outreach::client {

class Pusher {
 public:
  Pusher(LocalStore& store, SyncConnection& connection, std::chrono::milliseconds timeout, uint32_t batch_size)
      : store_(store), connection_(connection), timeout_(timeout), batch_size_(batch_size) {}

  // Pushes until the outbox is empty. Updates `report` (pushed, conflicts, rejected) and
  // `progress` (pushed) as each batch is acknowledged.
  Status Run(SyncReport* report, SyncProgress* progress, const SyncProgressCallback& callback);

 private:
  LocalStore& store_;
  SyncConnection& connection_;
  const std::chrono::milliseconds timeout_;
  const uint32_t batch_size_;
};

}  // namespace outreach::client
