#include "common/frame.h"

#include <limits>

namespace outreach {

Result<std::string> EncodeFrame(const v1::Envelope& envelope, uint32_t max_frame_bytes) {
  const size_t size = envelope.ByteSizeLong();
  if (size > max_frame_bytes) {
    return Status(ErrorCode::kResourceExhausted,
                  "frame of " + std::to_string(size) + " bytes exceeds the limit of " +
                      std::to_string(max_frame_bytes) + " bytes");
  }
  std::string out(kFrameHeaderBytes + size, '\0');
  out[0] = static_cast<char>((size >> 24) & 0xFF);
  out[1] = static_cast<char>((size >> 16) & 0xFF);
  out[2] = static_cast<char>((size >> 8) & 0xFF);
  out[3] = static_cast<char>(size & 0xFF);
  if (!envelope.SerializeToArray(out.data() + kFrameHeaderBytes, static_cast<int>(size))) {
    return Status::Internal("could not serialise envelope");
  }
  return out;
}

Result<uint32_t> DecodeFrameLength(const uint8_t header[kFrameHeaderBytes], uint32_t max_frame_bytes) {
  const uint32_t length = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) |
                          (uint32_t{header[2]} << 8) | uint32_t{header[3]};
  if (length > max_frame_bytes) {
    return Status(ErrorCode::kResourceExhausted, "frame length " + std::to_string(length) +
                                                     " exceeds the limit of " + std::to_string(max_frame_bytes) +
                                                     " bytes");
  }
  return length;
}

Status DecodeFrameBody(std::string_view body, v1::Envelope* envelope) {
  if (body.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return Status(ErrorCode::kResourceExhausted, "frame body too large to decode");
  }
  if (!envelope->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Status::ProtocolError("frame of " + std::to_string(body.size()) +
                                 " bytes is not a valid Envelope");
  }
  return Status::Ok();
}

void FrameDecoder::Append(std::string_view bytes) {
  if (!failed_.ok()) return;
  // Drop what has been consumed before growing, so the buffer stays one frame large.
  if (consumed_ > 0) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes.data(), bytes.size());
}

Result<bool> FrameDecoder::Next(v1::Envelope* envelope) {
  if (!failed_.ok()) return failed_;
  const size_t available = buffer_.size() - consumed_;
  if (available < kFrameHeaderBytes) return false;
  const auto* header = reinterpret_cast<const uint8_t*>(buffer_.data() + consumed_);
  Result<uint32_t> length = DecodeFrameLength(header, max_frame_bytes_);
  if (!length.ok()) {
    failed_ = length.status();
    return failed_;
  }
  if (available < kFrameHeaderBytes + *length) return false;
  Status st = DecodeFrameBody(std::string_view(buffer_).substr(consumed_ + kFrameHeaderBytes, *length), envelope);
  if (!st.ok()) {
    failed_ = st;
    return failed_;
  }
  consumed_ += kFrameHeaderBytes + *length;
  return true;
}

Status FrameDecoder::Finish() const {
  if (!failed_.ok()) return failed_;
  const size_t left = buffer_.size() - consumed_;
  if (left == 0) return Status::Ok();
  return Status::DataLoss("stream ended inside a frame (" + std::to_string(left) + " bytes of a partial frame)");
}

}  // namespace outreach
