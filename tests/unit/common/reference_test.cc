#include "common/reference.h"

#include <gtest/gtest.h>

namespace outreach {
namespace {

TEST(ReferenceTest, FormatAndParseRoundTrip) {
  Result<std::string> ref = ReferenceNumber::Format("K7QX", 42);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->substr(0, 10), "K7QX-0042-");
  Result<ReferenceNumber> parsed = ReferenceNumber::Parse(*ref);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->prefix, "K7QX");
  EXPECT_EQ(parsed->counter, 42u);
  EXPECT_EQ(parsed->ToString(), *ref);
  // Forgiving input: lower case, no dashes.
  std::string loose = *ref;
  for (auto& c : loose) c = static_cast<char>(std::tolower(c));
  EXPECT_TRUE(ReferenceNumber::Parse(loose).ok());
  EXPECT_TRUE(ReferenceNumber::Parse(ReferenceNumber::Format("K7QX", 123456).value()).ok());
}

TEST(ReferenceTest, CheckCharacterCatchesTyposAndSwaps) {
  const std::string ref = ReferenceNumber::Format("AB12", 1234).value();  // AB12-1234-?
  for (size_t pos = 5; pos < 9; ++pos) {
    for (char d = '0'; d <= '9'; ++d) {
      if (d == ref[pos]) continue;
      std::string typo = ref;
      typo[pos] = d;
      EXPECT_FALSE(ReferenceNumber::Parse(typo).ok()) << typo;
    }
  }
  std::string swapped = ref;
  std::swap(swapped[6], swapped[7]);
  EXPECT_FALSE(ReferenceNumber::Parse(swapped).ok()) << swapped;
}

TEST(ReferenceTest, RefusesMalformedInput) {
  EXPECT_EQ(ReferenceNumber::Parse("hello").status().field(), "reference");
  EXPECT_FALSE(ReferenceNumber::Parse("").ok());
  EXPECT_FALSE(ReferenceNumber::Format("TOOLONG", 1).ok());
  EXPECT_FALSE(ReferenceNumber::Format("AB12", 0).ok());
  EXPECT_FALSE(ReferenceNumber::Format("AB!2", 1).ok());
  EXPECT_EQ(ReferenceNumber::RandomPrefix().size(), ReferenceNumber::kPrefixLength);
  EXPECT_TRUE(ReferenceNumber::Format(ReferenceNumber::RandomPrefix(), 1).ok());
}

}  // namespace
}  // namespace outreach
