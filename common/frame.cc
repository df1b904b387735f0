#include "common/frame.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <limits>
#include <optional>
#include <utility>

#include "common/compression.h"

namespace outreach {

namespace {

// The most bytes a length-delimited field's tag and length take: two varints of at most
// 32 bits, five bytes each.
constexpr size_t kFieldPrefixBytes = 10;

// The 4-byte big-endian length of a frame body of `size` bytes, at `out`.
void WriteFrameHeader(size_t size, char* out) {
  out[0] = static_cast<char>((size >> 24) & 0xFF);
  out[1] = static_cast<char>((size >> 16) & 0xFF);
  out[2] = static_cast<char>((size >> 8) & 0xFF);
  out[3] = static_cast<char>(size & 0xFF);
}

Status CheckFrameSize(size_t size, uint32_t max_frame_bytes) {
  if (size <= max_frame_bytes) return Status::Ok();
  return Status(ErrorCode::kResourceExhausted, "frame of " + std::to_string(size) + " bytes exceeds the limit of " +
                                                   std::to_string(max_frame_bytes) + " bytes");
}

// A frame holding `envelope`, whose serialised size is `size` (at most the limit).
Result<std::string> PlainFrame(const v1::Envelope& envelope, size_t size) {
  std::string out(kFrameHeaderBytes + size, '\0');
  WriteFrameHeader(size, out.data());
  if (!envelope.SerializeToArray(out.data() + kFrameHeaderBytes, static_cast<int>(size))) {
    return Status::Internal("could not serialise envelope");
  }
  return out;
}

// The frame of an Envelope.compressed wrapping the serialised Envelope `plain`, packed
// with `compression`; nothing when that is not smaller than `plain` (which then travels
// as it is).
Result<std::optional<std::string>> CompressedFrame(std::string_view plain, v1::Compression compression) {
  Result<std::string> packed = Compress(compression, plain);
  if (!packed.ok()) return packed.status();
  v1::Envelope outer;
  v1::Compressed* compressed = outer.mutable_compressed();
  compressed->set_codec(compression);
  compressed->set_size(static_cast<uint32_t>(plain.size()));
  compressed->set_data(std::move(packed).value());
  const size_t outer_size = outer.ByteSizeLong();
  if (outer_size >= plain.size()) return std::optional<std::string>();
  Result<std::string> frame = PlainFrame(outer, outer_size);
  if (!frame.ok()) return frame.status();
  return std::optional<std::string>(std::move(frame).value());
}

// The messages that agree on compression, and so always travel plain; and the wrapper
// itself, which never nests.
bool MustTravelPlain(v1::Envelope::MessageCase message) {
  switch (message) {
    case v1::Envelope::kHello:
    case v1::Envelope::kWelcome:
    case v1::Envelope::kEnrol:
    case v1::Envelope::kEnrolled:
    case v1::Envelope::kCompressed: return true;
    default: return false;
  }
}

}  // namespace

Result<std::string> EncodeFrame(const v1::Envelope& envelope, uint32_t max_frame_bytes, v1::Compression compression) {
  const size_t size = envelope.ByteSizeLong();
  OUTREACH_RETURN_IF_ERROR(CheckFrameSize(size, max_frame_bytes));
  if (compression == v1::COMPRESSION_NONE || size < kCompressMinBytes || MustTravelPlain(envelope.message_case())) {
    return PlainFrame(envelope, size);
  }
  std::string plain;
  if (!envelope.SerializeToString(&plain)) return Status::Internal("could not serialise envelope");
  Result<std::optional<std::string>> compressed = CompressedFrame(plain, compression);
  if (!compressed.ok()) return compressed.status();
  // Data that does not compress travels as it is.
  if (!compressed->has_value()) return PlainFrame(envelope, size);
  return std::move(**compressed);
}

void AppendLengthDelimited(std::string* out, int field_number, std::string_view head, std::string_view tail) {
  using google::protobuf::internal::WireFormatLite;
  using google::protobuf::io::CodedOutputStream;
  uint8_t prefix[kFieldPrefixBytes];
  uint8_t* end = CodedOutputStream::WriteTagToArray(
      WireFormatLite::MakeTag(field_number, WireFormatLite::WIRETYPE_LENGTH_DELIMITED), prefix);
  end = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(head.size() + tail.size()), end);
  out->append(reinterpret_cast<const char*>(prefix), static_cast<size_t>(end - prefix));
  out->append(head);
  out->append(tail);
}

