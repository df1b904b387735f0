// LocalStore's reads for the app: records by id, type, participant, caseload, name,
// reference, NI number, venue and day, session; the timeline, last seen, overdue plans;
// the rejected changes and the change log. Each finds record ids (most through a
// projection, projections.h) and then loads the records (record_row.h), in the query's
// order.
#include <algorithm>
#include <mutex>

#include "client/store/local_store.h"
#include "client/store/outbox.h"
#include "client/store/projections.h"
#include "client/store/record_row.h"

namespace outreach::client {

namespace {

using store::LoadRow;
using store::Row;

// Steps `query` to its end, collecting `read(row)` of every row (`read` returns
// std::optional<T>; nullopt skips the row). The statement is reset before returning,
// so records can be loaded from the ids after.
template <typename T, typename Read>
Result<std::vector<T>> Collect(Result<sqlite::Statement> query, const char* what, Read read) {
  if (!query.ok()) return query.status();
  sqlite::Statement s = std::move(query).value();
  std::vector<T> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    std::optional<T> item = read(static_cast<const sqlite::Statement&>(s));
    if (item.has_value()) out.push_back(std::move(*item));
  }
  if (rc != SQLITE_DONE) return s.Error(what);
  return out;
}

// The records of the ids (column 0) `query` finds, in its order; `keep(row)` may leave
// rows out. A record no longer held is skipped.
template <typename Keep>
Result<std::vector<v1::Record>> LoadRecords(sqlite::Database& db, Result<sqlite::Statement> query, const char* what,
                                            Keep keep) {
  Result<std::vector<Uuid>> ids = Collect<Uuid>(std::move(query), what, [&](const sqlite::Statement& s) {
    return keep(s) ? std::optional<Uuid>(s.ColId(0)) : std::nullopt;
  });
  if (!ids.ok()) return ids.status();
  std::vector<v1::Record> out;
  out.reserve(ids->size());
  for (const Uuid& id : *ids) {
    Result<Row> row = LoadRow(db, id);
    if (!row.ok()) return row.status();
    if (row->exists) out.push_back(row->ToRecord());
  }
  return out;
}

Result<std::vector<v1::Record>> LoadRecords(sqlite::Database& db, Result<sqlite::Statement> query, const char* what) {
  return LoadRecords(db, std::move(query), what, [](const sqlite::Statement&) { return true; });
}

// The records of the (id, date) rows `query` finds, with their dates, in its order.
Result<std::vector<DatedRecord>> LoadDated(sqlite::Database& db, Result<sqlite::Statement> query, const char* what) {
  using Hit = std::pair<Uuid, std::string>;
  Result<std::vector<Hit>> hits = Collect<Hit>(std::move(query), what, [](const sqlite::Statement& s) {
    return std::optional<Hit>(Hit(s.ColId(0), s.ColText(1)));
  });
  if (!hits.ok()) return hits.status();
  std::vector<DatedRecord> out;
  out.reserve(hits->size());
  for (const auto& [id, on] : *hits) {
    Result<Row> row = LoadRow(db, id);
    if (!row.ok()) return row.status();
    out.push_back({row->ToRecord(), on});
  }
  return out;
}

}  // namespace

Result<std::optional<v1::Record>> LocalStore::Get(const Uuid& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<Row> row = LoadRow(*db_, id);
  if (!row.ok()) return row.status();
  if (!row->exists) return std::optional<v1::Record>();
  return std::optional<v1::Record>(row->ToRecord());
}

Result<std::vector<v1::Record>> LocalStore::ParticipantRecords(const Uuid& participant_id, v1::RecordType type) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<sqlite::Statement> s = db_->Prepare(
      "SELECT id FROM record WHERE participant_id = ? AND type = ? AND deleted = 0 ORDER BY created_hlc, id");
  if (s.ok()) s->Id(1, participant_id).Int(2, type);
  return LoadRecords(*db_, std::move(s), "cannot query records");
}

Result<std::vector<DatedRecord>> LocalStore::Timeline(const Uuid& participant_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<sqlite::Statement> s = db_->Prepare(
      "SELECT id, occurred_on FROM record WHERE participant_id = ? AND deleted = 0 ORDER BY occurred_on, "
      "created_hlc, id");
  if (s.ok()) s->Id(1, participant_id);
  return LoadDated(*db_, std::move(s), "cannot query timeline");
}

