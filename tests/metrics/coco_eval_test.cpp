// Hand-computed cases of the evaluator, its helpers and every way its input can be bad.

#include <cmath>

#include <gtest/gtest.h>

#include "metrics/coco_eval.h"
#include "util/error.h"

namespace autoloss::metrics {
namespace {

// A fixture with one 640x480 image (id 7) and two categories; tests add boxes.
class CocoEvalTest : public testing::Test {
  protected:
    void SetUp() override {
        gt_.images = {{7, 640, 480, "a.jpg"}, {9, 640, 480, "b.jpg"}};
        gt_.categories = {{1, "cat", ""}, {2, "dog", ""}};
    }

    void AddGt(int64_t image, int64_t category, std::array<double, 4> box, bool crowd = false) {
        CocoAnnotation ann;
        ann.id = static_cast<int64_t>(gt_.annotations.size()) + 1;
        ann.image_id = image;
        ann.category_id = category;
        ann.bbox = box;
        ann.area = box[2] * box[3];
        ann.has_area = true;
        ann.iscrowd = crowd;
        gt_.annotations.push_back(ann);
    }

    void AddDt(int64_t image, int64_t category, std::array<double, 4> box, double score) {
        dt_.push_back({image, category, box, score});
    }

    CocoInstances gt_;
    std::vector<CocoDetection> dt_;
};

TEST(LinspaceTest, MatchesNumpyBitForBit) {
    const std::vector<double> iou = Linspace(0.5, 0.95, 10);
    ASSERT_EQ(iou.size(), 10u);
    EXPECT_EQ(iou[8], 0.8999999999999999);
    EXPECT_NE(iou[8], 0.9);
    EXPECT_EQ(iou[9], 0.95);
    const std::vector<double> recall = Linspace(0.0, 1.0, 101);
    EXPECT_EQ(recall[35], 0.35000000000000003);
    EXPECT_EQ(recall[57], 0.5700000000000001);
    EXPECT_EQ(recall[100], 1.0);
}

TEST(NumpySumTest, EqualsPlainSumOnShortArrays) {
    const double values[5] = {0.1, 0.2, 0.3, 0.4, 0.5};
    EXPECT_EQ(NumpySum(values, 5), (((0.1 + 0.2) + 0.3) + 0.4) + 0.5);
}

TEST(NumpySumTest, UsesEightAccumulatorsOnMediumArrays) {
    std::vector<double> values(20);
    for (size_t i = 0; i < values.size(); ++i) {
        values[i] = 1.0 / static_cast<double>(i + 3);
    }
    double r[8];
    for (int j = 0; j < 8; ++j) {
        r[j] = values[j] + values[j + 8];
    }
    double want = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    want += values[16];
    want += values[17];
    want += values[18];
    want += values[19];
    EXPECT_EQ(NumpySum(values.data(), values.size()), want);
}

TEST(NumpySumTest, SplitsLongArraysAtMultiplesOfEight) {
    std::vector<double> values(300);
    for (size_t i = 0; i < values.size(); ++i) {
        values[i] = std::sin(static_cast<double>(i));
    }
    // 300 splits into 144 + 156 (150 rounded down to a multiple of 8).
    const double want = NumpySum(values.data(), 144) + NumpySum(values.data() + 144, 156);
    EXPECT_EQ(NumpySum(values.data(), values.size()), want);
}

TEST(NumpySumTest, AddsBlocksOf8192InOrder) {
    std::vector<double> values(10000);
    for (size_t i = 0; i < values.size(); ++i) {
        values[i] = std::sin(static_cast<double>(i)) * 1e3;
    }
    const double want = NumpySum(values.data(), 8192) + NumpySum(values.data() + 8192, 1808);
    EXPECT_EQ(NumpySum(values.data(), values.size()), want);
}

TEST_F(CocoEvalTest, GivesPerfectScoresWhenEveryBoxIsFoundExactly) {
    AddGt(7, 1, {10, 10, 100, 100});
    AddDt(7, 1, {10, 10, 100, 100}, 0.9);
    const CocoEvalResult result = EvaluateCoco(gt_, dt_);
    EXPECT_NEAR(result.stats[0], 1.0, 1e-15);
    EXPECT_NEAR(result.stats[1], 1.0, 1e-15);
    EXPECT_EQ(result.stats[3], -1.0);          // no small GT
    EXPECT_NEAR(result.stats[5], 1.0, 1e-15);  // 100x100 is large
    EXPECT_EQ(result.stats[8], 1.0);
    EXPECT_EQ(result.per_category[1].ap, -1.0);  // "dog" has no GT
}

TEST_F(CocoEvalTest, GivesHalfTheRecallPointsWhenOneOfTwoBoxesIsFound) {
    AddGt(7, 1, {10, 10, 50, 50});
    AddGt(7, 1, {300, 300, 50, 50});
    AddDt(7, 1, {10, 10, 50, 50}, 0.9);
    AddDt(7, 1, {500, 10, 50, 50}, 0.8);
    const CocoEvalResult result = EvaluateCoco(gt_, dt_);
    // Recall 0.5 at precision 1: precision is 1 at the 51 recall points 0, .01, ..., .5.
    EXPECT_NEAR(result.stats[0], 51.0 / 101.0, 1e-15);
    EXPECT_EQ(result.stats[8], 0.5);
}

TEST_F(CocoEvalTest, RanksAFalsePositiveAboveATruePositiveByScore) {
    AddGt(7, 1, {10, 10, 50, 50});
    AddDt(7, 1, {10, 10, 50, 50}, 0.5);
    AddDt(7, 1, {500, 10, 50, 50}, 0.9);
    const CocoEvalResult result = EvaluateCoco(gt_, dt_);
    // The hit comes second: precision 1/2 at full recall, at every recall point.
    EXPECT_NEAR(result.stats[0], 0.5, 1e-15);
    EXPECT_EQ(result.stats[6], 0.0);  // AR@1 keeps only the false positive
}

TEST_F(CocoEvalTest, MatchesAtAnIouEqualToTheThreshold) {
    // IoU = 50*15 / (50*30) = 0.5 exactly: a match at 0.5, not at 0.55.
    AddGt(7, 1, {10, 0, 50, 30});
    AddDt(7, 1, {10, 0, 50, 15}, 0.9);
    const CocoEvalResult result = EvaluateCoco(gt_, dt_);
    EXPECT_NEAR(result.stats[1], 1.0, 1e-15);
    EXPECT_NEAR(result.stats[0], 0.1, 1e-15);
}

TEST_F(CocoEvalTest, IgnoresDetectionsInsideACrowdRegion) {
    AddGt(7, 1, {10, 10, 50, 50});
    AddGt(7, 1, {200, 200, 200, 200}, true);
    AddDt(7, 1, {10, 10, 50, 50}, 0.5);
    // Intersection over the detection's own area is 1 for both: matched to the crowd, ignored.
    AddDt(7, 1, {220, 220, 40, 40}, 0.9);
    AddDt(7, 1, {300, 300, 40, 40}, 0.8);
    const CocoEvalResult result = EvaluateCoco(gt_, dt_);
    EXPECT_NEAR(result.stats[0], 1.0, 1e-15);
    EXPECT_EQ(result.per_category[0].num_gt_crowd, 1);
}

TEST_F(CocoEvalTest, GivesZeroWhereThereIsGroundTruthAndNoDetections) {
    AddGt(7, 1, {10, 10, 50, 50});
    AddGt(9, 2, {10, 10, 5, 5});
    const CocoEvalResult result = EvaluateCoco(gt_, {});
    EXPECT_EQ(result.stats[0], 0.0);
    EXPECT_EQ(result.stats[3], 0.0);
    EXPECT_EQ(result.stats[5], -1.0);
    EXPECT_EQ(result.stats[8], 0.0);
    EXPECT_EQ(result.per_category[0].ap, 0.0);
    EXPECT_EQ(result.per_category[1].ap, 0.0);
}

TEST_F(CocoEvalTest, CutsDetectionsPerImageAndCategoryAtMaxDets) {
    AddGt(7, 1, {10, 10, 50, 50});
    AddDt(7, 1, {400, 10, 50, 50}, 0.9);
    AddDt(7, 1, {10, 10, 50, 50}, 0.8);
    CocoEvalParams params = CocoEvalParams::Default();
    params.max_dets = {1, 2, 3};
    const CocoEvalResult result = EvaluateCoco(gt_, dt_, params);
    EXPECT_EQ(result.stats[6], 0.0);  // AR@1: only the false positive survives
    EXPECT_EQ(result.stats[7], 1.0);  // AR@2
    EXPECT_EQ(result.stats[0], result.Summarize(true, -1, "all", 3));
}

TEST_F(CocoEvalTest, TakesTheAreaRangeFromTheAreaFieldInclusively) {
    AddGt(7, 1, {10, 10, 100, 100});
    gt_.annotations.back().area = 32.0 * 32.0;  // the field, not the box, decides: small and medium
    AddDt(7, 1, {10, 10, 100, 100}, 0.9);
    const CocoEvalResult result = EvaluateCoco(gt_, dt_);
    EXPECT_NEAR(result.stats[3], 1.0, 1e-15);
    EXPECT_NEAR(result.stats[4], 1.0, 1e-15);
    EXPECT_EQ(result.stats[5], -1.0);
}

TEST_F(CocoEvalTest, AcceptsCustomIouThresholdsAndAreaRanges) {
    AddGt(7, 1, {10, 0, 50, 30});
    AddDt(7, 1, {10, 0, 50, 15}, 0.9);  // IoU 0.5
    CocoEvalParams params = CocoEvalParams::Default();
    params.iou_thresholds = {0.3, 0.5, 0.7};
    params.area_ranges = {{"all", 0, 1e10}};
    const CocoEvalResult result = EvaluateCoco(gt_, dt_, params);
    EXPECT_NEAR(result.Summarize(true, -1, "all", 100), 2.0 / 3.0, 1e-15);
    EXPECT_EQ(result.Summarize(true, 0.7, "all", 100), 0.0);
    EXPECT_EQ(result.stats[3], -1.0);  // no "small" range configured
}

TEST_F(CocoEvalTest, RefusesADetectionOnAnUnknownImage) {
    AddGt(7, 1, {10, 10, 50, 50});
    AddDt(8, 1, {10, 10, 50, 50}, 0.9);
    EXPECT_THROW(EvaluateCoco(gt_, dt_), InputError);
}

TEST_F(CocoEvalTest, RefusesADetectionOfAnUnknownCategory) {
    AddGt(7, 1, {10, 10, 50, 50});
    AddDt(7, 3, {10, 10, 50, 50}, 0.9);
    try {
        EvaluateCoco(gt_, dt_);
        FAIL() << "expected InputError";
    } catch (const InputError& error) {
        EXPECT_EQ(error.context(), "detection 0");
        EXPECT_NE(error.message().find("category_id 3"), std::string::npos);
    }
}

TEST_F(CocoEvalTest, RefusesANegativeWidth) {
    AddGt(7, 1, {10, 10, 50, 50});
    AddDt(7, 1, {10, 10, -5, 50}, 0.9);
    EXPECT_THROW(EvaluateCoco(gt_, dt_), InputError);
}

TEST_F(CocoEvalTest, RefusesNaNScoresAndCoordinates) {
    AddGt(7, 1, {10, 10, 50, 50});
    AddDt(7, 1, {10, 10, 50, 50}, std::nan(""));
    EXPECT_THROW(EvaluateCoco(gt_, dt_), InputError);
    dt_.back().score = 0.5;
    dt_.back().bbox[1] = std::nan("");
    EXPECT_THROW(EvaluateCoco(gt_, dt_), InputError);
}

TEST_F(CocoEvalTest, RefusesDuplicateIds) {
    AddGt(7, 1, {10, 10, 50, 50});
    AddGt(7, 1, {100, 10, 50, 50});
    gt_.annotations[1].id = gt_.annotations[0].id;
    EXPECT_THROW(EvaluateCoco(gt_, dt_), InputError);
    gt_.annotations[1].id = 99;
    gt_.images.push_back(gt_.images[0]);
    EXPECT_THROW(EvaluateCoco(gt_, dt_), InputError);
}

TEST_F(CocoEvalTest, IgnoresAndReportsGroundTruthOnUnknownImages) {
    AddGt(7, 1, {10, 10, 50, 50});
    AddGt(123, 1, {10, 10, 50, 50});
    AddDt(7, 1, {10, 10, 50, 50}, 0.9);
    const CocoEvalResult result = EvaluateCoco(gt_, dt_);
    EXPECT_NEAR(result.stats[0], 1.0, 1e-15);
    ASSERT_EQ(result.notes.size(), 1u);
}

TEST_F(CocoEvalTest, RefusesUnusableParams) {
    CocoEvalParams params = CocoEvalParams::Default();
    params.max_dets = {10, 1};
    EXPECT_THROW(EvaluateCoco(gt_, dt_, params), InputError);
    params = CocoEvalParams::Default();
    params.iou_thresholds = {};
    EXPECT_THROW(EvaluateCoco(gt_, dt_, params), InputError);
}

}  // namespace
}  // namespace autoloss::metrics
