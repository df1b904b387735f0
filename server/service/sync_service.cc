#include "server/service/sync_service.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>

#include "common/field_value.h"
#include "common/frame.h"
#include "common/record_registry.h"
#include "common/reference.h"
#include "server/service/access_policy.h"
#include "server/service/reconciler.h"
#include "server/service/secrets.h"
#include "server/store/store.h"

namespace outreach::server {
namespace {

// The version of records.proto this server was built with.
constexpr uint32_t kSchemaVersion = 1;
constexpr size_t kCredentialBytes = 32;
constexpr int kPrefixAttempts = 64;

Status Refuse(v1::Refusal* refusal, v1::RefusalReason reason, ErrorCode code, const std::string& detail,
              bool wipe = false) {
  if (refusal != nullptr) {
    refusal->set_reason(reason);
    refusal->set_detail(detail);
    refusal->set_wipe(wipe);
  }
  return Status(code, detail);
}

// kUnauthenticated when `device` was revoked (or removed) since its hello.
Status CheckStanding(StoreTxn& txn, const DeviceContext& device) {
  auto row = txn.GetDevice(device.device_id);
  if (!row.ok()) return row.status();
  if (!row->has_value() || (*row)->revoked) {
    return Status(ErrorCode::kUnauthenticated, "this device was revoked; its local data must be wiped");
  }
  return Status::Ok();
}

// For a change refused on a record this server holds: the record's current value and
// version of every field the change set, as `device` may read them (ChangeResult.current).
Status FillCurrentValues(StoreTxn& txn, const DeviceContext& device, const v1::Change& change,
                         v1::ChangeResult* result) {
  Result<Uuid> id = Uuid::FromBytes(change.record_id());
  if (!id.ok()) return Status::Ok();
  auto stored = txn.GetRecord(*id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return Status::Ok();
  const StoredRecord& rec = **stored;
  if (rec.record.hub_id() != device.hub_id.raw() || rec.record.type() != change.type() || rec.record.deleted()) {
    return Status::Ok();
  }
  const google::protobuf::Message* body = RecordBody(rec.record);
  if (body == nullptr) return Status::Ok();
  v1::Change current;
  current.set_record_id(change.record_id());
  current.set_type(rec.record.type());
  current.set_hub_id(rec.record.hub_id());
  current.set_op(v1::CHANGE_OP_UPSERT);
  for (const v1::FieldValue& fv : change.fields()) {
    const auto* field = body->GetDescriptor()->FindFieldByNumber(static_cast<int>(fv.field()));
    if (field == nullptr) continue;
    v1::FieldValue* now = current.add_fields();
    now->set_field(fv.field());
    now->set_value(EncodeField(*body, field));
    auto version = rec.versions.find(fv.field());
    if (version != rec.versions.end()) now->set_base_version(version->second.hlc.value());
  }
  auto visible = FilterForRead(txn, device, std::move(current));
  if (!visible.ok()) return visible.status();
  if (visible->has_value()) {
    for (const v1::FieldValue& fv : (*visible)->fields()) *result->add_current() = fv;
  }
  return Status::Ok();
}

// The dedupe ledger as one push batch meets it. A device numbers its changes 1, 2, 3 ...
// and sends them in order, so a batch's numbers are (nearly) consecutive: their ledger
// entries are read with one range query instead of one lookup per change. A batch whose
// numbers are spread wider than kMaxSpan per change is looked up change by change.
// Entries the batch itself writes are remembered, so a number repeated within the batch
// is a DUPLICATE of its first occurrence, as it is across batches.
class LedgerOfBatch {
 public:
  static Result<LedgerOfBatch> Read(StoreTxn& txn, const Uuid& device_id, const v1::Push& push) {
    LedgerOfBatch out(device_id);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (const v1::Change& c : push.changes()) {
      if (c.device_seq() == 0) continue;
      lo = std::min(lo, c.device_seq());
      hi = std::max(hi, c.device_seq());
    }
    if (hi == 0) return out;
    const uint64_t span = hi - lo + 1;
    if (span > kMaxSpan * static_cast<uint64_t>(push.changes_size()) || span > UINT32_MAX) return out;
    auto entries = txn.ReadLedger(device_id, lo - 1, static_cast<uint32_t>(span));
    if (!entries.ok()) return entries.status();
    out.ranged_ = true;
    for (auto& [seq, entry] : *entries) out.seen_.emplace(seq, std::move(entry));
    return out;
  }

  Result<std::optional<LedgerEntry>> Get(StoreTxn& txn, uint64_t device_seq) const {
    if (!ranged_) return txn.GetLedger(device_id_, device_seq);
    auto it = seen_.find(device_seq);
    if (it == seen_.end()) return std::optional<LedgerEntry>();
    return std::optional<LedgerEntry>(it->second);
  }

  void Remember(uint64_t device_seq, LedgerEntry entry) {
    if (ranged_) seen_.emplace(device_seq, std::move(entry));
  }

 private:
  static constexpr uint64_t kMaxSpan = 4;
  explicit LedgerOfBatch(Uuid device_id) : device_id_(device_id) {}

  Uuid device_id_;
  bool ranged_ = false;  // seen_ holds every entry of the batch's range
  std::map<uint64_t, LedgerEntry> seen_;
};

// What a pull needs of a stored change without parsing it: its type, and where its
// hub_id lies in the bytes. `plain` when the top-level fields scan cleanly, the record
// id is 16 bytes, and type, record id and hub id each appear at most once; otherwise the
// change is parsed.
struct StoredChangeShape {
  bool plain = false;
  v1::RecordType type = v1::RECORD_TYPE_UNSPECIFIED;
  std::string_view hub_id;
  size_t hub_begin = 0, hub_end = 0;  // the hub_id field, tag included: [begin, end)
};

StoredChangeShape ScanStoredChange(std::string_view bytes) {
  using google::protobuf::internal::WireFormatLite;
  StoredChangeShape shape;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  int record_ids = 0, types = 0, hubs = 0;
  while (true) {
    const int at = in.CurrentPosition();
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    const int number = WireFormatLite::GetTagFieldNumber(tag);
    const auto wire = WireFormatLite::GetTagWireType(tag);
    if (number == v1::Change::kRecordIdFieldNumber || number == v1::Change::kHubIdFieldNumber) {
      uint32_t length = 0;
      if (wire != WireFormatLite::WIRETYPE_LENGTH_DELIMITED || !in.ReadVarint32(&length)) return shape;
      const int start = in.CurrentPosition();
      if (length > bytes.size() - static_cast<size_t>(start) || !in.Skip(static_cast<int>(length))) return shape;
      if (number == v1::Change::kRecordIdFieldNumber) {
        if (++record_ids > 1 || length != Uuid::kSize) return shape;
      } else {
        if (++hubs > 1) return shape;
        shape.hub_id = bytes.substr(static_cast<size_t>(start), length);
        shape.hub_begin = static_cast<size_t>(at);
        shape.hub_end = static_cast<size_t>(in.CurrentPosition());
      }
    } else if (number == v1::Change::kTypeFieldNumber) {
      uint64_t type = 0;
      if (wire != WireFormatLite::WIRETYPE_VARINT || !in.ReadVarint64(&type) || ++types > 1) return shape;
      shape.type = static_cast<v1::RecordType>(static_cast<int32_t>(type));
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return shape;
    }
  }
  shape.plain = in.ConsumedEntireMessage() && record_ids == 1;
  return shape;
}

}  // namespace

SyncService::SyncService(std::unique_ptr<Store> store, std::string ca_pem, SyncServiceOptions options)
    : store_(std::move(store)), ca_pem_(std::move(ca_pem)), options_(options) {
  // Our stamps continue after every stamp already logged, across restarts. A failure
  // here is not fatal: Push restores the clock again inside each transaction.
  (void)store_->Transact([this](StoreTxn& txn) {
    auto last = txn.MaxLoggedHlc();
    if (!last.ok()) return last.status();
    clock_.Restore(*last);
    return Status::Ok();
  });
}

SyncService::~SyncService() = default;

Result<v1::Enrolled> SyncService::Enrol(const v1::Enrol& request, v1::Refusal* refusal) {
  // The one answer for every bad code: unknown, used or expired.
  static constexpr const char* kBadEnrolmentCode = "this enrolment code is not valid or has expired";
  if (request.code().empty()) {
    return Refuse(refusal, v1::REFUSAL_REASON_BAD_ENROLMENT_CODE, ErrorCode::kInvalidArgument,
                  "an enrolment code is required");
  }
  const std::string code_hash = EnrolmentCodeHash(request.code());
  const int64_t now = clock_.PhysicalNow();
  v1::Enrolled enrolled;
  v1::RefusalReason refused = v1::REFUSAL_REASON_UNSPECIFIED;
  Status st = store_->Transact([&](StoreTxn& txn) -> Status {
    enrolled.Clear();
    refused = v1::REFUSAL_REASON_UNSPECIFIED;
    auto code = txn.GetEnrolmentCode(code_hash);
    if (!code.ok()) return code.status();
    if (!code->has_value() || (*code)->used || (*code)->expires_at_ms <= now) {
      // One answer for an unknown, used or expired code: a reply never tells a guesser
      // which codes exist.
      refused = v1::REFUSAL_REASON_BAD_ENROLMENT_CODE;
      return Status(ErrorCode::kUnauthenticated, kBadEnrolmentCode, "code");
    }
    const EnrolmentCodeRow& c = **code;
    auto credential = RandomBytes(kCredentialBytes);
    if (!credential.ok()) return credential.status();
    DeviceRow device;
    device.device_id = Uuid::NewV7();
    device.hub_id = c.hub_id;
    device.role = c.role;
    device.venue_id = c.venue_id;
    device.user_name = c.user_name;
    device.device_name = request.device_name();
    device.credential_hash = Sha256(*credential);
    device.enrolled_at_ms = now;
    for (int attempt = 0; attempt < kPrefixAttempts && device.reference_prefix.empty(); ++attempt) {
      std::string prefix = ReferenceNumber::RandomPrefix();
      auto taken = txn.ReferencePrefixTaken(prefix);
      if (!taken.ok()) return taken.status();
      if (!*taken) device.reference_prefix = prefix;
    }
    if (device.reference_prefix.empty()) {
      return Status(ErrorCode::kResourceExhausted, "no free reference prefix found", "reference_prefix");
    }
    OUTREACH_RETURN_IF_ERROR(txn.InsertDevice(device));
    OUTREACH_RETURN_IF_ERROR(txn.MarkEnrolmentCodeUsed(code_hash));
    enrolled.set_device_id(device.device_id.raw());
    enrolled.set_credential(*credential);
    enrolled.set_hub_id(device.hub_id.raw());
    enrolled.set_role(device.role);
    enrolled.set_user_name(device.user_name);
    enrolled.set_reference_prefix(device.reference_prefix);
    if (!device.venue_id.is_nil()) enrolled.set_venue_id(device.venue_id.raw());
    enrolled.set_ca_pem(ca_pem_);
    return Status::Ok();
  });
  if (!st.ok()) {
    if (refused != v1::REFUSAL_REASON_UNSPECIFIED) return Refuse(refusal, refused, st.code(), st.message());
    return Refuse(refusal, v1::REFUSAL_REASON_INTERNAL_ERROR, st.code(), st.message());
  }
  return enrolled;
}

Result<DeviceContext> SyncService::Authenticate(const v1::Hello& hello, v1::Welcome* welcome, v1::Refusal* refusal) {
  if (hello.protocol_version() != v1::PROTOCOL_VERSION_1) {
    return Refuse(
        refusal, v1::REFUSAL_REASON_UNSUPPORTED_PROTOCOL, ErrorCode::kProtocolError,
        "protocol version " + std::to_string(hello.protocol_version()) + " is not supported; this server speaks 1");
  }
  auto device_id = Uuid::FromBytes(hello.device_id());
  if (!device_id.ok()) {
    return Refuse(refusal, v1::REFUSAL_REASON_UNKNOWN_DEVICE, ErrorCode::kUnauthenticated,
                  "device id must be 16 bytes");
  }
  std::optional<DeviceRow> device;
  Status st = store_->Read([&](StoreTxn& txn) -> Status {
    auto row = txn.GetDevice(*device_id);
    if (!row.ok()) return row.status();
    device = std::move(*row);
    return Status::Ok();
  });
  if (!st.ok()) return Refuse(refusal, v1::REFUSAL_REASON_INTERNAL_ERROR, st.code(), st.message());
  if (!device) {
    return Refuse(refusal, v1::REFUSAL_REASON_UNKNOWN_DEVICE, ErrorCode::kUnauthenticated,
                  "device " + device_id->ToString() + " is not enrolled with this server");
  }
  if (!HashesEqual(Sha256(hello.credential()), device->credential_hash)) {
    return Refuse(refusal, v1::REFUSAL_REASON_BAD_CREDENTIAL, ErrorCode::kUnauthenticated,
                  "the device credential is wrong");
  }
  if (device->revoked) {
    return Refuse(refusal, v1::REFUSAL_REASON_DEVICE_REVOKED, ErrorCode::kUnauthenticated,
                  "this device was revoked; its local data must be wiped", /*wipe=*/true);
  }
  DeviceContext ctx;
  ctx.device_id = device->device_id;
  ctx.hub_id = device->hub_id;
  ctx.role = device->role;
  ctx.venue_id = device->venue_id;
  ctx.user_name = device->user_name;
  const int64_t now = clock_.PhysicalNow();
  ctx.clock_skew_ms = Hlc(hello.device_hlc()).physical_ms() - now;
  if (welcome != nullptr) {
    welcome->set_protocol_version(v1::PROTOCOL_VERSION_1);
    welcome->set_schema_version(kSchemaVersion);
    welcome->set_server_time_ms(now);
    welcome->set_server_hlc(clock_.Now().value());
    welcome->set_max_clock_skew_ms(options_.max_clock_skew_ms);
    welcome->set_hub_id(ctx.hub_id.raw());
    welcome->set_role(ctx.role);
    if (!ctx.venue_id.is_nil()) welcome->set_venue_id(ctx.venue_id.raw());
    welcome->set_user_name(ctx.user_name);
    welcome->set_max_frame_bytes(kDefaultMaxFrameBytes);
    welcome->set_max_push_changes(options_.max_push_changes);
    welcome->set_clock_skew_ms(ctx.clock_skew_ms);
  }
  return ctx;
}

Result<v1::PushAck> SyncService::Push(const DeviceContext& device, const v1::Push& push) {
  if (static_cast<uint32_t>(push.changes_size()) > options_.max_push_changes) {
    return Status(ErrorCode::kResourceExhausted,
                  "a push may carry at most " + std::to_string(options_.max_push_changes) + " changes, not " +
                      std::to_string(push.changes_size()),
                  "changes");
  }
  // Formatted values (a phone number costs ~20 us) are judged here, outside the hub's
  // lock, so pushes to one hub wait on each other only for the rules that read records.
  validation::FormatVerdicts formats;
  for (const v1::Change& change : push.changes()) formats.JudgeChange(change);
  v1::PushAck ack;
  Status st = store_->Transact([&](StoreTxn& txn) -> Status {
    ack.Clear();
    ack.set_batch_id(push.batch_id());
    OUTREACH_RETURN_IF_ERROR(txn.LockHub(device.hub_id));
    // Another process (an admin command) may have logged later stamps.
    auto last = txn.MaxLoggedHlc();
    if (!last.ok()) return last.status();
    clock_.Restore(*last);
    OUTREACH_RETURN_IF_ERROR(CheckStanding(txn, device));
    auto ledger = LedgerOfBatch::Read(txn, device.device_id, push);
    if (!ledger.ok()) return ledger.status();
    Reconciler reconciler(txn, clock_, options_.max_clock_skew_ms, &formats);
    for (const v1::Change& change : push.changes()) {
      v1::ChangeResult* result = ack.add_results();
      result->set_device_seq(change.device_seq());
      if (change.device_seq() == 0) {
        result->set_outcome(v1::CHANGE_OUTCOME_REJECTED);
        result->set_reason("a change needs a device sequence number from 1");
        result->set_field("device_seq");
        continue;
      }
      auto seen = ledger->Get(txn, change.device_seq());
      if (!seen.ok()) return seen.status();
      if (seen->has_value()) {
        // Seen before: nothing changes now. A change refused then is refused again with
        // the same reason, so a device that lost the first ack still learns of it.
        const LedgerEntry& first = **seen;
        if (first.outcome == v1::CHANGE_OUTCOME_REJECTED) {
          result->set_outcome(v1::CHANGE_OUTCOME_REJECTED);
          result->set_reason(first.reason);
          result->set_field(first.field);
          OUTREACH_RETURN_IF_ERROR(FillCurrentValues(txn, device, change, result));
        } else {
          result->set_outcome(v1::CHANGE_OUTCOME_DUPLICATE);
          result->set_server_seq(first.server_seq);
        }
        continue;
      }
      auto verdict = reconciler.ApplyDeviceChange(device, change);
      if (!verdict.ok()) return verdict.status();
      result->set_outcome(verdict->outcome);
      result->set_server_seq(verdict->server_seq);
      result->set_reason(verdict->reason);
      result->set_field(verdict->field);
      if (verdict->outcome == v1::CHANGE_OUTCOME_REJECTED) {
        OUTREACH_RETURN_IF_ERROR(FillCurrentValues(txn, device, change, result));
      }
      LedgerEntry entry;
      entry.outcome = verdict->outcome;
      entry.server_seq = verdict->server_seq;
      entry.reason = verdict->reason;
      entry.field = verdict->field;
      OUTREACH_RETURN_IF_ERROR(txn.PutLedger(device.device_id, change.device_seq(), entry));
      ledger->Remember(change.device_seq(), std::move(entry));
    }
    return txn.SetDeviceLastSync(device.device_id, clock_.PhysicalNow());
  });
  if (!st.ok()) return st;
  ack.set_server_hlc(clock_.Now().value());
  return ack;
}

Result<v1::ChangesPage> SyncService::Pull(const DeviceContext& device, const v1::Pull& pull, size_t max_page_bytes) {
  return PullPage(device, pull, max_page_bytes, /*encoded=*/nullptr);
}

Result<std::string> SyncService::PullEncoded(const DeviceContext& device, const v1::Pull& pull, size_t max_page_bytes) {
  std::string encoded;
  Result<v1::ChangesPage> page = PullPage(device, pull, max_page_bytes, &encoded);
  if (!page.ok()) return page.status();
  // The page's other fields after its changes: a parser takes fields in any order.
  page->AppendToString(&encoded);
  return encoded;
}

Result<v1::ChangesPage> SyncService::PullPage(const DeviceContext& device, const v1::Pull& pull, size_t max_page_bytes,
                                              std::string* encoded) {
  const uint32_t limit =
      pull.page_size() == 0 ? options_.max_page_changes : std::min(pull.page_size(), options_.max_page_changes);
  const std::string own_hub = device.hub_id.raw();
  v1::ChangesPage page;
  // A read transaction: on the SQLite store it runs beside pushes instead of queueing
  // behind them, and its snapshot holds a gap-free prefix of the hub's log (store.h), so
  // next_cursor never passes a change that commits later.
  Status st = store_->Read([&](StoreTxn& txn) -> Status {
    page.Clear();
    if (encoded != nullptr) encoded->clear();
    // Every request re-checks the device's standing: a device revoked since its hello
    // reads nothing more (the server also ends its open sessions, server/net).
    OUTREACH_RETURN_IF_ERROR(CheckStanding(txn, device));
    auto hub = txn.GetHub(device.hub_id);
    if (!hub.ok()) return hub.status();
    if (!hub->has_value()) return Status::NotFound("no hub " + device.hub_id.ToString(), "hub_id");
    if (pull.cursor() > (*hub)->last_seq) {
      // A device's cursor is a number this hub's log gave it; a larger one is not (and a
      // store comparing it as a signed number would read it as a full resync).
      return Status::InvalidArgument("cursor", "cursor " + std::to_string(pull.cursor()) +
                                                   " is beyond this hub's log, which ends at " +
                                                   std::to_string((*hub)->last_seq));
    }
    auto entries = txn.ReadLogEncoded(device.hub_id, pull.cursor(), limit);
    if (!entries.ok()) return entries.status();
    uint64_t next = pull.cursor();
    size_t page_bytes = 0;  // the encoded size of the page's changes so far
    size_t in_page = 0;
    for (LoggedChange& entry : *entries) {
      const uint64_t seq = entry.server_seq;
      // An entry this device reads as logged is measured and sent as stored; the others
      // are parsed and filtered (and an entry that does not scan cleanly is parsed, so a
      // damaged one fails as it always did).
      const StoredChangeShape shape = ScanStoredChange(entry.change);
      std::optional<v1::Change> parsed;
      size_t size = 0;
      if (shape.plain && ReadPassesUnfiltered(device, shape.type)) {
        size = entry.change.size();
      } else {
        v1::Change change;
        if (!change.ParseFromString(entry.change)) {
          return Status::DataLoss("a logged change of hub " + device.hub_id.ToString() + " does not decode");
        }
        auto visible = FilterForRead(txn, device, std::move(change));
        if (!visible.ok()) return visible.status();
        if (!visible->has_value()) {
          next = seq;
          continue;
        }
        parsed = std::move(**visible);
        size = parsed->ByteSizeLong();
      }
      // In the page: a tag byte (field 1), the length, the change.
      const size_t encoded_size = 1 + google::protobuf::io::CodedOutputStream::VarintSize64(size) + size;
      if (in_page > 0 && page_bytes + encoded_size > max_page_bytes) break;  // the next page starts here
      page_bytes += encoded_size;
      ++in_page;
      next = seq;
      if (encoded == nullptr) {
        if (!parsed) {
          parsed.emplace();
          if (!parsed->ParseFromString(entry.change)) {
            return Status::DataLoss("a logged change of hub " + device.hub_id.ToString() + " does not decode");
          }
        }
        *page.add_changes() = std::move(*parsed);
        continue;
      }
      if (encoded->empty()) encoded->reserve(std::min(max_page_bytes, entries->size() * encoded_size));
      if (parsed) {
        // Every change a device pulls is of its own hub, which an empty hub_id means.
        if (parsed->hub_id() == own_hub) parsed->clear_hub_id();
        AppendLengthDelimited(encoded, v1::ChangesPage::kChangesFieldNumber, parsed->SerializeAsString());
      } else if (shape.hub_end > shape.hub_begin && shape.hub_id == own_hub) {
        const std::string_view stored = entry.change;
        AppendLengthDelimited(encoded, v1::ChangesPage::kChangesFieldNumber, stored.substr(0, shape.hub_begin),
                              stored.substr(shape.hub_end));
      } else {
        AppendLengthDelimited(encoded, v1::ChangesPage::kChangesFieldNumber, entry.change);
      }
    }
    page.set_next_cursor(next);
    page.set_more((*hub)->last_seq > next);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  // Only the last page of a pull writes: the device has caught up now. Earlier pages
  // are read-only (no commit to the disk per page, no writer lock taken).
  if (!page.more()) {
    st = store_->Transact([&](StoreTxn& txn) { return txn.SetDeviceLastSync(device.device_id, clock_.PhysicalNow()); });
    if (!st.ok()) return st;
  }
  return page;
}

}  // namespace outreach::server