Result<std::string> EncodeChangesPageFrame(std::string_view changes_page, uint32_t max_frame_bytes,
                                           v1::Compression compression) {
  // The Envelope: its one field, changes_page, tag and length, then the page as it is.
  std::string frame(kFrameHeaderBytes, '\0');
  frame.reserve(kFrameHeaderBytes + kFieldPrefixBytes + changes_page.size());
  AppendLengthDelimited(&frame, v1::Envelope::kChangesPageFieldNumber, changes_page);
  const size_t size = frame.size() - kFrameHeaderBytes;
  OUTREACH_RETURN_IF_ERROR(CheckFrameSize(size, max_frame_bytes));
  WriteFrameHeader(size, frame.data());
  if (compression == v1::COMPRESSION_NONE || size < kCompressMinBytes) return frame;
  Result<std::optional<std::string>> compressed =
      CompressedFrame(std::string_view(frame).substr(kFrameHeaderBytes), compression);
  if (!compressed.ok()) return compressed.status();
  if (!compressed->has_value()) return frame;
  return std::move(**compressed);
}

Result<uint32_t> DecodeFrameLength(const uint8_t header[kFrameHeaderBytes], uint32_t max_frame_bytes) {
  const uint32_t length =
      (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) | (uint32_t{header[2]} << 8) | uint32_t{header[3]};
  if (length > max_frame_bytes) {
    return Status(ErrorCode::kResourceExhausted, "frame length " + std::to_string(length) + " exceeds the limit of " +
                                                     std::to_string(max_frame_bytes) + " bytes");
  }
  return length;
}

Status DecodeFrameBody(std::string_view body, v1::Envelope* envelope, uint32_t max_frame_bytes,
                       v1::Compression accepted) {
  if (body.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return Status(ErrorCode::kResourceExhausted, "frame body too large to decode");
  }
  if (!envelope->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Status::ProtocolError("frame of " + std::to_string(body.size()) + " bytes is not a valid Envelope");
  }
  if (!envelope->has_compressed()) return Status::Ok();

  const v1::Compressed& compressed = envelope->compressed();
  if (accepted == v1::COMPRESSION_NONE) {
    return Status(ErrorCode::kProtocolError, "a compressed frame, but no compression was agreed at hello",
                  "compressed");
  }
  if (compressed.codec() != accepted) {
    return Status(ErrorCode::kProtocolError,
                  "a frame compressed with " + CompressionName(compressed.codec()) + ", but " +
                      CompressionName(accepted) + " was agreed at hello",
                  "compressed.codec");
  }
  Result<std::string> plain = Decompress(accepted, compressed.data(), compressed.size(), max_frame_bytes);
  if (!plain.ok()) return plain.status();
  envelope->Clear();
  if (!envelope->ParseFromString(*plain)) {
    return Status(ErrorCode::kProtocolError,
                  "compressed frame of " + std::to_string(plain->size()) + " bytes is not a valid Envelope",
                  "compressed.data");
  }
  if (MustTravelPlain(envelope->message_case())) {
    const auto* field = v1::Envelope::descriptor()->FindFieldByNumber(envelope->message_case());
    return Status(ErrorCode::kProtocolError,
                  "a compressed frame may not carry " + (field != nullptr ? field->name() : std::string("that")),
                  "compressed.data");
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
  Status st = DecodeFrameBody(std::string_view(buffer_).substr(consumed_ + kFrameHeaderBytes, *length), envelope,
                              max_frame_bytes_, accepted_);
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
