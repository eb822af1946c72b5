// Evaluation glue: detections leave in original pixels with the data set's own category ids
// (COCO's ids are not 1..C), and the metric scores them against that data set.

#include "train/session.h"

#include <set>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "train/fixtures.h"
#include "util/error.h"

namespace autoloss::train {
namespace {

// BloodImage_00000 with its three categories renumbered as a COCO file might number them.
data::Dataset OneImageWithSparseIds() {
    data::Dataset set = BccdImages("val", {"BloodImage_00000"});
    set.categories[0].id = 11;
    set.categories[1].id = 22;
    set.categories[2].id = 90;
    return set;
}

// The one-image set's boxes as detections of score 1, leaving out those of class `skip` (-1:
// none).
std::vector<metrics::CocoDetection> GroundTruthAsDetections(const data::Dataset& set,
                                                            int skip = -1) {
    std::vector<metrics::CocoDetection> detections;
    for (const data::Box& box : set.boxes) {
        if (box.label != skip) {
            metrics::CocoDetection d;
            d.image_id = set.images[0].id;
            d.category_id = set.categories[box.label].id;
            d.bbox = {box.x1, box.y1, box.x2 - box.x1, box.y2 - box.y1};
            d.score = 1.0;
            detections.push_back(d);
        }
    }
    return detections;
}

// Answers every image with one fixed box of class 1, in resized pixels.
class FixedDetector : public detect::Detector {
  public:
    FixedDetector() { register_parameter("unused", torch::zeros({1})); }
    detect::LossTerms Loss(const detect::DetectionBatch&) override { return {}; }
    std::vector<detect::Detections> Detect(const at::Tensor& images,
                                           const std::vector<std::array<int64_t, 2>>&) override {
        std::vector<detect::Detections> result(images.size(0));
        for (auto& d : result) {
            d.boxes = torch::tensor({{10.0f, 20.0f, 110.0f, 220.0f}});
            d.scores = torch::tensor({0.9f});
            d.labels = torch::tensor({int64_t{1}});
        }
        return result;
    }
    void SetPrecision(detect::Precision, bool) override {}
};

TEST(DetectSetTest, ReportsOriginalPixelsAndTheDataSetsCategoryIds) {
    const data::Dataset set = OneImageWithSparseIds();
    FixedDetector detector;
    ImageCache cache;
    const auto detections = DetectSet(detector, set, DetectorTransform(320, 1333), cache, 2);
    ASSERT_EQ(detections.size(), 1u);
    EXPECT_EQ(detections[0].category_id, 22);
    EXPECT_EQ(detections[0].image_id, set.images[0].id);
    // 640 x 480 became 427 x 320: x scales by 427 / 640, y by 320 / 480.
    const double sx = 427.0 / 640.0;
    const double sy = 320.0 / 480.0;
    EXPECT_NEAR(detections[0].bbox[0], 10 / sx, 1e-3);
    EXPECT_NEAR(detections[0].bbox[1], 20 / sy, 1e-3);
    EXPECT_NEAR(detections[0].bbox[2], 100 / sx, 1e-3);
    EXPECT_NEAR(detections[0].bbox[3], 200 / sy, 1e-3);
}

TEST(ScoreTest, GroundTruthWithSparseIdsScoresOne) {
    const data::Dataset set = OneImageWithSparseIds();
    const EvalPoint point = Score(set, GroundTruthAsDetections(set));
    EXPECT_DOUBLE_EQ(point.ap, 1.0);
    EXPECT_DOUBLE_EQ(point.ap50, 1.0);
}

TEST(ScoreTest, ApPerClassNamesTheClassThatWasMissed) {
    const data::Dataset set = OneImageWithSparseIds();
    std::set<int> present;
    for (const data::Box& box : set.boxes) {
        present.insert(box.label);
    }
    ASSERT_GE(present.size(), 2u) << "the image needs two classes";
    const int missed = *present.begin();
    const EvalPoint point = Score(set, GroundTruthAsDetections(set, missed));
    // Only categories with ground truth in the set get an entry.
    ASSERT_EQ(point.ap_per_class.size(), present.size());
    for (const int label : present) {
        const std::string& name = set.categories[label].name;
        ASSERT_TRUE(point.ap_per_class.count(name)) << name;
        EXPECT_DOUBLE_EQ(point.ap_per_class.at(name), label == missed ? 0.0 : 1.0) << name;
    }
    EXPECT_NEAR(point.ap, (present.size() - 1.0) / present.size(), 1e-12);
}

TEST(DeviceTest, UnknownOrMissingDevicesAreInputErrors) {
    TrainConfig config;
    config.device = "tpu";
    EXPECT_THROW(ValidateTrainConfig(config), InputError);
    config.device = "cpu";
    EXPECT_EQ(DeviceOf(config), at::Device(at::kCPU));
    config.device = "cuda";
    if (torch::cuda::is_available()) {
        config.precision = "bf16";  // autocast is wired for the CPU only
        EXPECT_THROW(DeviceOf(config), InputError);
        config.precision = "fp32";
        EXPECT_EQ(DeviceOf(config).type(), at::kCUDA);
        return;
    }
    try {
        MakeDetector(config, 3);
        FAIL() << "cuda without a CUDA device";
    } catch (const InputError& error) {
        EXPECT_EQ(error.context(), "config key 'device'");
    }
}

}  // namespace
}  // namespace autoloss::train
