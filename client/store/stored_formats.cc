#include "client/store/stored_formats.h"

#include <set>
#include <vector>

#include "client/store/local_store.h"
#include "client/store/outbox.h"
#include "client/store/record_row.h"
#include "client/store/sync_state.h"
#include "common/field_value.h"
#include "common/record_registry.h"
#include "common/validation/record_rules.h"

namespace outreach::client::store {
namespace {

using google::protobuf::Message;

// The types with at least one format rule.
std::vector<v1::RecordType> TypesWithFormats() {
  std::vector<v1::RecordType> types;
  for (const validation::RecordRules& rules : validation::AllRecordRules()) {
    for (const validation::Rule& rule : rules.rules) {
      if (rule.kind == validation::Rule::Kind::kFormat) {
        types.push_back(rules.type);
        break;
      }
    }
  }
  return types;
}

// `fv` (one field of a `type` body) in its normal form; true when that changed it.
bool NormaliseFieldValue(v1::RecordType type, v1::FieldValue* fv) {
  std::unique_ptr<Message> body = NewBody(type);
  const auto* field = body->GetDescriptor()->FindFieldByNumber(static_cast<int>(fv->field()));
  if (field == nullptr || !ApplyField(body.get(), fv->field(), fv->value()).ok()) return false;
  validation::NormaliseBody(type, body.get());
  std::string normal = EncodeField(*body, field);
  if (normal == fv->value()) return false;
  fv->set_value(std::move(normal));
  return true;
}

// Every queued change rewritten with its values in normal form.
Status NormaliseQueuedChanges(sqlite::Database& db, const std::set<v1::RecordType>& types) {
  std::vector<std::pair<int64_t, v1::Change>> rewritten;
  {
    Result<sqlite::Statement> s = db.Prepare(
        "SELECT c.device_seq, c.change FROM outbox o JOIN change_log c ON c.device_seq = o.device_seq "
        "ORDER BY c.device_seq");
    if (!s.ok()) return s.status();
    int rc;
    while ((rc = s->Step()) == SQLITE_ROW) {
      v1::Change change;
      if (!change.ParseFromString(s->ColBlob(1))) return Status::DataLoss("an outbox entry does not decode");
      if (types.count(change.type()) == 0) continue;
      bool changed = false;
      for (v1::FieldValue& fv : *change.mutable_fields()) changed = NormaliseFieldValue(change.type(), &fv) || changed;
      if (changed) rewritten.emplace_back(s->ColInt(0), std::move(change));
    }
    if (rc != SQLITE_DONE) return s->Error("cannot read the outbox");
  }
  for (const auto& [device_seq, change] : rewritten) {
    Result<sqlite::Statement> s = db.Prepare("UPDATE change_log SET change = ? WHERE device_seq = ?");
    if (!s.ok()) return s.status();
    const std::string bytes = change.SerializeAsString();
    s->Blob(1, bytes).Int(2, device_seq);
    OUTREACH_RETURN_IF_ERROR(s->Run("cannot rewrite a queued change"));
  }
  return Status::Ok();
}

// Who the device is, as LocalStore caches it (local_store.cc, LoadCachedState).
struct Identity {
  Uuid device_id;
  std::string hub_id;
  std::string author;
  v1::Role role = v1::ROLE_UNSPECIFIED;
};

Result<Identity> LoadIdentity(sqlite::Database& db, const std::string& fallback_author) {
  Identity identity;
  identity.author = fallback_author;
  {
    Result<sqlite::Statement> s = db.Prepare("SELECT value FROM sync_state WHERE key = 'device_id'");
    if (!s.ok()) return s.status();
    if (s->Step() != SQLITE_ROW) return s->Error("cannot read device id");
    identity.device_id = s->ColId(0);
  }
  Result<sqlite::Statement> s = db.Prepare("SELECT device_id, hub_id, user_name, role FROM identity");
  if (!s.ok()) return s.status();
  const int rc = s->Step();
  if (rc == SQLITE_ROW) {
    identity.device_id = s->ColId(0);
    identity.hub_id = s->ColBlob(1);
    identity.author = s->ColText(2);
    identity.role = static_cast<v1::Role>(s->ColInt(3));
  } else if (rc != SQLITE_DONE) {
    return s->Error("cannot read identity");
  }
  return identity;
}

// The server's access policy: a kiosk changes no record it holds; reference data is a
// manager's.
bool MayChange(const Identity& identity, v1::RecordType type) {
  const RecordTypeInfo* info = FindRecordType(type);
  if (info == nullptr || identity.role == v1::ROLE_KIOSK) return false;
  return !info->reference_data || identity.role == v1::ROLE_MANAGER;
}

Result<std::vector<Uuid>> LiveRecordsOf(sqlite::Database& db, v1::RecordType type) {
  std::vector<Uuid> ids;
  Result<sqlite::Statement> s = db.Prepare("SELECT id FROM record WHERE type = ? AND deleted = 0 AND erased = 0");
  if (!s.ok()) return s.status();
  s->Int(1, type);
  int rc;
  while ((rc = s->Step()) == SQLITE_ROW) ids.push_back(s->ColId(0));
  if (rc != SQLITE_DONE) return s->Error("cannot read records");
  return ids;
}

}  // namespace

Status NormaliseStoredFormats(sqlite::Database& db, HybridClock& clock, const std::string& fallback_author) {
  const std::vector<v1::RecordType> types = TypesWithFormats();
  OUTREACH_RETURN_IF_ERROR(NormaliseQueuedChanges(db, std::set<v1::RecordType>(types.begin(), types.end())));

  std::vector<RecordEdit> edits;  // of every record held elsewhere too, whoever may change it
  for (v1::RecordType type : types) {
    Result<std::vector<Uuid>> ids = LiveRecordsOf(db, type);
    if (!ids.ok()) return ids.status();
    for (const Uuid& id : *ids) {
      Result<Row> loaded = LoadRow(db, id);
      if (!loaded.ok()) return loaded.status();
      Row row = std::move(loaded).value();
      std::unique_ptr<Message> normal(row.body->New());
      normal->CopyFrom(*row.body);
      validation::NormaliseBody(type, normal.get());
      const std::vector<v1::FieldValue> differ = DiffFields(*row.body, *normal);
      if (differ.empty()) continue;
      // A field a queued change sets now holds that change's (rewritten) value, at its version.
      Result<std::set<uint32_t>> pending = PendingFields(db, id);
      if (!pending.ok()) return pending.status();
      bool held_elsewhere = false, queued = false;
      for (const v1::FieldValue& fv : differ) {
        if (pending->count(fv.field()) == 0) {
          held_elsewhere = true;
          continue;
        }
        OUTREACH_RETURN_IF_ERROR(ApplyField(row.body.get(), fv.field(), fv.value()));
        queued = true;
      }
      if (queued) OUTREACH_RETURN_IF_ERROR(PutRow(db, row, row.updated_hlc));
      if (held_elsewhere) {
        RecordEdit edit;
        edit.record = row.ToRecord();
        MutableRecordBody(&edit.record)->CopyFrom(*normal);
        edits.push_back(std::move(edit));
      }
    }
  }
  if (edits.empty()) return Status::Ok();  // a new file has no identity yet, and needs none
  Result<Identity> identity = LoadIdentity(db, fallback_author);
  if (!identity.ok()) return identity.status();
  std::erase_if(edits, [&](const RecordEdit& e) { return !MayChange(*identity, e.record.type()); });
  if (edits.empty()) return Status::Ok();
  // Stamped after every stamp this file holds, as LocalStore's clock would be.
  Result<int64_t> hlc = StateInt(db, "hlc");
  if (!hlc.ok()) return hlc.status();
  clock.Restore(Hlc(static_cast<uint64_t>(*hlc)));
  Result<int64_t> offset = StateInt(db, "clock_offset_ms");
  if (!offset.ok()) return offset.status();
  clock.SetOffsetMs(*offset);
  const Writer writer{identity->device_id, identity->hub_id, identity->author};
  return CommitEdits(db, edits, writer, clock).status();
}

}  // namespace outreach::client::store
