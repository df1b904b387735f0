// The outbox (outbox.h) and LocalStore's methods that commit local edits and take the
// server's acknowledgements.
#include "client/store/outbox.h"

#include <algorithm>
#include <cstdint>
#include <mutex>

#include "client/store/erasure.h"
#include "client/store/record_row.h"
#include "client/store/sync_state.h"
#include "common/field_value.h"
#include "common/record_registry.h"
#include "common/reference.h"

namespace outreach::client {

using google::protobuf::Message;

// ---------------------------------------------------------------- LocalStore

Result<std::vector<v1::Record>> LocalStore::Commit(const std::vector<RecordEdit>& edits) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Transaction txn(*db_);
  OUTREACH_RETURN_IF_ERROR(txn.status());
  Result<std::vector<v1::Record>> out = store::CommitEdits(*db_, edits, {device_id_, hub_id_, author_}, clock_);
  if (!out.ok()) return out;
  OUTREACH_RETURN_IF_ERROR(txn.Commit());
  for (const RecordEdit& edit : edits) {
    if (edit.op == v1::CHANGE_OP_ERASE) {
      OUTREACH_RETURN_IF_ERROR(store::CheckpointAfterErasure(*db_));
      break;
    }
  }
  return out;
}

Result<std::vector<v1::Record>> LocalStore::CommitNewParticipant(std::vector<RecordEdit> edits) {
  std::lock_guard<std::mutex> lock(mu_);
  if (edits.empty() || edits[0].record.type() != v1::RECORD_TYPE_PARTICIPANT) {
    return Status::Internal("CommitNewParticipant needs a participant first");
  }
  sqlite::Transaction txn(*db_);
  OUTREACH_RETURN_IF_ERROR(txn.status());
  Result<std::string> reference = store::MintReference(*db_);
  if (!reference.ok()) return reference.status();
  edits[0].record.mutable_participant()->set_reference(*reference);
  Result<std::vector<v1::Record>> out = store::CommitEdits(*db_, edits, {device_id_, hub_id_, author_}, clock_);
  if (!out.ok()) return out;
  OUTREACH_RETURN_IF_ERROR(txn.Commit());
  return out;
}

Result<std::vector<v1::Change>> LocalStore::PendingChanges(size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  return store::Queued(*db_, limit);
}

Result<uint64_t> LocalStore::PendingCount() {
  std::lock_guard<std::mutex> lock(mu_);
  return store::QueuedCount(*db_);
}

Status LocalStore::AcknowledgeChanges(const v1::PushAck& ack) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Transaction txn(*db_);
  OUTREACH_RETURN_IF_ERROR(txn.status());
  OUTREACH_RETURN_IF_ERROR(store::Acknowledge(*db_, ack, clock_));
  return txn.Commit();
}

