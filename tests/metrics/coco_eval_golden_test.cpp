// The evaluator against pycocotools' own numbers: every case in golden/ was computed by the real
// COCOeval (see each folder's README.txt), and ours must agree to 1e-12.

#include <cmath>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "metrics/coco_eval.h"
#include "metrics/coco_format.h"

namespace autoloss::metrics {
namespace {

const std::string kGoldenDir = AUTOLOSS_SOURCE_DIR "/tests/metrics/golden/";

nlohmann::json ReadJson(const std::string& path) {
    std::ifstream file(path);
    return nlohmann::json::parse(file);
}

class GoldenTest : public testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        const std::string dir = kGoldenDir + GetParam() + "/";
        expected_ = ReadJson(dir + "expected.json");
        result_ =
            EvaluateCoco(ReadCocoInstances(dir + "gt.json"), ReadCocoResults(dir + "dt.json"));
    }

    nlohmann::json expected_;
    CocoEvalResult result_;
};

TEST_P(GoldenTest, StatsEqualPycocotoolsWithinOneEMinus12) {
    const auto& stats = expected_["stats"];
    ASSERT_EQ(stats.size(), 12u);
    for (size_t s = 0; s < 12; ++s) {
        EXPECT_NEAR(result_.stats[s], stats[s].get<double>(), 1e-12)
            << expected_["stats_names"][s].get<std::string>();
    }
}

TEST_P(GoldenTest, StatsEqualPycocotoolsBitForBit) {
    // Reproducing numpy's pairwise summation makes the numbers identical, not just close.
    for (size_t s = 0; s < 12; ++s) {
        EXPECT_EQ(result_.stats[s], expected_["stats"][s].get<double>())
            << expected_["stats_names"][s].get<std::string>();
    }
}

TEST_P(GoldenTest, PerCategoryResultsEqualPycocotools) {
    const auto& categories = expected_["per_category"];
    ASSERT_EQ(result_.per_category.size(), categories.size());
    for (size_t k = 0; k < categories.size(); ++k) {
        const auto& want = categories[k];
        const CategoryResult& got = result_.per_category[k];
        SCOPED_TRACE("category " + std::to_string(got.category_id));
        EXPECT_EQ(got.category_id, want["category_id"].get<int64_t>());
        EXPECT_EQ(got.name, want["name"].get<std::string>());
        EXPECT_NEAR(got.ap, want["ap"].get<double>(), 1e-12);
        EXPECT_NEAR(got.ap50, want["ap50"].get<double>(), 1e-12);
        EXPECT_NEAR(got.ap75, want["ap75"].get<double>(), 1e-12);
        EXPECT_NEAR(got.ar, want["ar100"].get<double>(), 1e-12);
        EXPECT_EQ(got.num_gt, want["num_gt"].get<int64_t>());
        EXPECT_EQ(got.num_gt_crowd, want["num_gt_crowd"].get<int64_t>());
        EXPECT_EQ(got.num_dt, want["num_dt"].get<int64_t>());
    }
}

TEST_P(GoldenTest, ThresholdsEqualNumpyLinspaceExactly) {
    const auto& params = expected_["params"];
    EXPECT_EQ(result_.params.iou_thresholds, params["iouThrs"].get<std::vector<double>>());
    EXPECT_EQ(result_.params.recall_thresholds, params["recThrs"].get<std::vector<double>>());
    EXPECT_EQ(result_.image_ids.size(), params["num_imgIds"].get<size_t>());
    EXPECT_EQ(result_.category_ids, params["catIds"].get<std::vector<int64_t>>());
}

TEST_P(GoldenTest, GivesTheSameNumbersOnOneThreadAndOnMany) {
    CocoEvalParams params = CocoEvalParams::Default();
    params.threads = 1;
    const std::string dir = kGoldenDir + GetParam() + "/";
    const CocoEvalResult serial =
        EvaluateCoco(ReadCocoInstances(dir + "gt.json"), ReadCocoResults(dir + "dt.json"), params);
    EXPECT_EQ(serial.precision, result_.precision);
    EXPECT_EQ(serial.recall, result_.recall);
}

INSTANTIATE_TEST_SUITE_P(Pycocotools,
                         GoldenTest,
                         testing::Values("area_boundaries",
                                         "empty_cases",
                                         "iou_recall_thresholds",
                                         "max_dets",
                                         "score_ties_and_order",
                                         "union_val_jitter"));

}  // namespace
}  // namespace autoloss::metrics
