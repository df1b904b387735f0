// libFuzzer target: the frame decoder must never crash, hang or over-allocate on any
// byte stream. Built with -DOUTREACH_FUZZ=ON (clang); its corpus also runs as a test.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  outreach::FrameDecoder decoder(64 * 1024);
  // Feed in two pieces split by the first byte, to exercise partial frames.
  const size_t split = size > 0 ? data[0] % (size + 1) : 0;
  std::string_view all(reinterpret_cast<const char*>(data), size);
  outreach::v1::Envelope envelope;
  for (std::string_view piece : {all.substr(0, split), all.substr(split)}) {
    decoder.Append(piece);
    while (true) {
      auto got = decoder.Next(&envelope);
      if (!got.ok() || !*got) break;
      envelope.Clear();
    }
  }
  (void)decoder.Finish();
  return 0;
}
