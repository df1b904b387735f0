#include "common/frame.h"

#include <gtest/gtest.h>

#include <zstd.h>

#include <random>

#include "common/compression.h"

namespace outreach {
namespace {

v1::Envelope SamplePush(int changes) {
  v1::Envelope env;
  auto* push = env.mutable_push();
  push->set_batch_id(7);
  for (int i = 0; i < changes; ++i) {
    auto* c = push->add_changes();
    c->set_record_id(std::string(16, static_cast<char>(i)));
    c->set_type(v1::RECORD_TYPE_PARTICIPANT);
    c->set_hlc(1000 + i);
    c->set_device_seq(i + 1);
    auto* f = c->add_fields();
    f->set_field(6);
    f->set_value(
        "\x32\x0b"
        "07700900123");
  }
  return env;
}

TEST(FrameTest, RoundTrip) {
  v1::Envelope env = SamplePush(3);
  Result<std::string> frame = EncodeFrame(env);
  ASSERT_TRUE(frame.ok());
  FrameDecoder decoder;
  decoder.Append(*frame);
  v1::Envelope out;
  Result<bool> got = decoder.Next(&out);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(*got);
  EXPECT_EQ(out.SerializeAsString(), env.SerializeAsString());
  EXPECT_FALSE(*decoder.Next(&out));
  EXPECT_TRUE(decoder.Finish().ok());
}

TEST(FrameTest, ByteAtATimeAndSeveralFramesInOneRead) {
  std::string stream;
  for (int i = 1; i <= 4; ++i) stream += EncodeFrame(SamplePush(i)).value();
  FrameDecoder decoder;
  int frames = 0;
  v1::Envelope out;
  for (char c : stream) {
    decoder.Append(std::string_view(&c, 1));
    while (true) {
      Result<bool> got = decoder.Next(&out);
      ASSERT_TRUE(got.ok());
      if (!*got) break;
      ++frames;
      EXPECT_EQ(out.push().changes_size(), frames);
    }
  }
  EXPECT_EQ(frames, 4);
  EXPECT_TRUE(decoder.Finish().ok());
}

TEST(FrameTest, TruncatedAtEveryOffsetIsReportedNotDecoded) {
  const std::string frame = EncodeFrame(SamplePush(5)).value();
  for (size_t cut = 1; cut < frame.size(); ++cut) {
    FrameDecoder decoder;
    decoder.Append(std::string_view(frame).substr(0, cut));
    v1::Envelope out;
    Result<bool> got = decoder.Next(&out);
    ASSERT_TRUE(got.ok()) << "cut at " << cut;
    EXPECT_FALSE(*got) << "cut at " << cut;
    Status end = decoder.Finish();
    EXPECT_FALSE(end.ok()) << "cut at " << cut;
    EXPECT_EQ(end.code(), ErrorCode::kDataLoss);
  }
}

TEST(FrameTest, FourGibLengthRefusedWithoutAllocating) {
  const uint8_t header[4] = {0xFF, 0xFF, 0xFF, 0xFF};
  Result<uint32_t> len = DecodeFrameLength(header);
  ASSERT_FALSE(len.ok());
  EXPECT_EQ(len.status().code(), ErrorCode::kResourceExhausted);

  FrameDecoder decoder(1024);
  decoder.Append(std::string_view(reinterpret_cast<const char*>(header), 4));
  v1::Envelope out;
  Result<bool> got = decoder.Next(&out);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_LE(decoder.buffered_bytes(), 4u);  // nothing beyond the header was held
  // The decoder stays failed.
  decoder.Append("more bytes");
  EXPECT_FALSE(decoder.Next(&out).ok());
}

TEST(FrameTest, EncodeRefusesOversizedEnvelope) {
  v1::Envelope env = SamplePush(100);
  Result<std::string> frame = EncodeFrame(env, 64);
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.status().code(), ErrorCode::kResourceExhausted);
}

TEST(FrameTest, UndecodableBodyIsAProtocolError) {
  // A valid length, then bytes that are not an Envelope (field 0 / bad wire type).
  std::string frame = std::string("\x00\x00\x00\x03", 4) + std::string("\x07\xff\xff", 3);
  FrameDecoder decoder;
  decoder.Append(frame);
  v1::Envelope out;
  Result<bool> got = decoder.Next(&out);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kProtocolError);
}

