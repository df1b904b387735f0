// libFuzzer target: the frame decoder must never crash, hang or over-allocate on any
// byte stream, plain or compressed. Built with -DOUTREACH_FUZZ=ON (clang); its corpus
// also runs as a test.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "common/frame.h"

namespace {

constexpr uint32_t kLimit = 64 * 1024;

// Feeds `all` to a decoder in two pieces split by the first byte, to exercise partial
// frames. A decoded Envelope is never left compressed (a compressed frame never nests).
void Decode(std::string_view all, outreach::v1::Compression accepted) {
  outreach::FrameDecoder decoder(kLimit);
  decoder.set_compression(accepted);
  const size_t split = all.empty() ? 0 : static_cast<uint8_t>(all[0]) % (all.size() + 1);
  outreach::v1::Envelope envelope;
  for (std::string_view piece : {all.substr(0, split), all.substr(split)}) {
    decoder.Append(piece);
    while (true) {
      auto got = decoder.Next(&envelope);
      if (!got.ok() || !*got) break;
      if (envelope.has_compressed()) {
        std::fprintf(stderr, "decoded an envelope that is still compressed\n");
        std::abort();
      }
      envelope.Clear();
    }
  }
  (void)decoder.Finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  // Before any codec is agreed (a compressed frame must be refused), and after zstd was.
  Decode(all, outreach::v1::COMPRESSION_NONE);
  Decode(all, outreach::v1::COMPRESSION_ZSTD);
  return 0;
}
