#include "client/sync/puller.h"

#include "client/sync/refusal.h"

namespace outreach::client {

Status Puller::Run(SyncReport* report, SyncProgress* progress, const SyncProgressCallback& callback) {
  while (true) {
    Result<uint64_t> cursor = store_.PullCursor();
    if (!cursor.ok()) return cursor.status();
    v1::Envelope request;
    request.mutable_pull()->set_cursor(*cursor);
    request.mutable_pull()->set_page_size(page_size_);
    OUTREACH_RETURN_IF_ERROR(connection_.Send(request, timeout_));

    v1::Envelope reply;
    OUTREACH_RETURN_IF_ERROR(connection_.Receive(&reply, timeout_));
    if (reply.has_refusal()) return RefusalStatus(reply.refusal());
    if (!reply.has_changes_page()) {
      return Status::ProtocolError("server answered a Pull with something other than ChangesPage");
    }
    const v1::ChangesPage& page = reply.changes_page();
    if (page.next_cursor() < *cursor) return Status::ProtocolError("server moved the cursor backwards");
    OUTREACH_RETURN_IF_ERROR(store_.ApplyPulledPage(page));
    report->pulled += static_cast<uint64_t>(page.changes_size());
    progress->pulled = report->pulled;
    if (callback) callback(*progress);
    if (!page.more()) return Status::Ok();
    if (page.next_cursor() == *cursor) return Status::ProtocolError("server said more but did not advance the cursor");
  }
}

}  // namespace outreach::client
