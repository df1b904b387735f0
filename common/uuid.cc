#include "common/uuid.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace outreach {
namespace {

void RandomBytes(uint8_t* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    // OpenSSL's CSPRNG failing is unrecoverable: an id must never be predictable or repeated.
    throw std::runtime_error("RAND_bytes failed: no randomness available for record ids");
  }
}

// The state behind monotonic ids: the last millisecond used and the counter within it.
struct V7State {
  std::mutex mu;
  int64_t last_ms = -1;
  uint16_t counter = 0;  // 12 bits used
};

V7State& State() {
  static V7State state;
  return state;
}

Uuid MakeV7(int64_t requested_ms) {
  uint8_t rnd[10];
  RandomBytes(rnd, sizeof rnd);
  int64_t ms;
  uint16_t counter;
  {
    V7State& s = State();
    std::lock_guard<std::mutex> lock(s.mu);
    if (requested_ms > s.last_ms) {
      s.last_ms = requested_ms;
      // Start the counter at a random value in the lower half so it has room to grow.
      s.counter = static_cast<uint16_t>(((rnd[8] << 8) | rnd[9]) & 0x07FF);
    } else if (s.counter < 0x0FFF) {
      ++s.counter;  // same (or earlier) millisecond: keep ordering by counting up
    } else {
      ++s.last_ms;  // counter exhausted: borrow the next millisecond
      s.counter = 0;
    }
    ms = s.last_ms;
    counter = s.counter;
  }
  Uuid::Bytes b{};
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(static_cast<uint64_t>(ms) >> (40 - 8 * i));
  b[6] = static_cast<uint8_t>(0x70 | ((counter >> 8) & 0x0F));
  b[7] = static_cast<uint8_t>(counter & 0xFF);
  std::memcpy(&b[8], rnd, 8);
  b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3F));  // RFC 9562 variant
  return Uuid(b);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Uuid Uuid::NewV7() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return MakeV7(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

Uuid Uuid::NewV7At(int64_t unix_ms) {
  return MakeV7(unix_ms);
}

Uuid Uuid::Derive(std::string_view space, std::string_view name) {
  // SHA-256 over (length of space, space, name): the length prefix removes ambiguity.
  const uint64_t space_len = space.size();
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, &space_len, sizeof space_len) == 1 &&
            EVP_DigestUpdate(ctx, space.data(), space.size()) == 1 &&
            EVP_DigestUpdate(ctx, name.data(), name.size()) == 1 && EVP_DigestFinal_ex(ctx, digest, &digest_len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("SHA-256 unavailable: cannot derive a record id");
  Bytes b{};
  std::memcpy(b.data(), digest, kSize);
  b[6] = static_cast<uint8_t>(0x80 | (b[6] & 0x0F));  // version 8
  b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3F));
  return Uuid(b);
}

Uuid Uuid::DeriveRegisterRow(std::string_view space, std::string_view session, std::string_view participant) {
  std::string name;
  name.reserve(session.size() + participant.size());
  name.append(session).append(participant);
  Uuid id = Derive(space, name);
  if (session.size() == kSize && (static_cast<uint8_t>(session[6]) >> 4) == 7) {
    std::memcpy(id.bytes_.data(), session.data(), 6);  // unix_ts_ms of the session's UUIDv7
  }
  return id;
}

Result<Uuid> Uuid::Parse(std::string_view text) {
  Bytes b{};
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '-') continue;
    int v = HexValue(c);
    if (v < 0 || n >= 2 * kSize) {
      return Status::InvalidArgument("id", "'" + std::string(text) + "' is not a UUID");
    }
    b[n / 2] = static_cast<uint8_t>(b[n / 2] | (n % 2 == 0 ? v << 4 : v));
    ++n;
  }
  if (n != 2 * kSize) return Status::InvalidArgument("id", "'" + std::string(text) + "' is not a UUID");
  return Uuid(b);
}

Result<Uuid> Uuid::FromBytes(std::string_view raw) {
  if (raw.size() != kSize) {
    return Status::InvalidArgument("id", "expected 16 bytes, got " + std::to_string(raw.size()));
  }
  Bytes b{};
  std::memcpy(b.data(), raw.data(), kSize);
  return Uuid(b);
}

bool Uuid::is_nil() const {
  for (uint8_t x : bytes_)
    if (x != 0) return false;
  return true;
}

int64_t Uuid::unix_ms() const {
  if (version() != 7) return 0;
  int64_t ms = 0;
  for (int i = 0; i < 6; ++i) ms = (ms << 8) | bytes_[i];
  return ms;
}

std::string Uuid::ToString() const {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < kSize; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes_[i] >> 4]);
    out.push_back(kHex[bytes_[i] & 0x0F]);
  }
  return out;
}

}  // namespace outreach