TEST(FrameTest, RandomGarbageNeverCrashesOrOverAllocates) {
  std::mt19937 rng(12345);
  int errors = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string junk(rng() % 200, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    FrameDecoder decoder(4096);
    decoder.Append(junk);
    v1::Envelope out;
    while (true) {
      Result<bool> got = decoder.Next(&out);
      if (!got.ok()) {
        ++errors;
        break;
      }
      if (!*got) break;
    }
    EXPECT_LE(decoder.buffered_bytes(), junk.size());
  }
  EXPECT_GT(errors, 0);
}

// ---------------------------------------------------------------- compression

// An Envelope wrapping `data` as compressed with `codec`, said to expand to `size` bytes.
v1::Envelope CompressedEnvelope(v1::Compression codec, uint32_t size, std::string data) {
  v1::Envelope env;
  env.mutable_compressed()->set_codec(codec);
  env.mutable_compressed()->set_size(size);
  env.mutable_compressed()->set_data(std::move(data));
  return env;
}

// `env` compressed as a peer would, whatever its message.
v1::Envelope Wrapped(const v1::Envelope& env) {
  const std::string plain = env.SerializeAsString();
  return CompressedEnvelope(v1::COMPRESSION_ZSTD, static_cast<uint32_t>(plain.size()),
                            Compress(v1::COMPRESSION_ZSTD, plain).value());
}

std::string Body(const std::string& frame) {
  return frame.substr(kFrameHeaderBytes);
}

Status DecodeZstd(const std::string& frame, v1::Envelope* out, uint32_t max = kDefaultMaxFrameBytes) {
  return DecodeFrameBody(Body(frame), out, max, v1::COMPRESSION_ZSTD);
}

