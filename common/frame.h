// The frame codec: how Envelopes travel on a byte stream.
//
// A frame is a 4-byte big-endian length followed by that many bytes of one serialised
// outreach.v1.Envelope. The codec never trusts the length: a length above the limit is
// refused before a single byte of body is buffered, so a peer announcing 4 GiB costs us
// nothing. Truncated and undecodable input is a clear error, never a crash.
//
// Compression (docs/PROTOCOL.md §2): once the Welcome agreed a codec, a frame's Envelope
// may be an `Envelope.compressed` wrapping another, compressed Envelope. The frame limit
// bounds both the bytes on the wire and the decompressed Envelope; the decompressed size
// is checked before anything is allocated for it. The negotiation messages (Hello,
// Welcome, Enrol, Enrolled) always travel plain, and a compressed Envelope never wraps
// another.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "outreach/v1/sync.pb.h"

namespace outreach {

inline constexpr size_t kFrameHeaderBytes = 4;
inline constexpr uint32_t kDefaultMaxFrameBytes = 8u << 20;  // 8 MiB
// With a codec agreed, an Envelope is compressed only from this size on (below it the
// codec's own header eats most of the gain), and only when that makes the frame smaller.
inline constexpr size_t kCompressMinBytes = 256;

// Serialises `envelope` as one frame, compressed with `compression` when that is not
// COMPRESSION_NONE and the rules above allow. Refuses (kResourceExhausted) an Envelope
// whose serialised size exceeds `max_frame_bytes`, compressed or not.
Result<std::string> EncodeFrame(const v1::Envelope& envelope, uint32_t max_frame_bytes = kDefaultMaxFrameBytes,
                                v1::Compression compression = v1::COMPRESSION_NONE);

// Appends to `out` protobuf's wire form of length-delimited field `field_number` (a
// message or bytes field) whose bytes are `head` followed by `tail`.
void AppendLengthDelimited(std::string* out, int field_number, std::string_view head, std::string_view tail = {});

// The frame EncodeFrame makes of an Envelope holding the ChangesPage whose serialised
// bytes are `changes_page`, made without parsing them (a pull page's changes go out as
// the store holds them: SyncService::PullEncoded).
Result<std::string> EncodeChangesPageFrame(std::string_view changes_page,
                                           uint32_t max_frame_bytes = kDefaultMaxFrameBytes,
                                           v1::Compression compression = v1::COMPRESSION_NONE);

// Reads the body length from a 4-byte header; refuses lengths above the limit.
Result<uint32_t> DecodeFrameLength(const uint8_t header[kFrameHeaderBytes],
                                   uint32_t max_frame_bytes = kDefaultMaxFrameBytes);

// Parses a frame body (without its header) into `envelope`, decompressing it when it is
// compressed with `accepted` (the codec agreed at hello). A compressed frame is refused
// when no codec was agreed (COMPRESSION_NONE) or another codec was used
// (kProtocolError), when it expands beyond `max_frame_bytes` (kResourceExhausted, before
// allocating), when its data is corrupt, or when it wraps a negotiation message or
// another compressed Envelope (kProtocolError). Errors name the field.
Status DecodeFrameBody(std::string_view body, v1::Envelope* envelope, uint32_t max_frame_bytes = kDefaultMaxFrameBytes,
                       v1::Compression accepted = v1::COMPRESSION_NONE);

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

  // The codec agreed at hello: frames decoded from now on may be compressed with it.
  void set_compression(v1::Compression accepted) { accepted_ = accepted; }

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
  v1::Compression accepted_ = v1::COMPRESSION_NONE;
  std::string buffer_;
  size_t consumed_ = 0;
  Status failed_;
};

}  // namespace outreach
