// HostileDevice: an enrolled device whose app speaks the wire protocol itself, to send
// what liboutreach never would: links into another hub, another person's name, enum
// values the schema does not define, cursors past the end of the log. It is the
// attacker of docs/SECURITY.md's threat "a hostile or buggy app on an enrolled device".
//
// It uses the project's own TLS 1.3 context (ALPN outreach/1, the CA pinned) and frame
// codec through the server harness's TestPeer; every step has a deadline, so a server
// that stops answering fails the test instead of hanging it.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/uuid.h"
#include "outreach/v1/sync.pb.h"
#include "tests/support/server_harness.h"

namespace outreach::testing {

class HostileDevice {
 public:
  // Enrols over the wire with `code` and says hello on a connection of its own.
  static Result<std::unique_ptr<HostileDevice>> Enrol(uint16_t port, const std::string& ca_pem,
                                                      const std::string& code);

  const v1::Enrolled& enrolled() const { return enrolled_; }
  Uuid hub_id() const { return *Uuid::FromBytes(enrolled_.hub_id()); }

  // A new connection and hello (the Welcome, or the server's refusal as an error).
  Status Hello();

  // One batch; each change gets the next device sequence number.
  Result<v1::PushAck> Push(std::vector<v1::Change> changes);
  // One change; its result.
  Result<v1::ChangeResult> PushOne(v1::Change change);

  // What the server answers one Pull from `cursor` with: a ChangesPage or a Refusal.
  Result<v1::Envelope> PullReply(uint64_t cursor);
  // The whole hub log as this device receives it, from cursor 0 to the end.
  Result<std::vector<v1::Change>> PullAll();

  // An upsert of record `id` of `type` setting every set field of `body`, stamped now.
  static v1::Change Upsert(v1::RecordType type, const Uuid& id, const google::protobuf::Message& body);
  // An upsert setting only `fields` of `body` (by name), e.g. a state move.
  static v1::Change Edit(v1::RecordType type, const Uuid& id, const google::protobuf::Message& body,
                         const std::vector<std::string>& fields);

 private:
  HostileDevice(uint16_t port, std::string ca_pem) : port_(port), ca_pem_(std::move(ca_pem)) {}
  Result<v1::Envelope> Exchange(const v1::Envelope& request);

  uint16_t port_;
  std::string ca_pem_;
  v1::Enrolled enrolled_;
  std::unique_ptr<TestPeer> peer_;
  uint64_t next_seq_ = 1;
};

}  // namespace outreach::testing