TEST(FrameCompressionTest, RoundTripIsSmallerAndIdentical) {
  const v1::Envelope env = SamplePush(500);
  const std::string plain = EncodeFrame(env).value();
  Result<std::string> frame = EncodeFrame(env, kDefaultMaxFrameBytes, v1::COMPRESSION_ZSTD);
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  EXPECT_LT(frame->size() * 4, plain.size()) << "a 500-change push should compress at least 4x";

  // One frame, and the same Envelope once decoded.
  v1::Envelope outer;
  ASSERT_TRUE(DecodeFrameBody(Body(*frame), &outer, kDefaultMaxFrameBytes, v1::COMPRESSION_NONE).code() ==
              ErrorCode::kProtocolError);
  v1::Envelope out;
  Status st = DecodeZstd(*frame, &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(out.SerializeAsString(), env.SerializeAsString());

  // Through the stream decoder, byte by byte, between plain frames.
  const std::string stream = EncodeFrame(SamplePush(1)).value() + *frame + EncodeFrame(SamplePush(2)).value();
  FrameDecoder decoder;
  decoder.set_compression(v1::COMPRESSION_ZSTD);
  std::vector<int> sizes;
  for (char c : stream) {
    decoder.Append(std::string_view(&c, 1));
    while (true) {
      Result<bool> got = decoder.Next(&out);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      if (!*got) break;
      sizes.push_back(out.push().changes_size());
    }
  }
  EXPECT_EQ(sizes, (std::vector<int>{1, 500, 2}));
  EXPECT_TRUE(decoder.Finish().ok());
}

TEST(FrameCompressionTest, SmallFramesNegotiationAndIncompressibleDataTravelPlain) {
  // Below kCompressMinBytes.
  const v1::Envelope small = SamplePush(1);
  ASSERT_LT(small.ByteSizeLong(), kCompressMinBytes);
  EXPECT_EQ(EncodeFrame(small, kDefaultMaxFrameBytes, v1::COMPRESSION_ZSTD).value(), EncodeFrame(small).value());

  // Hello and Welcome agree on the codec, so they are never compressed, however large.
  v1::Envelope hello;
  hello.mutable_hello()->set_client_version(std::string(4096, 'a'));
  EXPECT_EQ(EncodeFrame(hello, kDefaultMaxFrameBytes, v1::COMPRESSION_ZSTD).value(), EncodeFrame(hello).value());
  v1::Envelope welcome;
  welcome.mutable_welcome()->set_user_name(std::string(4096, 'b'));
  EXPECT_EQ(EncodeFrame(welcome, kDefaultMaxFrameBytes, v1::COMPRESSION_ZSTD).value(), EncodeFrame(welcome).value());

  // Random bytes do not compress: the frame goes as it is rather than grow.
  std::mt19937 rng(7);
  std::string noise(2000, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  v1::Envelope push = SamplePush(1);
  push.mutable_push()->mutable_changes(0)->mutable_fields(0)->set_value(noise);
  EXPECT_EQ(EncodeFrame(push, kDefaultMaxFrameBytes, v1::COMPRESSION_ZSTD).value(), EncodeFrame(push).value());
}

// A pull page sent from its serialised bytes (the server's pull) is the frame of the
// Envelope holding it: plain, compressed, empty, and refused over the limit.
TEST(FrameTest, ChangesPageFrameIsTheFrameOfTheEnvelopeHoldingThePage) {
  v1::Envelope env;
  v1::ChangesPage* page = env.mutable_changes_page();
  *page->mutable_changes() = SamplePush(300).push().changes();
  page->set_next_cursor(1234567);
  page->set_more(true);
  const std::string bytes = page->SerializeAsString();
  for (v1::Compression codec : {v1::COMPRESSION_NONE, v1::COMPRESSION_ZSTD}) {
    Result<std::string> frame = EncodeChangesPageFrame(bytes, kDefaultMaxFrameBytes, codec);
    ASSERT_TRUE(frame.ok()) << frame.status().ToString();
    EXPECT_EQ(frame->size(), EncodeFrame(env, kDefaultMaxFrameBytes, codec)->size()) << codec;
    v1::Envelope out;
    Status st = DecodeFrameBody(Body(*frame), &out, kDefaultMaxFrameBytes, codec);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(out.SerializeAsString(), env.SerializeAsString()) << codec;
  }
  // An empty page (nothing new, cursor 0) is still a page.
  v1::Envelope empty;
  empty.mutable_changes_page();
  EXPECT_EQ(EncodeChangesPageFrame("", kDefaultMaxFrameBytes, v1::COMPRESSION_ZSTD).value(),
            EncodeFrame(empty).value());
  Result<std::string> over = EncodeChangesPageFrame(bytes, static_cast<uint32_t>(bytes.size()));
  EXPECT_EQ(over.status().code(), ErrorCode::kResourceExhausted);
}

TEST(FrameCompressionTest, CompressedFrameIsRefusedUnlessThatCodecWasAgreed) {
  const std::string frame = EncodeFrame(SamplePush(100), kDefaultMaxFrameBytes, v1::COMPRESSION_ZSTD).value();
  v1::Envelope out;
  Status none = DecodeFrameBody(Body(frame), &out);
  EXPECT_EQ(none.code(), ErrorCode::kProtocolError);
  EXPECT_EQ(none.field(), "compressed");
  EXPECT_NE(none.message().find("no compression was agreed"), std::string::npos) << none.message();

  // The stream decoder before set_compression, as a server reading frames before its Welcome.
  FrameDecoder decoder;
  decoder.Append(frame);
  Result<bool> got = decoder.Next(&out);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kProtocolError);

  // A codec other than the one agreed (here one nobody knows).
  v1::Envelope other = Wrapped(SamplePush(100));
  other.mutable_compressed()->set_codec(static_cast<v1::Compression>(7));
  Status wrong = DecodeZstd(EncodeFrame(other).value(), &out);
  EXPECT_EQ(wrong.code(), ErrorCode::kProtocolError);
  EXPECT_EQ(wrong.field(), "compressed.codec");
  EXPECT_NE(wrong.message().find("codec 7"), std::string::npos) << wrong.message();
}

TEST(FrameCompressionTest, ZipBombIsRefusedBeforeItIsExpanded) {
  // 16 MiB of zeros compress to a few hundred bytes: a small frame announcing twice the
  // 8 MiB limit.
  const std::string zeros(16u << 20, '\0');
  std::string bomb = Compress(v1::COMPRESSION_ZSTD, zeros).value();
  ASSERT_LT(bomb.size(), 64u * 1024);
  v1::Envelope out;

  // Announced honestly: refused on the announced size, nothing allocated for it.
  Status big = DecodeZstd(EncodeFrame(CompressedEnvelope(v1::COMPRESSION_ZSTD, 16u << 20, bomb)).value(), &out);
  EXPECT_EQ(big.code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(big.field(), "compressed.size");
  // 4 GiB - 1 announced: refused the same way (allocating it would fail the test run).
  Status huge = DecodeZstd(EncodeFrame(CompressedEnvelope(v1::COMPRESSION_ZSTD, 0xFFFFFFFFu, bomb)).value(), &out);
  EXPECT_EQ(huge.code(), ErrorCode::kResourceExhausted);

  // Announced as small, but the data's own header says 16 MiB: refused before decoding.
  Status lying = DecodeZstd(EncodeFrame(CompressedEnvelope(v1::COMPRESSION_ZSTD, 100, bomb)).value(), &out);
  EXPECT_EQ(lying.code(), ErrorCode::kProtocolError);
  EXPECT_EQ(lying.field(), "compressed.data");

  // A Zstandard frame that does not state its size at all: refused.
  std::string unsized(ZSTD_compressBound(zeros.size()), '\0');
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  ZSTD_outBuffer dst{unsized.data(), unsized.size(), 0};
  ZSTD_inBuffer src{zeros.data(), zeros.size(), 0};
  ASSERT_EQ(ZSTD_compressStream2(cctx, &dst, &src, ZSTD_e_end), 0u);
  ZSTD_freeCCtx(cctx);
  unsized.resize(dst.pos);
  Status no_size = DecodeZstd(EncodeFrame(CompressedEnvelope(v1::COMPRESSION_ZSTD, 100, unsized)).value(), &out);
  EXPECT_EQ(no_size.code(), ErrorCode::kProtocolError);
  EXPECT_NE(no_size.message().find("does not state"), std::string::npos) << no_size.message();

  // A truthful small first frame followed by the bomb: decoding stops at the announced
  // size instead of following the data.
  const std::string envelope = SamplePush(3).SerializeAsString();
  std::string chained = Compress(v1::COMPRESSION_ZSTD, envelope).value() + bomb;
  Status tail = DecodeZstd(
      EncodeFrame(CompressedEnvelope(v1::COMPRESSION_ZSTD, static_cast<uint32_t>(envelope.size()), chained)).value(),
      &out);
  EXPECT_EQ(tail.code(), ErrorCode::kProtocolError);
  EXPECT_EQ(tail.field(), "compressed.data");
}

TEST(FrameCompressionTest, TheFrameLimitBoundsTheDecompressedEnvelope) {
  // About 60 KB of Envelope that compresses to a few KB: within a 16 KB limit on the
  // wire, over it once expanded.
  const v1::Envelope env = SamplePush(1000);
  ASSERT_GT(env.ByteSizeLong(), 16u * 1024);
  const std::string frame = EncodeFrame(env, kDefaultMaxFrameBytes, v1::COMPRESSION_ZSTD).value();
  ASSERT_LT(frame.size(), 16u * 1024);
  FrameDecoder decoder(16 * 1024);
  decoder.set_compression(v1::COMPRESSION_ZSTD);
  decoder.Append(frame);
  v1::Envelope out;
  Result<bool> got = decoder.Next(&out);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(got.status().field(), "compressed.size");
  // And the encoder refuses to make it: the limit is on the Envelope, compressed or not.
  Result<std::string> encoded = EncodeFrame(env, 16 * 1024, v1::COMPRESSION_ZSTD);
  ASSERT_FALSE(encoded.ok());
  EXPECT_EQ(encoded.status().code(), ErrorCode::kResourceExhausted);
}

TEST(FrameCompressionTest, CorruptOrTruncatedCompressedDataIsRefusedWithAClearStatus) {
  const v1::Envelope env = SamplePush(200);
  const v1::Envelope good = Wrapped(env);
  const std::string& data = good.compressed().data();
  v1::Envelope out;
  ASSERT_TRUE(DecodeZstd(EncodeFrame(good).value(), &out).ok());

  // Every single flipped byte (header, blocks, checksum) is refused, never decoded as
  // something else.
  for (size_t at = 0; at < data.size(); ++at) {
    v1::Envelope bad = good;
    (*bad.mutable_compressed()->mutable_data())[at] ^= 0x5A;
    Status st = DecodeZstd(EncodeFrame(bad).value(), &out);
    ASSERT_FALSE(st.ok()) << "flipped byte " << at << " of " << data.size() << " decoded";
    EXPECT_EQ(st.code(), ErrorCode::kProtocolError) << st.ToString();
    EXPECT_EQ(st.field(), "compressed.data") << st.ToString();
  }
  // Cut anywhere.
  for (size_t cut = 0; cut < data.size(); ++cut) {
    v1::Envelope bad = good;
    bad.mutable_compressed()->mutable_data()->resize(cut);
    Status st = DecodeZstd(EncodeFrame(bad).value(), &out);
    ASSERT_FALSE(st.ok()) << "cut at " << cut;
    EXPECT_EQ(st.code(), ErrorCode::kProtocolError) << st.ToString();
  }
  // Decompresses fine, but what comes out is not an Envelope.
  const std::string junk = "\x07\xff\xff not protobuf";
  Status not_envelope =
      DecodeZstd(EncodeFrame(CompressedEnvelope(v1::COMPRESSION_ZSTD, static_cast<uint32_t>(junk.size()),
                                                Compress(v1::COMPRESSION_ZSTD, junk).value()))
                     .value(),
                 &out);
  EXPECT_EQ(not_envelope.code(), ErrorCode::kProtocolError);
  EXPECT_NE(not_envelope.message().find("not a valid Envelope"), std::string::npos) << not_envelope.message();
}

TEST(FrameCompressionTest, CompressedFramesNeverNestNorCarryTheNegotiation) {
  v1::Envelope out;
  Status nested = DecodeZstd(EncodeFrame(Wrapped(Wrapped(SamplePush(100)))).value(), &out);
  EXPECT_EQ(nested.code(), ErrorCode::kProtocolError);
  EXPECT_NE(nested.message().find("compressed"), std::string::npos) << nested.message();

  v1::Envelope hello;
  hello.mutable_hello()->set_client_version(std::string(1000, 'h'));
  Status wrapped_hello = DecodeZstd(EncodeFrame(Wrapped(hello)).value(), &out);
  EXPECT_EQ(wrapped_hello.code(), ErrorCode::kProtocolError);
  EXPECT_NE(wrapped_hello.message().find("hello"), std::string::npos) << wrapped_hello.message();
}

TEST(FrameCompressionTest, TheFirstOfferedCodecThisBuildKnowsIsChosen) {
  google::protobuf::RepeatedField<int> offered;
  EXPECT_EQ(ChooseCompression(offered), v1::COMPRESSION_NONE);
  offered.Add(v1::COMPRESSION_NONE);
  offered.Add(42);
  EXPECT_EQ(ChooseCompression(offered), v1::COMPRESSION_NONE);
  offered.Add(v1::COMPRESSION_ZSTD);
  EXPECT_EQ(ChooseCompression(offered), v1::COMPRESSION_ZSTD);
}

}  // namespace
}  // namespace outreach
