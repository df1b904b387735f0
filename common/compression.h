// Frame compression: the codecs a device and the server may agree at hello
// (Hello.compression, Welcome.compression; docs/PROTOCOL.md §2).
//
// Memory: each thread that compresses or decompresses keeps one Zstandard context of
// its own (thread_local, created on first use, freed when the thread ends), so the cost
// follows the number of threads, never the number of connections: an idle connection
// holds no compressor state. A compression context keeps the tables of the largest
// frame it has compressed (measured: 0.38 MB after a 1,000-change page of 86 KB, 0.58 MB
// after an 8 MiB frame); a decompression context is about 96 KB. The server compresses
// and decompresses on its io threads (2 by default): a few MB in all.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "outreach/v1/sync.pb.h"

namespace outreach {

// "COMPRESSION_ZSTD", or "codec 7" for a number this build does not know.
std::string CompressionName(int codec);

// True for the codecs this build can encode and decode (COMPRESSION_NONE included).
bool CompressionSupported(v1::Compression codec);

// The first codec of `offered` (a Hello's list, in the device's order of preference)
// that this build supports; COMPRESSION_NONE when there is none.
v1::Compression ChooseCompression(const google::protobuf::RepeatedField<int>& offered);

// Compresses `input` with `codec` (not NONE). Errors only on a bug (kInternal).
Result<std::string> Compress(v1::Compression codec, std::string_view input);

// Decompresses `data`, which must expand to exactly `size` bytes. `size` is checked
// against `max_size` before any memory is allocated for the output (kResourceExhausted,
// field "compressed.size"), and the decoder writes into a buffer of exactly `size`
// bytes, so data that would expand further is refused, never followed: a zip bomb costs
// at most `max_size`. Corrupt or truncated data, a content size in the data that
// disagrees with `size`, or an unknown codec are kProtocolError naming the field.
Result<std::string> Decompress(v1::Compression codec, std::string_view data, uint32_t size, uint32_t max_size);

}  // namespace outreach
