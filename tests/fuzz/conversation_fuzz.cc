// libFuzzer target: the server's handling of a decoded message sequence. The input is a
// byte stream of frames; each decoded Envelope goes through server/net's Conversation
// (the order rules) into the real SyncService on a SQLite store in a temporary
// directory, as a session would hand them over, until the conversation closes. A Hello
// whose credential is empty gets the credential of a device enrolled at start-up, so
// the fuzzer reaches Push and Pull. Nothing may crash, hang or throw; every reply must
// be a well-formed server message.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/frame.h"
#include "server/net/conversation.h"
#include "server/service/administration.h"
#include "server/service/sync_service.h"
#include "server/store/sqlite_store.h"

namespace {

using namespace outreach;

struct Fixture {
  std::string dir;
  std::unique_ptr<server::SyncService> service;
  v1::Enrolled device;
};

std::string& FixtureDir() {
  static std::string dir;
  return dir;
}

void RemoveFixtureDir() {
  std::error_code ec;
  std::filesystem::remove_all(FixtureDir(), ec);
}

// One store and one enrolled adviser device for the whole run.
Fixture& GetFixture() {
  static Fixture* fixture = [] {
    auto* f = new Fixture;
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/outreach-conversation-fuzz-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    f->dir = pattern;
    FixtureDir() = pattern;
    std::atexit(RemoveFixtureDir);
    auto store = server::SqliteStore::Open(f->dir + "/store.db");
    if (!store.ok()) std::abort();
    f->service = std::make_unique<server::SyncService>(std::move(store).value(), "fuzz CA");
    server::Administration admin(f->service->store());
    Result<Uuid> hub = admin.AddHub("Fuzz hub");
    if (!hub.ok()) std::abort();
    Result<std::string> code = admin.IssueEnrolmentCode(*hub, v1::ROLE_ADVISER, "Fuzz Adviser");
    if (!code.ok()) std::abort();
    v1::Enrol enrol;
    enrol.set_code(*code);
    v1::Refusal refusal;
    Result<v1::Enrolled> enrolled = f->service->Enrol(enrol, &refusal);
    if (!enrolled.ok()) std::abort();
    f->device = *enrolled;
    return f;
  }();
  return *fixture;
}

bool IsServerMessage(const v1::Envelope& e) {
  switch (e.message_case()) {
    case v1::Envelope::kWelcome:
    case v1::Envelope::kRefusal:
    case v1::Envelope::kPushAck:
    case v1::Envelope::kChangesPage:
    case v1::Envelope::kEnrolled: return true;
    default: return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = GetFixture();
  server::Conversation conversation(*f.service, 64 * 1024);
  FrameDecoder decoder(64 * 1024);
  decoder.Append(std::string_view(reinterpret_cast<const char*>(data), size));
  v1::Envelope request;
  for (int handled = 0; handled < 64; ++handled) {
    request.Clear();
    Result<bool> next = decoder.Next(&request);
    if (!next.ok() || !*next) break;
    if (request.has_hello() && request.hello().credential().empty()) {
      request.mutable_hello()->set_device_id(f.device.device_id());
      request.mutable_hello()->set_credential(f.device.credential());
    }
    const server::Conversation::Reply reply = conversation.Handle(request);
    const v1::Envelope sent = reply.Sent();  // a pull page parsed, as the device reads it
    if (!IsServerMessage(sent)) {
      std::fprintf(stderr, "reply is not a server message: %s\n", sent.ShortDebugString().c_str());
      std::abort();
    }
    if (sent.has_refusal() && !reply.close) {
      std::fprintf(stderr, "a refusal that keeps the conversation open: %s\n", sent.ShortDebugString().c_str());
      std::abort();
    }
    if (sent.has_refusal() && sent.refusal().reason() == v1::REFUSAL_REASON_INTERNAL_ERROR) {
      std::fprintf(stderr, "internal error on fuzzed input: %s\n", sent.ShortDebugString().c_str());
      std::abort();
    }
    if (reply.close) break;
    // As a session does: frames after the Welcome may be compressed with the agreed codec.
    decoder.set_compression(conversation.compression());
  }
  return 0;
}
