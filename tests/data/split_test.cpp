// Seeded splits and the verification set D_verify.

#include <gtest/gtest.h>

#include "data/split.h"
#include "data/voc_reader.h"
#include "util/error.h"

namespace autoloss::data {
namespace {

class SplitTest : public testing::Test {
  protected:
    static void SetUpTestSuite() {
        VocOptions options;
        options.check_images = ImageCheck::kNone;
        bccd_ = new Dataset(ReadVocDataset(AUTOLOSS_SOURCE_DIR "/data/bccd", "train", options));
    }
    static void TearDownTestSuite() { delete bccd_; }

    static Dataset* bccd_;
};

Dataset* SplitTest::bccd_ = nullptr;

TEST_F(SplitTest, SplitsDeterministicallyAndDisjointly) {
    const SplitIndices a = SplitTrainVal(*bccd_, 0.2, 7);
    const SplitIndices b = SplitTrainVal(*bccd_, 0.2, 7);
    const SplitIndices c = SplitTrainVal(*bccd_, 0.2, 8);
    EXPECT_EQ(a.train, b.train);
    EXPECT_EQ(a.val, b.val);
    EXPECT_NE(a.val, c.val);
    EXPECT_EQ(a.val.size(), 41u);  // round(205 * 0.2)
    EXPECT_EQ(a.train.size() + a.val.size(), bccd_->NumImages());
    std::vector<size_t> all = a.train;
    all.insert(all.end(), a.val.begin(), a.val.end());
    std::sort(all.begin(), all.end());
    EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
}

TEST_F(SplitTest, RefusesAValFractionOutsideTheUnitInterval) {
    EXPECT_THROW(SplitTrainVal(*bccd_, 1.0, 0), InputError);
    EXPECT_THROW(SplitTrainVal(*bccd_, -0.1, 0), InputError);
}

TEST_F(SplitTest, DrawsOneDistinctImagePerCategoryForVerification) {
    const std::vector<size_t> verify = SelectVerificationImages(*bccd_, 42);
    EXPECT_EQ(verify, SelectVerificationImages(*bccd_, 42));
    ASSERT_EQ(verify.size(), 3u);
    // Every category appears in the chosen images.
    std::vector<bool> covered(bccd_->NumClasses(), false);
    for (size_t i : verify) {
        for (const Box& box : bccd_->Boxes(i)) {
            covered[box.label] = true;
        }
    }
    EXPECT_EQ(covered, std::vector<bool>(3, true));
    const Dataset subset = Subset(*bccd_, verify);
    EXPECT_EQ(subset.NumImages(), 3u);
    EXPECT_EQ(subset.Boxes(2).size(), bccd_->Boxes(verify[2]).size());
}

}  // namespace
}  // namespace autoloss::data
