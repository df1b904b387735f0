#include "client/store/erasure.h"

#include <memory>

#include "common/field_value.h"

namespace outreach::client::store {

using google::protobuf::Message;

void ClearForErasure(Row& row) {
  row.erased = true;
  row.body->Clear();
  row.body->GetReflection()->MutableUnknownFields(row.body.get())->Clear();
  row.versions.clear();
}

Status PurgeRecord(sqlite::Database& db, Row& row, uint64_t hlc) {
  ClearForErasure(row);
  OUTREACH_RETURN_IF_ERROR(ForgetLocalTraces(db, row.id));
  return PutRow(db, row, hlc);
}

Status ForgetLocalTraces(sqlite::Database& db, const Uuid& record_id) {
  OUTREACH_RETURN_IF_ERROR(RedactChangeLog(db, record_id));
  {
    // Nothing about an erased person is pushed afterwards (the server erases its own
    // copy). The server sees a gap in this device's sequence, which it allows.
    Result<sqlite::Statement> s = db.Prepare("DELETE FROM outbox WHERE record_id = ?");
    if (!s.ok()) return s.status();
    s->Id(1, record_id);
    OUTREACH_RETURN_IF_ERROR(s->Run("cannot update outbox"));
  }
  // The refusal stays listed (what was refused, which field, and that it is gone), but
  // not the server's reason, which may quote the refused value.
  Result<sqlite::Statement> s = db.Prepare("UPDATE rejected_change SET reason = ? WHERE record_id = ? AND reason <> ?");
  if (!s.ok()) return s.status();
  s->Text(1, kErasedReason).Id(2, record_id).Text(3, kErasedReason);
  return s->Run("cannot update rejected changes");
}

Status PurgeParticipantTraces(sqlite::Database& db, const std::vector<Uuid>& participants, uint64_t hlc,
                              std::set<std::string>* erased) {
  // Purges a record this device holds (unless already erased) and counts it as erased.
  auto purge = [&](const Uuid& id) -> Status {
    Result<Row> row = LoadRow(db, id);
    if (!row.ok()) return row.status();
    if (!row->exists || row->erased) return Status::Ok();
    OUTREACH_RETURN_IF_ERROR(PurgeRecord(db, *row, hlc));
    erased->insert(id.raw());
    return Status::Ok();
  };
  // 1. Records linked to the participants that are still live here: never on the
  //    server (restricted notes), not yet pushed, or simply not named (yet).
  for (const Uuid& participant_id : participants) {
    std::vector<Uuid> linked;
    {
      Result<sqlite::Statement> s =
          db.Prepare("SELECT id FROM record WHERE participant_id = ? AND id != ? AND erased = 0");
      if (!s.ok()) return s.status();
      s->Id(1, participant_id).Id(2, participant_id);
      int rc;
      while ((rc = s->Step()) == SQLITE_ROW) linked.push_back(s->ColId(0));
      if (rc != SQLITE_DONE) return s->Error("cannot find linked records");
    }
    for (const Uuid& id : linked) OUTREACH_RETURN_IF_ERROR(purge(id));
  }
  // 2. Records this device wrote but no longer holds (a refused create removes the
  //    row): their change-log rows still carry the values. Their link is read from
  //    those values, replayed in order.
  if (!participants.empty()) {
    std::set<std::string> wanted;
    for (const Uuid& p : participants) wanted.insert(p.raw());
    std::vector<Uuid> unheld;
    {
      Result<sqlite::Statement> s = db.Prepare(
          "SELECT c.record_id, c.type, c.change FROM change_log c WHERE NOT EXISTS (SELECT 1 FROM record r WHERE r.id "
          "= c.record_id) ORDER BY c.record_id, c.local_seq");
      if (!s.ok()) return s.status();
      std::string current;
      std::unique_ptr<Message> body;
      std::string participant;
      std::string occurred_on;
      int type = 0;
      auto finish = [&] {
        if (body == nullptr) return;
        DeriveColumns(type, current, *body, &participant, &occurred_on);
        if (wanted.count(participant) != 0) {
          Result<Uuid> id = Uuid::FromBytes(current);
          if (id.ok()) unheld.push_back(*id);
        }
      };
      int rc;
      while ((rc = s->Step()) == SQLITE_ROW) {
        std::string id = s->ColBlob(0);
        if (id != current || body == nullptr) {
          finish();
          current = std::move(id);
          type = static_cast<int>(s->ColInt(1));
          body = NewBody(type);
        }
        v1::Change change;
        const std::string_view bytes = s->ColView(2);
        if (!change.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          return Status::DataLoss("a change-log row does not decode");
        }
        // A value that does not apply (a newer build's) cannot hold the link: skipped.
        for (const v1::FieldValue& fv : change.fields()) (void)ApplyField(body.get(), fv.field(), fv.value());
      }
      if (rc != SQLITE_DONE) return s->Error("cannot read change log");
      finish();
    }
    for (const Uuid& id : unheld) {
      OUTREACH_RETURN_IF_ERROR(ForgetLocalTraces(db, id));
      erased->insert(id.raw());
    }
  }
  // 3. Conflict records about anything erased: they quote its winning and losing values.
  std::vector<Uuid> conflicts;
  {
    Result<sqlite::Statement> s = db.Prepare("SELECT id, body FROM record WHERE type = ? AND erased = 0");
    if (!s.ok()) return s.status();
    s->Int(1, v1::RECORD_TYPE_CONFLICT);
    int rc;
    while ((rc = s->Step()) == SQLITE_ROW) {
      v1::Conflict conflict;
      const std::string_view bytes = s->ColView(1);
      if (!conflict.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        return Status::DataLoss("a conflict record does not decode");
      }
      if (erased->count(conflict.record_id()) != 0) conflicts.push_back(s->ColId(0));
    }
    if (rc != SQLITE_DONE) return s->Error("cannot find conflicts");
  }
  for (const Uuid& id : conflicts) OUTREACH_RETURN_IF_ERROR(purge(id));
  return Status::Ok();
}

Status RedactChangeLog(sqlite::Database& db, const Uuid& record_id) {
  std::vector<std::pair<int64_t, std::string>> redacted;
  {
    Result<sqlite::Statement> s = db.Prepare("SELECT local_seq, change FROM change_log WHERE record_id = ?");
    if (!s.ok()) return s.status();
    s->Id(1, record_id);
    int rc;
    while ((rc = s->Step()) == SQLITE_ROW) {
      v1::Change change;
      const std::string_view bytes = s->ColView(1);
      if (!change.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        return Status::DataLoss("a change-log row does not decode");
      }
      // Field numbers stay (what was changed, when, by whom); values go.
      for (v1::FieldValue& fv : *change.mutable_fields()) fv.clear_value();
      redacted.emplace_back(s->ColInt(0), change.SerializeAsString());
    }
    if (rc != SQLITE_DONE) return s->Error("cannot read change log");
  }
  for (const auto& [local_seq, bytes] : redacted) {
    Result<sqlite::Statement> s = db.Prepare("UPDATE change_log SET change = ? WHERE local_seq = ?");
    if (!s.ok()) return s.status();
    s->Blob(1, bytes).Int(2, local_seq);
    OUTREACH_RETURN_IF_ERROR(s->Run("cannot redact change log"));
  }
  return Status::Ok();
}

Status CheckpointAfterErasure(sqlite::Database& db) {
  // The WAL still holds the page images written before the erasure; copying them into
  // the (secure_delete) database and truncating the WAL removes them from the disk.
  return db.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

}  // namespace outreach::client::store
