// Sync() and Enrol(): one conversation each with the hub's server.
//
//   Sync:  connect (pinned CA) -> Hello -> Welcome | Refusal(wipe?) -> Pusher -> Puller -> close
//          (a Refusal with wipe, at hello or at any later request, wipes the device)
//   Enrol: connect (CA given by the hub) -> Enrol -> Enrolled | Refusal -> save identity
#include <chrono>

#include "client/journey/device_internals.h"
#include "client/store/local_store.h"
#include "client/sync/connection.h"
#include "client/sync/puller.h"
#include "client/sync/pusher.h"
#include "client/sync/refusal.h"
#include "common/record_registry.h"
#include "outreach/device.h"
#include "outreach/sync.h"

namespace outreach {

namespace {

constexpr uint32_t kSchemaVersion = 1;

std::string RoleName(v1::Role role) {
  return EnumValueShortName(v1::Role_descriptor()->FindValueByNumber(role));
}

// The device's physical clock without any offset learnt from the server.
int64_t RawPhysicalMs(HybridClock& clock) {
  return clock.PhysicalNow() - clock.offset_ms();
}

// A sync that ended with `failure`: if the server said on this connection that the hub
// revoked the device (a refusal with wipe, at hello or at any request after it, e.g. when
// the hub revoked it mid-sync), nothing it holds may stay on it.
Status WipeIfTold(const client::SyncConnection& connection, client::LocalStore& store, Status failure) {
  if (!connection.told_to_wipe()) return failure;
  OUTREACH_RETURN_IF_ERROR(store.Wipe());
  return Status(ErrorCode::kUnauthenticated, "this device was revoked by the hub; its local data has been wiped");
}

}  // namespace

Result<EnrolReport> Enrol(Device& device, const EnrolOptions& options) {
  client::LocalStore& store = StoreOf(device);
  if (options.code.empty()) return Status::InvalidArgument("code", "an enrolment code is required");
  if (options.ca_pem.empty()) return Status::InvalidArgument("ca", "the hub's CA certificate is required");
  Result<std::optional<client::DeviceIdentity>> existing = store.LoadIdentity();
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return Status(ErrorCode::kAlreadyExists,
                  "this device is already enrolled (hub " + (*existing)->hub_id.ToString() + ")", "code");
  }
  Result<client::ServerAddress> address = client::ServerAddress::Parse(options.server);
  if (!address.ok()) return address.status();

  const std::chrono::milliseconds timeout(30000);
  client::SyncConnection connection;
  OUTREACH_RETURN_IF_ERROR(connection.Connect(*address, options.ca_pem, timeout));
  v1::Envelope request;
  request.mutable_enrol()->set_code(options.code);
  request.mutable_enrol()->set_device_name(options.device_name);
  OUTREACH_RETURN_IF_ERROR(connection.Send(request, timeout));
  v1::Envelope reply;
  OUTREACH_RETURN_IF_ERROR(connection.Receive(&reply, timeout));
  connection.Close();
  if (reply.has_refusal()) {
    Status st = client::RefusalStatus(reply.refusal());
    return Status(st.code(), st.message(), "code");
  }
  if (!reply.has_enrolled()) return Status::ProtocolError("server answered Enrol with something other than Enrolled");
  const v1::Enrolled& enrolled = reply.enrolled();

  client::DeviceIdentity identity;
  Result<Uuid> device_id = Uuid::FromBytes(enrolled.device_id());
  Result<Uuid> hub_id = Uuid::FromBytes(enrolled.hub_id());
  if (!device_id.ok() || !hub_id.ok()) return Status::ProtocolError("Enrolled carries malformed ids");
  identity.device_id = *device_id;
  identity.hub_id = *hub_id;
  if (!enrolled.venue_id().empty()) {
    Result<Uuid> venue = Uuid::FromBytes(enrolled.venue_id());
    if (!venue.ok()) return Status::ProtocolError("Enrolled carries a malformed venue id");
    identity.venue_id = *venue;
  }
  identity.credential = enrolled.credential();
  identity.server = address->ToString();
  identity.ca_pem = enrolled.ca_pem().empty() ? options.ca_pem : enrolled.ca_pem();
  identity.role = enrolled.role();
  identity.user_name = enrolled.user_name();
  identity.reference_prefix = enrolled.reference_prefix();
  OUTREACH_RETURN_IF_ERROR(store.SaveIdentity(identity));

