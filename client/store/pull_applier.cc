// The pull applier (pull_applier.h) and LocalStore's methods that apply pulled pages.
#include "client/store/pull_applier.h"

#include <algorithm>
#include <array>
#include <map>
#include <mutex>

#include "client/store/erasure.h"
#include "client/store/outbox.h"
#include "client/store/sync_state.h"
#include "common/field_value.h"
#include "common/record_registry.h"

namespace outreach::client {

using google::protobuf::Message;

// ---------------------------------------------------------------- LocalStore

namespace {

// Whether `pages` change a Hub record (the enrolled hub's time zone may have changed).
bool ChangesAHub(const v1::ChangesPage* const* pages, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    for (const v1::Change& c : pages[i]->changes())
      if (c.type() == v1::RECORD_TYPE_HUB) return true;
  }
  return false;
}

}  // namespace

PreparedPage::~PreparedPage() = default;

Status LocalStore::ApplyPulledPage(const v1::ChangesPage& page) {
  std::lock_guard<std::mutex> lock(mu_);
  const v1::ChangesPage* one = &page;
  OUTREACH_RETURN_IF_ERROR(store::PulledBatch(*db_, clock_, hub_id_).Apply(&one, nullptr, 1, nullptr));
  return ChangesAHub(&one, 1) ? LoadHubTimeZone() : Status::Ok();
}

Status LocalStore::ApplyPulledPages(const std::vector<const v1::ChangesPage*>& pages) {
  std::lock_guard<std::mutex> lock(mu_);
  OUTREACH_RETURN_IF_ERROR(
      store::PulledBatch(*db_, clock_, hub_id_).Apply(pages.data(), nullptr, pages.size(), nullptr));
  return ChangesAHub(pages.data(), pages.size()) ? LoadHubTimeZone() : Status::Ok();
}

Status LocalStore::ApplyPulledPages(const std::vector<const v1::ChangesPage*>& pages,
                                    const std::vector<const PreparedPage*>& prepared, PulledBatchStats* stats) {
  if (prepared.size() != pages.size()) return Status::Internal("ApplyPulledPages: a preparation per page");
  // Every PreparedPage is made by PreparePulledPage (its constructor is protected).
  std::vector<const store::PreparedRecords*> records(prepared.size());
  for (size_t i = 0; i < prepared.size(); ++i) records[i] = static_cast<const store::PreparedRecords*>(prepared[i]);
  std::lock_guard<std::mutex> lock(mu_);
  OUTREACH_RETURN_IF_ERROR(
      store::PulledBatch(*db_, clock_, hub_id_).Apply(pages.data(), records.data(), pages.size(), stats));
  return ChangesAHub(pages.data(), pages.size()) ? LoadHubTimeZone() : Status::Ok();
}

std::unique_ptr<PreparedPage> LocalStore::PreparePulledPage(const v1::ChangesPage& page) {
  return store::PreparePage(page);
}

