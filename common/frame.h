// The frame codec: how Envelopes travel on a byte stream.
//
// A frame is a 4-byte big-endian length followed by that many bytes of one serialised
// outreach.v1.Envelope. The codec never trusts the length: a length above the limit is
// refused before a single byte of body is buffered, so a peer announcing 4 GiB costs us
// nothing. Truncated and undecodable input is a clear error, never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "outreach/v1/sync.pb.h"

namespace outreach {

inline constexpr size_t kFrameHeaderBytes = 4;
inline constexpr uint32_t kDefaultMaxFrameBytes = 8u << 20;  // 8 MiB

// Serialises `envelope` as one frame. Refuses (kResourceExhausted) a frame whose body
// would exceed `max_frame_bytes`.
Result<std::string> EncodeFrame(const v1::Envelope& envelope, uint32_t max_frame_bytes = kDefaultMaxFrameBytes);

// Reads the body length from a 4-byte header; refuses lengths above the limit.
Result<uint32_t> DecodeFrameLength(const uint8_t header[kFrameHeaderBytes],
                                   uint32_t max_frame_bytes = kDefaultMaxFrameBytes);

// Parses a frame body (without its header) into `envelope`.
Status DecodeFrameBody(std::string_view body, v1::Envelope* envelope);

// Decodes frames from a stream delivered in arbitrary pieces.
//
//   FrameDecoder d(limit);
//   d.Append(bytes);                  // as they arrive
//   while (true) { auto r = d.Next(&env); if (!r.ok()) fail; if (!*r) break; handle(env); }
//   d.Finish();                       // at end of stream: error if a frame was cut short
//
// After an error the decoder stays failed: the stream has lost its framing.
class FrameDecoder {
 public:
  explicit FrameDecoder(uint32_t max_frame_bytes = kDefaultMaxFrameBytes) : max_frame_bytes_(max_frame_bytes) {}

  // Buffers bytes. Never buffers more than one frame's header plus its (bounded) body
  // beyond what Next() has consumed, as long as Next() is called after each Append().
  void Append(std::string_view bytes);
  // Produces the next complete frame: true with `envelope` filled, false when more bytes
  // are needed, or an error (oversized length, undecodable body).
  Result<bool> Next(v1::Envelope* envelope);
  // At end of stream: ok if no partial frame is buffered.
  Status Finish() const;

  size_t buffered_bytes() const { return buffer_.size() - consumed_; }

 private:
  const uint32_t max_frame_bytes_;
  std::string buffer_;
  size_t consumed_ = 0;
  Status failed_;
};

}  // namespace outreach