Result<std::vector<v1::Record>> LocalStore::RecordsOfType(v1::RecordType type, bool include_deleted) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<sqlite::Statement> s = db_->Prepare("SELECT id FROM record WHERE type = ? AND (deleted = 0 OR ?) ORDER BY id");
  if (s.ok()) s->Int(1, type).Int(2, include_deleted ? 1 : 0);
  return LoadRecords(*db_, std::move(s), "cannot query records");
}

Result<std::vector<v1::Record>> LocalStore::AllRecords() {
  std::lock_guard<std::mutex> lock(mu_);
  return LoadRecords(*db_, db_->Prepare("SELECT id FROM record ORDER BY type, id"), "cannot query records");
}

Result<std::vector<v1::Record>> LocalStore::ParticipantsHeldBy(const std::string& adviser) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<sqlite::Statement> s = db_->Prepare(
      "SELECT id FROM participant_p WHERE adviser = ? AND status = 1 ORDER BY family_name, given_name, id");
  if (s.ok()) s->Text(1, adviser);
  return LoadRecords(*db_, std::move(s), "cannot query caseload");
}

Result<std::vector<v1::Record>> LocalStore::FindParticipantsByName(const std::string& text) {
  std::vector<std::string> words;
  {
    std::string key = store::NameKey(text);
    size_t start = 0;
    while (start < key.size()) {
      size_t end = key.find(' ', start);
      if (end == std::string::npos) end = key.size();
      words.push_back(key.substr(start, end - start));
      start = end + 1;
    }
  }
  if (words.empty()) return std::vector<v1::Record>();
  std::lock_guard<std::mutex> lock(mu_);
  Result<sqlite::Statement> s = db_->Prepare(
      "SELECT id, name_key FROM participant_p WHERE instr(name_key, ?) > 0 ORDER BY family_name, given_name, id");
  if (s.ok()) s->Text(1, words[0]);
  return LoadRecords(*db_, std::move(s), "cannot find participants", [&](const sqlite::Statement& row) {
    const std::string_view key = row.ColView(1);
    return std::all_of(words.begin(), words.end(), [&](const std::string& w) { return key.find(w) != key.npos; });
  });
}

Result<std::optional<v1::Record>> LocalStore::FindParticipantByReference(const std::string& canonical_reference) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<sqlite::Statement> s = db_->Prepare("SELECT id FROM participant_p WHERE reference = ? ORDER BY id LIMIT 1");
  if (s.ok()) s->Text(1, canonical_reference);
  Result<std::vector<v1::Record>> found = LoadRecords(*db_, std::move(s), "cannot find participant");
  if (!found.ok()) return found.status();
  if (found->empty()) return std::optional<v1::Record>();
  return std::optional<v1::Record>(std::move(found->front()));
}

Result<std::vector<v1::Record>> LocalStore::ParticipantsWithNiNumber(const std::string& ni, const Uuid& except) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<sqlite::Statement> s =
      db_->Prepare("SELECT id FROM participant_p WHERE ni_number = ? AND id <> ? ORDER BY id");
  if (s.ok()) s->Text(1, ni).Id(2, except);
  return LoadRecords(*db_, std::move(s), "cannot find participants");
}

Result<std::vector<v1::Record>> LocalStore::SessionsAt(const Uuid& venue_id, const std::string& day) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<sqlite::Statement> s =
      db_->Prepare("SELECT id FROM session_p WHERE venue_id = ? AND day = ? ORDER BY starts_at, id");
  if (s.ok()) s->Id(1, venue_id).Text(2, day);
  return LoadRecords(*db_, std::move(s), "cannot query sessions");
}

Result<std::vector<v1::Record>> LocalStore::BookingsOf(const Uuid& session_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<sqlite::Statement> s = db_->Prepare("SELECT id FROM booking_p WHERE session_id = ? ORDER BY id");
  if (s.ok()) s->Id(1, session_id);
  return LoadRecords(*db_, std::move(s), "cannot query bookings");
}