namespace store {
namespace {

// "SELECT id FROM record WHERE id IN (?,?,...)" with N marks, as a literal: the statement
// cache is keyed by its address. Marks a query leaves unbound are NULL and match nothing.
template <size_t N>
constexpr auto HeldIdsSql() {
  constexpr std::string_view head = "SELECT id FROM record WHERE id IN (";
  std::array<char, head.size() + 2 * N + 1> sql{};
  size_t at = 0;
  for (char c : head) sql[at++] = c;
  for (size_t k = 0; k < N; ++k) {
    if (k > 0) sql[at++] = ',';
    sql[at++] = '?';
  }
  sql[at++] = ')';
  sql[at] = '\0';
  return sql;
}
constexpr size_t kIdsPerQuery = 500;
constexpr size_t kFewIds = 16;  // a small sync's one query binds a short list
constexpr auto kHeldIdsSql = HeldIdsSql<kIdsPerQuery>();
constexpr auto kFewHeldIdsSql = HeldIdsSql<kFewIds>();

}  // namespace

std::unique_ptr<PreparedRecords> PreparePage(const v1::ChangesPage& page) {
  auto out = std::make_unique<PreparedRecords>();
  out->records.resize(static_cast<size_t>(page.changes_size()));
  // One body per record type, cleared for each change that uses it.
  std::map<int, std::unique_ptr<Message>> bodies;
  std::map<uint32_t, uint64_t> versions;
  std::string serialised;
  std::string participant;
  std::string occurred_on;
  std::string scratch;
  std::string& bytes = out->bytes;
  auto put = [&](ValueKind kind, std::string_view v) {
    PreparedRecords::Value value{kind, 0, static_cast<uint32_t>(bytes.size()), static_cast<uint32_t>(v.size())};
    bytes.append(v);
    return value;
  };
  for (int k = 0; k < page.changes_size(); ++k) {
    const v1::Change& change = page.changes(k);
    // Only an upsert of a known type can be prepared; anything else (and a change whose
    // values do not apply) takes the usual path, which reports what is wrong with it.
    if (change.op() != v1::CHANGE_OP_UPSERT || change.record_id().size() != Uuid::kSize) continue;
    std::unique_ptr<Message>& body = bodies[change.type()];
    if (body == nullptr) {
      body = NewRecordBody(change.type());
      if (body == nullptr) continue;
    } else {
      body->Clear();
    }
    versions.clear();
    bool applied = true;
    for (const v1::FieldValue& fv : change.fields()) {
      if (!ApplyField(body.get(), fv.field(), fv.value()).ok()) {
        applied = false;
        break;
      }
      versions[fv.field()] = change.hlc();
    }
    if (!applied) continue;
    PreparedRecords::Record& r = out->records[static_cast<size_t>(k)];
    serialised.clear();
    body->SerializeToString(&serialised);
    r.body = put(ValueKind::kBlob, serialised);
    r.versions = put(ValueKind::kBlob, EncodeVersions(versions));
    DeriveColumns(change.type(), change.record_id(), *body, &participant, &occurred_on);
    r.participant = participant.empty() ? PreparedRecords::Value{} : put(ValueKind::kBlob, participant);
    r.occurred_on = put(ValueKind::kText, occurred_on);
    Projection projection;
    ProjectionOf(change.type(), *body, /*live=*/true, change.record_id(), &scratch, &projection);
    r.projection_sql = projection.insert_sql();
    r.first_value = static_cast<uint32_t>(out->values.size());
    r.value_count = static_cast<uint32_t>(projection.count);
    for (int i = 0; i < projection.count; ++i) {
      const Projection::Value& v = projection.values[i];
      if (v.kind == ValueKind::kInt) {
        out->values.push_back({v.kind, v.number, 0, 0});
      } else if (v.kind == ValueKind::kNull) {
        out->values.push_back({});
      } else {
        out->values.push_back(put(v.kind, v.bytes));
      }
    }
    r.ready = true;
  }
  return out;
}

Status PulledBatch::Apply(const v1::ChangesPage* const* pages, const PreparedRecords* const* prepared, size_t count,
                          PulledBatchStats* stats) {
  if (count == 0) return Status::Ok();
  const uint64_t next_cursor = pages[count - 1]->next_cursor();
  size_t changes = 0;
  for (size_t i = 0; i < count; ++i) changes += static_cast<size_t>(pages[i]->changes_size());
  if (changes == 0) {
    // Nothing new and the cursor where it was (an idle sync): nothing to commit.
    Result<int64_t> cursor = StateInt(db_, "pull_cursor");
    if (!cursor.ok()) return cursor.status();
    if (static_cast<uint64_t>(*cursor) == next_cursor) return Status::Ok();
  }
  // Foreign keys are not checked while a batch applies (the pragma is a no-op inside a
  // transaction, so it is switched around it): the batch writes projections only for
  // records it has just written itself, in the same transaction, and deletes no record,
  // so every reference holds by construction. Checking them cost a parent-key lookup per
  // projection row. Deletes of records (a refused create, Wipe) run with the checks, and
  // their cascades, on.
  OUTREACH_RETURN_IF_ERROR(db_.Exec("PRAGMA foreign_keys=OFF"));
  struct ForeignKeysBackOn {
    sqlite::Database& db;
    ~ForeignKeysBackOn() { (void)db.Exec("PRAGMA foreign_keys=ON"); }
  } foreign_keys_back_on{db_};
  sqlite::Transaction txn(db_);
  OUTREACH_RETURN_IF_ERROR(txn.status());

  OUTREACH_RETURN_IF_ERROR(Index(pages, count, changes));
  for (size_t i = 0; i < count; ++i) {
    const PreparedRecords* page_prepared = prepared != nullptr ? prepared[i] : nullptr;
    for (int k = 0; k < pages[i]->changes_size(); ++k) OUTREACH_RETURN_IF_ERROR(Stage(*pages[i], k, page_prepared));
  }
  OUTREACH_RETURN_IF_ERROR(Write());
  // The server names only what it holds: restricted notes, records not yet pushed,
  // refused creates and conflicts about any of them are this device's to purge, in
  // the same transaction (after every row of the batch is written, prepared or not).
  const bool erased = !erased_ids_.empty();
  if (erased) OUTREACH_RETURN_IF_ERROR(PurgeParticipantTraces(db_, erased_participants_, erase_hlc_, &erased_ids_));
  if (stats != nullptr) {
    stats->records = staged_.size();
    stats->new_records = new_records_;
  }
  OUTREACH_RETURN_IF_ERROR(SetStateInt(db_, "pull_cursor", static_cast<int64_t>(next_cursor)));
  OUTREACH_RETURN_IF_ERROR(PersistClock(db_, clock_));
  OUTREACH_RETURN_IF_ERROR(txn.Commit());
  if (erased) return CheckpointAfterErasure(db_);
  return Status::Ok();
}

Status PulledBatch::Index(const v1::ChangesPage* const* pages, size_t count, size_t changes) {
  // Records with a local edit in the outbox: read once (the outbox does not change while
  // the mutex is held). A record not in it has no pending field, so most pulled records
  // (and every record a new device pulls) cost no outbox read.
  Result<std::set<std::string>> in_outbox = RecordsInOutbox(db_);
  if (!in_outbox.ok()) return in_outbox.status();
  in_outbox_ = std::move(in_outbox).value();

  index_.reserve(changes);
  for (size_t i = 0; i < count; ++i) {
    for (const v1::Change& change : pages[i]->changes()) {
      auto [at, first] = index_.try_emplace(change.record_id(), ids_.size());
      if (first) {
        ids_.push_back(&at->first);
        touches_.push_back(0);
      }
      ++touches_[at->second];
    }
  }
  OUTREACH_RETURN_IF_ERROR(FindHeld());
  staged_.resize(ids_.size());
  loaded_.assign(ids_.size(), false);
  return Status::Ok();
}

Status PulledBatch::FindHeld() {
  // Which of the batch's records the file holds: one query per 500 ids instead of a
  // row read per record, so a record this device has never seen costs no read at all.
  for (size_t from = 0; from < ids_.size(); from += kIdsPerQuery) {
    const size_t n = std::min(kIdsPerQuery, ids_.size() - from);
    Result<sqlite::Statement> s = db_.Prepare(n <= kFewIds ? kFewHeldIdsSql.data() : kHeldIdsSql.data());
    if (!s.ok()) return s.status();
    for (size_t k = 0; k < n; ++k) s->Blob(static_cast<int>(k + 1), *ids_[from + k]);
    int rc;
    while ((rc = s->Step()) == SQLITE_ROW) held_.insert(s->ColBlob(0));
    if (rc != SQLITE_DONE) return s->Error("cannot read records");
  }
  return Status::Ok();
}

Status PulledBatch::FirstTouch(const v1::ChangesPage& page, int k, const PreparedRecords* prepared, const Uuid& id,
                               Staged& st, bool* taken) {
  const v1::Change& change = page.changes(k);
  const size_t at = index_.find(change.record_id())->second;
  const bool is_held = held_.count(change.record_id()) != 0;
  if (!is_held && touches_[at] == 1 && prepared != nullptr &&
      prepared->records.size() == static_cast<size_t>(page.changes_size()) &&
      prepared->records[static_cast<size_t>(k)].ready && in_outbox_.count(change.record_id()) == 0) {
    // New to the file, nothing of it waiting in the outbox, and this is its only
    // change in the batch: its preparation is the row the usual path would write.
    st.page = prepared;
    st.ready = &prepared->records[static_cast<size_t>(k)];
    st.change = &change;
    st.row.id = id;
    st.row.type = change.type();
    st.hlc = change.hlc();
    if (Hlc(change.hlc()) > clock_.Last()) (void)clock_.Update(Hlc(change.hlc()));
    *taken = true;
    return Status::Ok();
  }
  *taken = false;
  if (is_held) {
    Result<Row> row = LoadRow(db_, id);
    if (!row.ok()) return row.status();
    st.row = std::move(row).value();
  }
  st.existed = st.row.exists;
  if (st.existed) st.held_projection = ProjectionFingerprint(st.row);
  if (!st.row.exists) {
    // A record this device has never held: no row, no field versions, and (unless
    // a refused create left an edit behind) nothing in the outbox.
    st.row.id = id;
    st.row.type = change.type();
    st.row.body = NewBody(st.row.type);
    st.row.created_hlc = change.hlc();
    st.row.hub_id = hub_id_;
  }
  if (in_outbox_.count(change.record_id()) != 0) {
    Result<std::set<uint32_t>> pending = PendingFields(db_, id);
    if (!pending.ok()) return pending.status();
    st.pending = std::move(pending).value();
  }
  return Status::Ok();
}

Status PulledBatch::Stage(const v1::ChangesPage& page, int k, const PreparedRecords* prepared) {
  const v1::Change& change = page.changes(k);
  Result<Uuid> id = Uuid::FromBytes(change.record_id());
  if (!id.ok()) {
    return Status::DataLoss("pulled change " + std::to_string(change.server_seq()) + " has no record id");
  }
  const size_t at = index_.find(change.record_id())->second;
  Staged& st = staged_[at];
  if (!loaded_[at]) {
    loaded_[at] = true;
    bool taken = false;
    OUTREACH_RETURN_IF_ERROR(FirstTouch(page, k, prepared, *id, st, &taken));
    if (taken) return Status::Ok();
  }
  Row& row = st.row;
  if (row.type != change.type()) {
    return Status::DataLoss("pulled change " + std::to_string(change.server_seq()) + " changes the type of record " +
                            id->ToString());
  }
  if (!change.hub_id().empty()) row.hub_id = change.hub_id();
  switch (change.op()) {
    case v1::CHANGE_OP_UPSERT:
      // Fields with a local edit still waiting in the outbox keep their local value.
      for (const v1::FieldValue& fv : change.fields()) {
        if (st.pending.count(fv.field()) != 0) continue;
        OUTREACH_RETURN_IF_ERROR(ApplyField(row.body.get(), fv.field(), fv.value()));
        row.versions[fv.field()] = change.hlc();
      }
      break;
    case v1::CHANGE_OP_DELETE: row.deleted = true; break;
    case v1::CHANGE_OP_ERASE:
      // As PurgeRecord (the row is written with the others below); a participant's
      // records the server did not name go after the batch is written.
      ClearForErasure(row);
      OUTREACH_RETURN_IF_ERROR(ForgetLocalTraces(db_, *id));
      erased_ids_.insert(change.record_id());
      if (change.type() == v1::RECORD_TYPE_PARTICIPANT) erased_participants_.push_back(*id);
      erase_hlc_ = std::max<uint64_t>(erase_hlc_, change.hlc());
      break;
    default:
      return Status::DataLoss("pulled change " + std::to_string(change.server_seq()) + " has an unknown operation");
  }
  st.hlc = change.hlc();
  // Skew refusals are ignored: the server already accepted the stamp.
  if (Hlc(change.hlc()) > clock_.Last()) (void)clock_.Update(Hlc(change.hlc()));
  return Status::Ok();
}

Status PulledBatch::Write() {
  for (Staged& st : staged_) {
    if (!st.existed) ++new_records_;
    if (st.ready != nullptr) {
      OUTREACH_RETURN_IF_ERROR(PutPrepared(st));
      continue;
    }
    // A new row keeps the stamp of its first change as its creation stamp.
    st.row.exists = true;
    OUTREACH_RETURN_IF_ERROR(PutRow(db_, st.row, st.hlc, /*had_projections=*/st.existed,
                                    st.held_projection ? &*st.held_projection : nullptr));
  }
  return Status::Ok();
}

Status PulledBatch::PutPrepared(const Staged& st) {
  const PreparedRecords& page = *st.page;
  const PreparedRecords::Record& ready = *st.ready;
  const std::string& hub = st.change->hub_id().empty() ? hub_id_ : st.change->hub_id();
  const std::string_view participant =
      ready.participant.kind == ValueKind::kBlob ? page.View(ready.participant) : std::string_view();
  OUTREACH_RETURN_IF_ERROR(WriteWholeRow(db_, st.row.id, st.row.type, hub, /*deleted=*/false, /*erased=*/false,
                                         page.View(ready.body), participant, page.View(ready.occurred_on), st.hlc,
                                         st.hlc, page.View(ready.versions)));
  if (ready.projection_sql == nullptr) return Status::Ok();
  Result<sqlite::Statement> s = db_.Prepare(ready.projection_sql);
  if (!s.ok()) return s.status();
  for (uint32_t i = 0; i < ready.value_count; ++i) {
    const PreparedRecords::Value& v = page.values[ready.first_value + i];
    BindValue(*s, static_cast<int>(i) + 1, v.kind, v.number, page.View(v));
  }
  return s->Run("cannot write projection");
}

}  // namespace store
}  // namespace outreach::client
