#include "client/store/record_row.h"

#include <google/protobuf/empty.pb.h>

#include "client/store/projections.h"
#include "common/record_registry.h"

namespace outreach::client::store {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

namespace {

constexpr size_t kVersionEntry = 12;

constexpr const char* kPutRecord =
    "INSERT INTO record(id, type, hub_id, deleted, erased, body, participant_id, occurred_on, created_hlc, "
    "updated_hlc, versions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET type = "
    "excluded.type, hub_id = excluded.hub_id, deleted = excluded.deleted, erased = excluded.erased, body = "
    "excluded.body, participant_id = excluded.participant_id, occurred_on = excluded.occurred_on, "
    "updated_hlc = excluded.updated_hlc, versions = excluded.versions";

}  // namespace

Status Row::DecodeFrom(const sqlite::Statement& s) {
  exists = true;
  type = static_cast<int>(s.ColInt(0));
  deleted = s.ColInt(2) != 0;
  erased = s.ColInt(3) != 0;
  body = NewBody(type);
  const std::string_view bytes = s.ColView(4);
  if (!body->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::DataLoss("record " + id.ToString() + " does not decode");
  }
  return Status::Ok();
}

v1::Record Row::ToRecord() const {
  v1::Record r;
  r.set_id(id.raw());
  r.set_type(static_cast<v1::RecordType>(type));
  r.set_hub_id(hub_id);
  r.set_deleted(deleted);
  r.set_erased(erased);
  if (Message* b = MutableRecordBody(&r)) {
    b->CopyFrom(*body);
  } else {
    // Unknown type: the body rides in Record's unknown fields under its type number,
    // exactly where a newer build would put it.
    std::string bytes;
    body->SerializeToString(&bytes);
    r.GetReflection()->MutableUnknownFields(&r)->AddLengthDelimited(type, bytes);
  }
  return r;
}

std::unique_ptr<Message> NewBody(int type) {
  std::unique_ptr<Message> body = NewRecordBody(static_cast<v1::RecordType>(type));
  if (body == nullptr) body = std::make_unique<google::protobuf::Empty>();  // unknown type: fields kept as bytes
  return body;
}

std::string EncodeVersions(const std::map<uint32_t, uint64_t>& versions) {
  std::string out(versions.size() * kVersionEntry, '\0');
  char* at = out.data();
  for (const auto& [field, hlc] : versions) {
    for (int i = 0; i < 4; ++i) *at++ = static_cast<char>((field >> (8 * i)) & 0xFF);
    for (int i = 0; i < 8; ++i) *at++ = static_cast<char>((hlc >> (8 * i)) & 0xFF);
  }
  return out;
}

Result<std::map<uint32_t, uint64_t>> DecodeVersions(std::string_view blob, const Uuid& id) {
  if (blob.size() % kVersionEntry != 0) {
    return Status::DataLoss("the field versions of record " + id.ToString() + " do not decode");
  }
  std::map<uint32_t, uint64_t> versions;
  const auto* at = reinterpret_cast<const unsigned char*>(blob.data());
  for (size_t n = blob.size() / kVersionEntry; n > 0; --n) {
    uint32_t field = 0;
    uint64_t hlc = 0;
    for (int i = 0; i < 4; ++i) field |= static_cast<uint32_t>(*at++) << (8 * i);
    for (int i = 0; i < 8; ++i) hlc |= static_cast<uint64_t>(*at++) << (8 * i);
    versions.emplace_hint(versions.end(), field, hlc);
  }
  return versions;
}

void DeriveColumns(int type, std::string_view raw_id, const Message& body, std::string* participant,
                   std::string* occurred_on) {
  participant->clear();
  occurred_on->clear();
  const RecordTypeInfo* info = FindRecordType(static_cast<v1::RecordType>(type));
  if (info == nullptr) return;  // a type this build does not know: no links, no date
  if (type == v1::RECORD_TYPE_PARTICIPANT) {
    participant->assign(raw_id);
  } else if (info->participant_field != nullptr) {
    *participant = body.GetReflection()->GetString(body, info->participant_field);
  }
  if (participant->size() != Uuid::kSize) participant->clear();
  // The registry's timeline date (record_registry_test: always a string of the body).
  if (info->date_field != nullptr) *occurred_on = body.GetReflection()->GetString(body, info->date_field);
}

Result<Row> LoadRow(sqlite::Database& db, const Uuid& id) {
  Result<sqlite::Statement> s = db.Prepare(
      "SELECT type, hub_id, deleted, erased, body, created_hlc, updated_hlc, versions, participant_id FROM record "
      "WHERE id = ?");
  if (!s.ok()) return s.status();
  s->Id(1, id);
  Row row;
  row.id = id;
  const int rc = s->Step();
  if (rc == SQLITE_DONE) return row;
  if (rc != SQLITE_ROW) return s->Error("cannot read record");
  OUTREACH_RETURN_IF_ERROR(row.DecodeFrom(*s));
  row.hub_id = s->ColBlob(1);
  row.created_hlc = static_cast<uint64_t>(s->ColInt(5));
  row.updated_hlc = static_cast<uint64_t>(s->ColInt(6));
  Result<std::map<uint32_t, uint64_t>> versions = DecodeVersions(s->ColView(7), id);
  if (!versions.ok()) return versions.status();
  row.versions = std::move(versions).value();
  row.held_participant = s->ColBlob(8);
  return row;
}

Status PutRow(sqlite::Database& db, const Row& row, uint64_t hlc, bool had_projections,
              const std::string* held_projection) {
  std::string body;
  row.body->SerializeToString(&body);
  std::string participant;
  std::string occurred_on;
  DeriveColumns(row.type, row.id.raw(), *row.body, &participant, &occurred_on);
  const std::string versions = EncodeVersions(row.versions);
  if (row.held_participant.has_value()) {
    // A row read from the file: an UPDATE of what can change, which leaves the indexes
    // alone (type never changes; the participant link only when a merge moves the record).
    const bool relinked = *row.held_participant != participant;
    Result<sqlite::Statement> s =
        db.Prepare(relinked ? "UPDATE record SET hub_id = ?2, deleted = ?3, erased = ?4, body = ?5, occurred_on = ?6, "
                              "updated_hlc = ?7, versions = ?8, participant_id = ?9 WHERE id = ?1"
                            : "UPDATE record SET hub_id = ?2, deleted = ?3, erased = ?4, body = ?5, occurred_on = ?6, "
                              "updated_hlc = ?7, versions = ?8 WHERE id = ?1");
    if (!s.ok()) return s.status();
    s->Id(1, row.id).Blob(2, row.hub_id).Int(3, row.deleted).Int(4, row.erased).Blob(5, body).Text(6, occurred_on);
    s->Int(7, static_cast<int64_t>(hlc)).Blob(8, versions);
    if (relinked) {
      if (!participant.empty()) {
        s->Blob(9, participant);
      } else {
        s->Null(9);
      }
    }
    OUTREACH_RETURN_IF_ERROR(s->Run("cannot write record"));
    if (db.changes() == 1) return WriteProjection(db, row, had_projections, held_projection);
    // Gone since it was read (not under this transaction): written whole below.
  }
  OUTREACH_RETURN_IF_ERROR(WriteWholeRow(db, row.id, row.type, row.hub_id, row.deleted, row.erased, body, participant,
                                         occurred_on, row.exists ? row.created_hlc : hlc, hlc, versions));
  return WriteProjection(db, row, had_projections, held_projection);
}

Status WriteWholeRow(sqlite::Database& db, const Uuid& id, int type, std::string_view hub_id, bool deleted, bool erased,
                     std::string_view body, std::string_view participant, std::string_view occurred_on,
                     uint64_t created_hlc, uint64_t updated_hlc, std::string_view versions) {
  Result<sqlite::Statement> s = db.Prepare(kPutRecord);
  if (!s.ok()) return s.status();
  s->Id(1, id).Int(2, type).Blob(3, hub_id).Int(4, deleted).Int(5, erased).Blob(6, body);
  if (!participant.empty()) {
    s->Blob(7, participant);
  } else {
    s->Null(7);
  }
  s->Text(8, occurred_on);
  s->Int(9, static_cast<int64_t>(created_hlc)).Int(10, static_cast<int64_t>(updated_hlc));
  s->Blob(11, versions);
  return s->Run("cannot write record");
}

}  // namespace outreach::client::store
