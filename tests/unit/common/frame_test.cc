#include "common/frame.h"

#include <gtest/gtest.h>

#include <random>

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
    f->set_value("\x32\x0b" "07700900123");
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

}  // namespace
}  // namespace outreach