namespace store {
namespace {

bool IsRestrictedNote(int type, const Message& body) {
  if (type != v1::RECORD_TYPE_CASE_NOTE) return false;
  return static_cast<const v1::CaseNote&>(body).sensitivity() == v1::NOTE_SENSITIVITY_RESTRICTED;
}

// The fields of `result.current` back into `row` (see LocalStore::AcknowledgeChanges).
Status RestoreServerValues(sqlite::Database& db, Row row, const v1::ChangeResult& result) {
  const Uuid id = row.id;
  Result<std::set<uint32_t>> pending = PendingFields(db, id);
  if (!pending.ok()) return pending.status();
  uint64_t newest = 0;
  for (const v1::FieldValue& fv : result.current()) {
    if (pending->count(fv.field()) != 0) continue;
    OUTREACH_RETURN_IF_ERROR(ApplyField(row.body.get(), fv.field(), fv.value()));
    row.versions[fv.field()] = fv.base_version();
    newest = std::max<uint64_t>(newest, fv.base_version());
  }
  return PutRow(db, row, newest);
}

// Undoes on this device what the server refused (see LocalStore::AcknowledgeChanges):
// fields back to the server's values, a refused create removed, a refused delete revoked.
Status UndoRefusedChange(sqlite::Database& db, const v1::ChangeResult& result) {
  Uuid id;
  int op = 0;
  uint64_t hlc = 0;
  {
    Result<sqlite::Statement> s = db.Prepare("SELECT record_id, op, hlc FROM change_log WHERE device_seq = ?");
    if (!s.ok()) return s.status();
    s->Int(1, static_cast<int64_t>(result.device_seq()));
    if (s->Step() != SQLITE_ROW) return Status::Ok();
    Result<Uuid> parsed = Uuid::FromBytes(s->ColView(0));
    if (!parsed.ok()) return Status::DataLoss("a change-log record id does not decode");
    id = *parsed;
    op = static_cast<int>(s->ColInt(1));
    hlc = static_cast<uint64_t>(s->ColInt(2));
  }
  Result<Row> loaded = LoadRow(db, id);
  if (!loaded.ok()) return loaded.status();
  Row row = std::move(loaded).value();
  if (!row.exists) return Status::Ok();
  if (result.current_size() > 0) return RestoreServerValues(db, std::move(row), result);
  if (op == v1::CHANGE_OP_UPSERT && row.created_hlc == hlc) {
    // The refused change created the record here (its creation stamp is the change's),
    // and the server sent no value of it back: no one else holds the record, so
    // neither does this device. Its field versions and projections go with it (ON
    // DELETE CASCADE); the change-log row and the rejected-change entry stay, so the
    // app can say what was refused and why. A later local edit of the record still in
    // the outbox is pushed as usual and decided on its own.
    Result<sqlite::Statement> s = db.Prepare("DELETE FROM record WHERE id = ?");
    if (!s.ok()) return s.status();
    s->Id(1, id);
    return s->Run("cannot remove refused record");
  }
  if (op == v1::CHANGE_OP_DELETE && row.deleted && row.updated_hlc == hlc) {
    // The refused delete is the last thing that happened to the record here (a pulled
    // delete would have stamped it since): the record is live again, as on the server.
    row.deleted = false;
    return PutRow(db, row, hlc);
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<v1::Record>> CommitEdits(sqlite::Database& db, const std::vector<RecordEdit>& edits,
                                            const Writer& writer, HybridClock& clock) {
  std::vector<v1::Record> out;
  int64_t next_seq = 0;
  {
    Result<sqlite::Statement> s = db.Prepare("SELECT coalesce(max(device_seq), 0) FROM change_log");
    if (!s.ok()) return s.status();
    if (s->Step() != SQLITE_ROW) return s->Error("cannot read device sequence");
    next_seq = s->ColInt(0) + 1;
  }
  for (const RecordEdit& edit : edits) {
    Result<Uuid> id = Uuid::FromBytes(edit.record.id());
    if (!id.ok()) return Status::Internal("edit without a record id");
    Result<Row> loaded = LoadRow(db, *id);
    if (!loaded.ok()) return loaded.status();
    Row row = std::move(loaded).value();
    const int type = edit.record.type();
    if (row.exists && row.type != type) return Status::Internal("edit changes the type of record " + id->ToString());
    std::unique_ptr<Message> after = NewBody(type);
    if (const Message* given = RecordBody(edit.record)) after->CopyFrom(*given);

    std::vector<v1::FieldValue> fields;
    if (edit.op == v1::CHANGE_OP_UPSERT) {
      fields = row.exists ? DiffFields(*row.body, *after) : AllFields(*after);
      if (row.exists && fields.empty()) {  // nothing changed: nothing to log
        out.push_back(row.ToRecord());
        continue;
      }
    } else if (edit.op == v1::CHANGE_OP_DELETE) {
      if (!row.exists) return Status::Internal("delete of a record not held");
      if (row.deleted) {
        out.push_back(row.ToRecord());
        continue;
      }
    } else if (edit.op == v1::CHANGE_OP_ERASE) {
      if (!row.exists || type != v1::RECORD_TYPE_PARTICIPANT) {
        return Status::Internal("erasure applies to a participant held on this device");
      }
      if (row.erased) {
        out.push_back(row.ToRecord());
        continue;
      }
    } else {
      return Status::Internal("local edits are upserts, deletes or erasures");
    }

    const Hlc hlc = clock.Now();
    v1::Change change;
    change.set_record_id(id->raw());
    change.set_type(static_cast<v1::RecordType>(type));
    change.set_hlc(hlc.value());
    change.set_op(edit.op);
    change.set_hub_id(row.exists ? row.hub_id : writer.hub_id);
    for (v1::FieldValue& fv : fields) {
      auto held = row.versions.find(fv.field());
      if (held != row.versions.end()) fv.set_base_version(held->second);
      row.versions[fv.field()] = hlc.value();  // the version this edit makes
      *change.add_fields() = std::move(fv);
    }
    const bool outbound = !IsRestrictedNote(type, *after);
    if (outbound) change.set_device_seq(static_cast<uint64_t>(next_seq));

    if (!row.exists) {
      row.type = type;
      row.hub_id = writer.hub_id;
    }
    if (edit.op == v1::CHANGE_OP_ERASE) {
      // The participant, then everything of it this device holds; the ERASE itself
      // is logged and queued below, after its pending edits have left the outbox.
      OUTREACH_RETURN_IF_ERROR(PurgeRecord(db, row, hlc.value()));
      std::set<std::string> purged = {id->raw()};
      OUTREACH_RETURN_IF_ERROR(PurgeParticipantTraces(db, {*id}, hlc.value(), &purged));
    } else {
      if (edit.op == v1::CHANGE_OP_DELETE) {
        row.deleted = true;
      } else {
        row.body = std::move(after);
      }
      OUTREACH_RETURN_IF_ERROR(PutRow(db, row, hlc.value()));
    }
    row.exists = true;
    std::string change_bytes;
    change.SerializeToString(&change_bytes);
    {
      Result<sqlite::Statement> s = db.Prepare(
          "INSERT INTO change_log(device_seq, record_id, type, hlc, op, author, device_id, change) VALUES (?, ?, ?, "
          "?, ?, ?, ?, ?)");
      if (!s.ok()) return s.status();
      if (outbound) {
        s->Int(1, next_seq);
      } else {
        s->Null(1);
      }
      s->Id(2, *id).Int(3, type).Int(4, static_cast<int64_t>(hlc.value())).Int(5, edit.op);
      s->Text(6, writer.author).Id(7, writer.device_id).Blob(8, change_bytes);
      OUTREACH_RETURN_IF_ERROR(s->Run("cannot write change log"));
    }
    if (outbound) {
      Result<sqlite::Statement> s = db.Prepare("INSERT INTO outbox(device_seq, record_id) VALUES (?, ?)");
      if (!s.ok()) return s.status();
      s->Int(1, next_seq).Id(2, *id);
      OUTREACH_RETURN_IF_ERROR(s->Run("cannot write outbox"));
      ++next_seq;
    }
    out.push_back(row.ToRecord());
  }
  OUTREACH_RETURN_IF_ERROR(PersistClock(db, clock));
  return out;
}

Result<std::string> MintReference(sqlite::Database& db) {
  Result<int64_t> counter = StateInt(db, "reference_counter");
  if (!counter.ok()) return counter.status();
  std::string prefix;
  {
    Result<sqlite::Statement> s = db.Prepare("SELECT value FROM sync_state WHERE key = 'reference_prefix'");
    if (!s.ok()) return s.status();
    if (s->Step() != SQLITE_ROW) return s->Error("cannot read reference prefix");
    prefix = s->ColText(0);
  }
  Result<std::string> reference = ReferenceNumber::Format(prefix, static_cast<uint64_t>(*counter) + 1);
  if (!reference.ok()) return reference.status();
  OUTREACH_RETURN_IF_ERROR(SetStateInt(db, "reference_counter", *counter + 1));
  return reference;
}

Status Acknowledge(sqlite::Database& db, const v1::PushAck& ack, HybridClock& clock) {
  for (const v1::ChangeResult& r : ack.results()) {
    if (r.outcome() == v1::CHANGE_OUTCOME_UNSPECIFIED) {
      return Status::ProtocolError("acknowledgement of change " + std::to_string(r.device_seq()) + " has no outcome");
    }
    {
      Result<sqlite::Statement> s = db.Prepare("DELETE FROM outbox WHERE device_seq = ?");
      if (!s.ok()) return s.status();
      s->Int(1, static_cast<int64_t>(r.device_seq()));
      OUTREACH_RETURN_IF_ERROR(s->Run("cannot update outbox"));
    }
    if (db.changes() == 0) continue;  // not pending (an ack seen before): nothing to do
    {
      Result<sqlite::Statement> s = db.Prepare("UPDATE change_log SET outcome = ? WHERE device_seq = ?");
      if (!s.ok()) return s.status();
      s->Int(1, r.outcome()).Int(2, static_cast<int64_t>(r.device_seq()));
      OUTREACH_RETURN_IF_ERROR(s->Run("cannot update change log"));
    }
    if (r.outcome() == v1::CHANGE_OUTCOME_REJECTED) {
      Result<sqlite::Statement> s = db.Prepare(
          "INSERT OR REPLACE INTO rejected_change(device_seq, record_id, type, reason, field) SELECT device_seq, "
          "record_id, type, ?, ? FROM change_log WHERE device_seq = ?");
      if (!s.ok()) return s.status();
      s->Text(1, r.reason()).Text(2, r.field()).Int(3, static_cast<int64_t>(r.device_seq()));
      OUTREACH_RETURN_IF_ERROR(s->Run("cannot record rejected change"));
    }
    if (r.outcome() == v1::CHANGE_OUTCOME_REJECTED) OUTREACH_RETURN_IF_ERROR(UndoRefusedChange(db, r));
  }
  if (Hlc(ack.server_hlc()) > clock.Last()) {
    (void)clock.Update(Hlc(ack.server_hlc()));  // a skew refusal leaves the clock as it is
    OUTREACH_RETURN_IF_ERROR(PersistClock(db, clock));
  }
  return Status::Ok();
}

Result<std::vector<v1::Change>> Queued(sqlite::Database& db, size_t limit) {
  Result<sqlite::Statement> s = db.Prepare(
      "SELECT c.change FROM outbox o JOIN change_log c ON c.device_seq = o.device_seq ORDER BY o.device_seq LIMIT "
      "?");
  if (!s.ok()) return s.status();
  s->Int(1, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  return LoadChanges(*s, "an outbox entry");
}

Result<std::vector<v1::Change>> LoadChanges(sqlite::Statement& s, const char* what) {
  std::vector<v1::Change> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    v1::Change c;
    const std::string_view bytes = s.ColView(0);
    if (!c.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return Status::DataLoss(std::string(what) + " does not decode");
    }
    out.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE) return s.Error("cannot read changes");
  return out;
}

Result<uint64_t> QueuedCount(sqlite::Database& db) {
  Result<sqlite::Statement> s = db.Prepare("SELECT count(*) FROM outbox");
  if (!s.ok()) return s.status();
  if (s->Step() != SQLITE_ROW) return s->Error("cannot count outbox");
  return static_cast<uint64_t>(s->ColInt(0));
}

Result<std::set<uint32_t>> PendingFields(sqlite::Database& db, const Uuid& id) {
  std::set<uint32_t> pending;
  Result<sqlite::Statement> s = db.Prepare(
      "SELECT c.change FROM outbox o JOIN change_log c ON c.device_seq = o.device_seq WHERE o.record_id = ?");
  if (!s.ok()) return s.status();
  s->Id(1, id);
  Result<std::vector<v1::Change>> queued = LoadChanges(*s, "an outbox entry");
  if (!queued.ok()) return queued.status();
  for (const v1::Change& local : *queued) {
    for (const v1::FieldValue& fv : local.fields()) pending.insert(fv.field());
  }
  return pending;
}

Result<std::set<std::string>> RecordsInOutbox(sqlite::Database& db) {
  std::set<std::string> ids;
  Result<sqlite::Statement> s = db.Prepare("SELECT DISTINCT record_id FROM outbox");
  if (!s.ok()) return s.status();
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) ids.insert(s->ColBlob(0));
  if (rc != SQLITE_DONE) return s->Error("cannot read outbox");
  return ids;
}

}  // namespace store
}  // namespace outreach::client