Result<std::vector<v1::Record>> LocalStore::AttendanceOf(const Uuid& session_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<sqlite::Statement> s = db_->Prepare("SELECT id FROM attendance_p WHERE session_id = ? ORDER BY id");
  if (s.ok()) s->Id(1, session_id);
  return LoadRecords(*db_, std::move(s), "cannot query attendance");
}

Result<std::vector<DatedRecord>> LocalStore::LastSeen() {
  std::lock_guard<std::mutex> lock(mu_);
  // attendance_p.seen_on has no index (a mark's write stays cheap): the report groups the
  // marks once, as a whole caseload report would.
  return LoadDated(
      *db_,
      db_->Prepare("SELECT p.id, max(p.registered_on, coalesce((SELECT max(day) FROM seen_p WHERE participant_id = "
                   "p.id), ''), coalesce(a.day, '')) FROM participant_p p LEFT JOIN (SELECT participant_id, "
                   "max(seen_on) AS day FROM attendance_p WHERE seen_on IS NOT NULL GROUP BY participant_id) a ON "
                   "a.participant_id = p.id WHERE p.status = 1 ORDER BY 2, p.family_name, p.given_name, p.id"),
      "cannot query last seen");
}

Result<std::vector<OverdueItem>> LocalStore::OverduePlans(const std::string& today,
                                                          const std::string& month_before_today) {
  std::lock_guard<std::mutex> lock(mu_);
  struct Hit {
    Uuid plan, step;
    std::string reason, date;
  };
  Result<sqlite::Statement> s = db_->Prepare(
      "SELECT id, x'', 'not_agreed_within_one_month', started_on FROM action_plan_p WHERE status = 1 AND "
      "started_on <> '' AND started_on <= ?1 "
      "UNION ALL SELECT id, x'', 'review_overdue', review_on FROM action_plan_p WHERE status = 2 AND review_on <> '' "
      "AND review_on < ?2 "
      "UNION ALL SELECT p.id, s.id, 'step_overdue', s.due_on FROM action_step_p s JOIN action_plan_p p ON p.id = "
      "s.plan_id WHERE p.status <> 3 AND s.status = 1 AND s.due_on <> '' AND s.due_on < ?2 "
      "ORDER BY 4, 1, 2");
  if (s.ok()) s->Text(1, month_before_today).Text(2, today);
  Result<std::vector<Hit>> hits =
      Collect<Hit>(std::move(s), "cannot query overdue plans", [](const sqlite::Statement& r) {
        return std::optional<Hit>(Hit{r.ColId(0), r.ColId(1), r.ColText(2), r.ColText(3)});
      });
  if (!hits.ok()) return hits.status();
  std::vector<OverdueItem> out;
  for (const Hit& h : *hits) {
    OverdueItem item;
    Result<Row> plan = LoadRow(*db_, h.plan);
    if (!plan.ok()) return plan.status();
    item.plan = plan->ToRecord();
    if (!h.step.is_nil()) {
      Result<Row> step = LoadRow(*db_, h.step);
      if (!step.ok()) return step.status();
      item.step = step->ToRecord();
    }
    item.reason = h.reason;
    item.date = h.date;
    out.push_back(std::move(item));
  }
  return out;
}

Result<std::vector<RejectedChange>> LocalStore::RejectedChanges() {
  std::lock_guard<std::mutex> lock(mu_);
  return Collect<RejectedChange>(
      db_->Prepare("SELECT device_seq, record_id, type, reason, field FROM rejected_change ORDER BY device_seq"),
      "cannot read rejected changes", [](const sqlite::Statement& s) {
        RejectedChange r;
        r.device_seq = static_cast<uint64_t>(s.ColInt(0));
        r.record_id = s.ColId(1);
        r.type = static_cast<v1::RecordType>(s.ColInt(2));
        r.reason = s.ColText(3);
        r.field = s.ColText(4);
        return std::optional<RejectedChange>(std::move(r));
      });
}

Result<std::vector<v1::Change>> LocalStore::ChangeLog() {
  std::lock_guard<std::mutex> lock(mu_);
  Result<sqlite::Statement> s = db_->Prepare("SELECT change FROM change_log ORDER BY local_seq");
  if (!s.ok()) return s.status();
  return store::LoadChanges(*s, "a change log entry");
}

}  // namespace outreach::client
