// SessionRegistry: the live sessions of one server and the counts its connection limits
// are checked against.
//
// A connection is "unwelcomed" from its accept until its Welcome (an enrolment, a busy
// refusal and a refused hello stay unwelcomed until they close), and "welcomed" after
// it. The limits:
// - at most `max_unwelcomed_per_address` unwelcomed connections per peer address: one
//   more is refused (closed before any TLS handshake);
// - at most `max_unwelcomed` in all: one more makes room by evicting the oldest
//   unwelcomed connection, so silent connections from many addresses cannot lock out the
//   devices that come to say hello (each holds its place for a handshake and one
//   exchange, a silent one for up to the hello timeout);
// - welcomed connections (devices) up to `max_welcomed`: a connection accepted at or
//   over it is told SERVER_BUSY after its handshake. Unwelcomed ones never count
//   against it, so silent connections cannot make the server busy for devices.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/asio.h"
#include "common/uuid.h"

namespace outreach::server {

class Session;

// The address the caps and the enrolment throttle count a peer by: an IPv4 address as
// it is (an IPv4-mapped IPv6 one as its IPv4 address), an IPv6 address by its /64
// ("2001:db8:1:2::/64"), since one subscriber or host is given a whole /64 and could
// otherwise take a fresh address for every connection.
std::string PeerAddressKey(const boost::asio::ip::address& address);

class SessionRegistry {
 public:
  struct Limits {
    size_t max_welcomed = 256;
    size_t max_unwelcomed = 64;
    size_t max_unwelcomed_per_address = 8;
  };
  explicit SessionRegistry(Limits limits) : limits_(limits) {}

  enum class Verdict {
    kAdmit,           // serve it
    kBusy,            // serve it a SERVER_BUSY refusal (it holds an unwelcomed place meanwhile)
    kOverAddressCap,  // close it at once; nothing was registered
  };
  struct Admission {
    Verdict verdict = Verdict::kAdmit;
    uint64_t id = 0;  // the registered id, unless kOverAddressCap
    // The oldest unwelcomed connection, evicted to make room: the caller closes it
    // (it no longer counts). May be null.
    std::shared_ptr<Session> evicted;
    size_t unwelcomed_from_address = 0;  // before this one
  };
  // A new connection from `address` (PeerAddressKey of the peer). On admission, Attach() its session.
  Admission Admit(const std::string& address);
  void Attach(uint64_t id, std::weak_ptr<Session> session);
  // The session said hello and was welcomed as `device_id`.
  void Welcome(uint64_t id, const Uuid& device_id);
  // The session is gone (its destructor).
  void Remove(uint64_t id);

  std::vector<std::shared_ptr<Session>> All();
  // The distinct devices of the welcomed sessions.
  std::vector<Uuid> ConnectedDevices();
  // The welcomed sessions of these devices.
  std::vector<std::shared_ptr<Session>> SessionsOf(const std::set<Uuid>& devices);

  struct Counts {
    size_t welcomed = 0;
    size_t unwelcomed = 0;
  };
  Counts counts();

 private:
  struct Entry {
    std::weak_ptr<Session> session;
    std::string address;
    bool welcomed = false;
    bool counted = true;  // an unwelcomed entry not evicted: counts against the caps
    Uuid device_id;
  };
  void Uncount(uint64_t id, Entry& entry);  // with mu_ held

  const Limits limits_;
  std::mutex mu_;
  uint64_t next_id_ = 1;                                 // guarded by mu_
  std::unordered_map<uint64_t, Entry> entries_;          // guarded by mu_
  std::set<uint64_t> unwelcomed_;                        // counted ids, oldest first; guarded by mu_
  std::unordered_map<std::string, size_t> per_address_;  // counted, by address; guarded by mu_
  size_t welcomed_ = 0;                                  // guarded by mu_
};

}  // namespace outreach::server
