#include "search/screening.h"

#include <gtest/gtest.h>

namespace autoloss::search {
namespace {

using expr::SetKind;

TEST(ScreenRandomTest, CountsTheSameOnOneAndTwoThreads) {
    for (SetKind set : {SetKind::kClsMulti, SetKind::kClsBinary, SetKind::kReg}) {
        const ScreeningSummary one = ScreenRandom(set, 4000, 5, 1, MeanSizeEightTrees(set));
        const ScreeningSummary two = ScreenRandom(set, 4000, 5, 2, MeanSizeEightTrees(set));
        EXPECT_EQ(one.passed, two.passed);
        EXPECT_EQ(one.distinct, two.distinct);
        EXPECT_EQ(one.reasons, two.reasons);
        EXPECT_EQ(one.rejected_at, two.rejected_at);
        EXPECT_DOUBLE_EQ(one.mean_size, two.mean_size);
        std::int64_t total = one.passed;
        for (std::int64_t n : one.rejected_at) {
            total += n;
        }
        EXPECT_EQ(total, 4000);
        EXPECT_EQ(one.reasons[0], one.passed);
        EXPECT_GT(one.passed, 0);
        EXPECT_LE(one.distinct, one.passed);
    }
}

}  // namespace
}  // namespace autoloss::search
