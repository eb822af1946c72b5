#include "check/boxes.h"

#include <gtest/gtest.h>

namespace autoloss::check {
namespace {

TEST(OverlapTest, MatchesHandComputedAreasWhenBoxesOverlapPartly) {
    // 10x10 target, prediction shifted by (5, 2): intersection 5x8.
    const Box target{0, 0, 10, 10};
    const Overlap o = ComputeOverlap(Shifted(target, 5, 2), target);
    EXPECT_DOUBLE_EQ(o.intersection, 40.0);
    EXPECT_DOUBLE_EQ(o.union_area, 100 + 100 - 40 + kAreaEpsilon);
    EXPECT_DOUBLE_EQ(o.enclosing, 15 * 12 + kAreaEpsilon);
}

TEST(OverlapTest, GivesZeroIntersectionWhenBoxesAreDisjoint) {
    const Box target{0, 0, 2, 2};
    const Overlap o = ComputeOverlap(Shifted(target, 5, 0), target);
    EXPECT_EQ(o.intersection, 0.0);
    EXPECT_DOUBLE_EQ(o.union_area, 8 + kAreaEpsilon);
    EXPECT_DOUBLE_EQ(o.enclosing, 7 * 2 + kAreaEpsilon);
}

TEST(OverlapTest, GivesEqualAreasWhenBoxesCoincide) {
    const Overlap o = ComputeOverlap(Square(4), Square(4));
    EXPECT_DOUBLE_EQ(o.intersection, 16.0);
    EXPECT_DOUBLE_EQ(o.union_area, 16 + kAreaEpsilon);
    EXPECT_DOUBLE_EQ(o.enclosing, 16 + kAreaEpsilon);
}

TEST(OverlapTest, ScalesAboutTheCentreWhenScaled) {
    const Box box = Scaled(Box{0, 0, 4, 2}, 2, 0.5);
    EXPECT_DOUBLE_EQ(box.x1, -2);
    EXPECT_DOUBLE_EQ(box.x2, 6);
    EXPECT_DOUBLE_EQ(box.y1, 0.5);
    EXPECT_DOUBLE_EQ(box.y2, 1.5);
}

}  // namespace
}  // namespace autoloss::check