  EnrolReport report;
  report.device_id = identity.device_id.ToString();
  report.hub_id = identity.hub_id.ToString();
  report.role = RoleName(identity.role);
  report.user_name = identity.user_name;
  report.reference_prefix = identity.reference_prefix;
  return report;
}

Result<SyncReport> Sync(Device& device, const SyncOptions& options, SyncProgressCallback callback) {
  client::LocalStore& store = StoreOf(device);
  Result<std::optional<client::DeviceIdentity>> identity = store.LoadIdentity();
  if (!identity.ok()) return identity.status();
  if (!identity->has_value()) {
    return Status::FailedPrecondition("this device is not enrolled yet: run `outreach enrol` with a code from the hub");
  }
  const client::DeviceIdentity& me = **identity;
  Result<client::ServerAddress> address = client::ServerAddress::Parse(me.server);
  if (!address.ok()) return address.status();
  const std::chrono::milliseconds timeout(options.timeout_ms);

  SyncProgress progress;
  Result<uint64_t> pending = store.PendingCount();
  if (!pending.ok()) return pending.status();
  progress.to_push = *pending;
  if (callback) callback(progress);

  client::SyncConnection connection;
  OUTREACH_RETURN_IF_ERROR(connection.Connect(*address, me.ca_pem, timeout));

  v1::Envelope hello;
  hello.mutable_hello()->set_protocol_version(v1::PROTOCOL_VERSION_1);
  hello.mutable_hello()->set_schema_version(kSchemaVersion);
  hello.mutable_hello()->set_device_id(me.device_id.raw());
  hello.mutable_hello()->set_credential(me.credential);
  // The raw device clock, so the server measures (and reports) the clock's true skew;
  // the HLC may run ahead of it once it has seen a skewed stamp.
  hello.mutable_hello()->set_device_hlc(Hlc::FromParts(RawPhysicalMs(store.clock()), 0).value());
  hello.mutable_hello()->set_client_version("liboutreach/0.1");
  OUTREACH_RETURN_IF_ERROR(connection.Send(hello, timeout));
  v1::Envelope reply;
  OUTREACH_RETURN_IF_ERROR(connection.Receive(&reply, timeout));
  if (reply.has_refusal()) return WipeIfTold(connection, store, client::RefusalStatus(reply.refusal()));
  if (!reply.has_welcome()) return Status::ProtocolError("server answered Hello with something other than Welcome");
  const v1::Welcome& welcome = reply.welcome();

  SyncReport report;
  report.clock_skew_ms = welcome.clock_skew_ms();
  // From now on stamp with the server's idea of time, so a tablet whose clock is wrong
  // stops producing stamps that are wrong.
  OUTREACH_RETURN_IF_ERROR(store.SetClockOffsetMs(welcome.server_time_ms() - RawPhysicalMs(store.clock())));
  (void)store.clock().Update(Hlc(welcome.server_hlc()));

  uint32_t batch = options.push_batch_size;
  if (welcome.max_push_changes() > 0 && welcome.max_push_changes() < batch) batch = welcome.max_push_changes();
  progress.phase = SyncProgress::Phase::kPushing;
  client::Pusher pusher(store, connection, timeout, batch == 0 ? 1 : batch);
  Status pushed = pusher.Run(&report, &progress, callback);
  if (!pushed.ok()) return WipeIfTold(connection, store, pushed);

  progress.phase = SyncProgress::Phase::kPulling;
  client::Puller puller(store, connection, timeout, options.pull_page_size == 0 ? 1 : options.pull_page_size);
  Status pulled = puller.Run(&report, &progress, callback);
  if (!pulled.ok()) return WipeIfTold(connection, store, pulled);

  connection.Close();
  progress.phase = SyncProgress::Phase::kDone;
  if (callback) callback(progress);
  return report;
}

}  // namespace outreach
