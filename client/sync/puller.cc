#include "client/sync/puller.h"

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

}  // namespace

Status Puller::Run(SyncReport* report, SyncProgress* progress, const SyncProgressCallback& callback) {
  Result<uint64_t> start = store_.PullCursor();
  if (!start.ok()) return start.status();
  uint64_t cursor = *start;
  auto request = [&](uint64_t from) {
    v1::Envelope pull;
    pull.mutable_pull()->set_cursor(from);
    pull.mutable_pull()->set_page_size(page_size_);
    return connection_.Send(pull, timeout_);
  };

  // Pages received and not yet applied, in log order; applied with the last one's
  // cursor in one transaction (LocalStore::ApplyPulledPages).
  std::vector<v1::ChangesPage> batch;
  uint64_t batched = 0;
  auto apply = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    OUTREACH_RETURN_IF_ERROR(store_.ApplyPulledPages(batch));
    report->pulled += batched;
    progress->pulled = report->pulled;
    batch.clear();
    batched = 0;
    if (callback) callback(*progress);
    return Status::Ok();
  };
  // A failure keeps what was received before it: those pages are applied, so the next
  // sync resumes after them.
  auto fail = [&](Status why) {
    Status applied = apply();
    return applied.ok() ? why : applied;
  };

  OUTREACH_RETURN_IF_ERROR(request(cursor));
  while (true) {
    v1::Envelope reply;
    Status received = connection_.Receive(&reply, timeout_);
    if (!received.ok()) return fail(received);
    if (reply.has_refusal()) return fail(RefusalStatus(reply.refusal()));
    if (!reply.has_changes_page()) {
      return fail(Status::ProtocolError("server answered a Pull with something other than ChangesPage"));
    }
    v1::ChangesPage& page = *reply.mutable_changes_page();
    if (page.next_cursor() < cursor) return fail(Status::ProtocolError("server moved the cursor backwards"));
    const bool more = page.more();
    const bool advanced = page.next_cursor() != cursor;
    cursor = page.next_cursor();
    // The next page is asked for before this one is applied: the server reads it while
    // the device writes.
    if (more && advanced) {
      Status sent = request(cursor);
      if (!sent.ok()) return fail(sent);
    }
    batched += static_cast<uint64_t>(page.changes_size());
    batch.push_back(std::move(page));
    if (!more || !advanced || batch.size() >= kBatchPages || batched >= kBatchChanges) {
      OUTREACH_RETURN_IF_ERROR(apply());
    }
    if (!more) return Status::Ok();
    if (!advanced) return Status::ProtocolError("server said more but did not advance the cursor");
  }
}

}  // namespace outreach::client
