#include "server/net/session_registry.h"

#include <algorithm>

namespace outreach::server {

std::string PeerAddressKey(const boost::asio::ip::address& address) {
  if (address.is_v4()) return address.to_string();
  const boost::asio::ip::address_v6 v6 = address.to_v6();
  if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  boost::asio::ip::address_v6::bytes_type bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);  // the /64 prefix
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

SessionRegistry::Admission SessionRegistry::Admit(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  Admission admission;
  auto from = per_address_.find(address);
  admission.unwelcomed_from_address = from == per_address_.end() ? 0 : from->second;
  if (admission.unwelcomed_from_address >= limits_.max_unwelcomed_per_address) {
    admission.verdict = Verdict::kOverAddressCap;
    return admission;
  }
  if (unwelcomed_.size() >= limits_.max_unwelcomed && !unwelcomed_.empty()) {
    const uint64_t oldest = *unwelcomed_.begin();
    Entry& entry = entries_.at(oldest);
    admission.evicted = entry.session.lock();
    Uncount(oldest, entry);
  }
  admission.verdict = welcomed_ >= limits_.max_welcomed ? Verdict::kBusy : Verdict::kAdmit;
  admission.id = next_id_++;
  Entry entry;
  entry.address = address;
  entries_.emplace(admission.id, std::move(entry));
  unwelcomed_.insert(admission.id);
  ++per_address_[address];
  return admission;
}

void SessionRegistry::Attach(uint64_t id, std::weak_ptr<Session> session) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it != entries_.end()) it->second.session = std::move(session);
}

void SessionRegistry::Welcome(uint64_t id, const Uuid& device_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.welcomed) return;
  Uncount(id, it->second);
  it->second.welcomed = true;
  it->second.device_id = device_id;
  ++welcomed_;
}

void SessionRegistry::Remove(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Uncount(id, it->second);
  if (it->second.welcomed) --welcomed_;
  entries_.erase(it);
}

void SessionRegistry::Uncount(uint64_t id, Entry& entry) {
  if (!entry.counted || entry.welcomed) return;
  entry.counted = false;
  unwelcomed_.erase(id);
  auto it = per_address_.find(entry.address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

std::vector<std::shared_ptr<Session>> SessionRegistry::All() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<Session>> out;
  for (auto& [id, entry] : entries_) {
    if (auto session = entry.session.lock()) out.push_back(std::move(session));
  }
  return out;
}

std::vector<Uuid> SessionRegistry::ConnectedDevices() {
  std::lock_guard<std::mutex> lock(mu_);
  std::set<Uuid> devices;
  for (auto& [id, entry] : entries_) {
    if (entry.welcomed) devices.insert(entry.device_id);
  }
  return {devices.begin(), devices.end()};
}

std::vector<std::shared_ptr<Session>> SessionRegistry::SessionsOf(const std::set<Uuid>& devices) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<Session>> out;
  for (auto& [id, entry] : entries_) {
    if (!entry.welcomed || devices.count(entry.device_id) == 0) continue;
    if (auto session = entry.session.lock()) out.push_back(std::move(session));
  }
  return out;
}

SessionRegistry::Counts SessionRegistry::counts() {
  std::lock_guard<std::mutex> lock(mu_);
  return {welcomed_, unwelcomed_.size()};
}

}  // namespace outreach::server
