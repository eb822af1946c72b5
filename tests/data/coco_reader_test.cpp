// The COCO data set reader: validation, repairs and errors on small files written by the tests.

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "data/coco_reader.h"
#include "metrics/coco_eval.h"
#include "util/error.h"

namespace autoloss::data {
namespace {

namespace fs = std::filesystem;

const std::string kBccdImage = AUTOLOSS_SOURCE_DIR "/data/bccd/JPEGImages/BloodImage_00000.jpg";

class CocoReaderTest : public testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("autoloss_coco_" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        fs::copy_file(kBccdImage, dir_ / "a.jpg");
        fs::copy_file(kBccdImage, dir_ / "b.jpg");
    }
    void TearDown() override { fs::remove_all(dir_); }

    Dataset Read(const std::string& json, ImageCheck check = ImageCheck::kHeader) {
        std::ofstream(dir_ / "gt.json") << json;
        ReadOptions options;
        options.check_images = check;
        return ReadCocoDataset((dir_ / "gt.json").string(), dir_.string(), options);
    }

    fs::path dir_;
};

const char* kCategories = R"("categories": [{"id": 7, "name": "dog"}, {"id": 3, "name": "cat"}])";

TEST_F(CocoReaderTest, ReadsBoxesAsCornersWithLabelsInCategoryIdOrder) {
    const Dataset dataset = Read(std::string("{") + kCategories + R"(,
        "images": [{"id": 5, "file_name": "a.jpg", "width": 640, "height": 480}],
        "annotations": [{"id": 1, "image_id": 5, "category_id": 7, "bbox": [10, 20, 30, 40],
                         "area": 900.5, "iscrowd": 1}]})");
    ASSERT_EQ(dataset.NumClasses(), 2u);
    EXPECT_EQ(dataset.categories[0].name, "cat");
    EXPECT_EQ(dataset.categories[1].id, 7);
    ASSERT_EQ(dataset.boxes.size(), 1u);
    const Box& box = dataset.boxes[0];
    EXPECT_EQ(box.label, 1);
    EXPECT_EQ(box.x1, 10.0f);
    EXPECT_EQ(box.y2, 60.0f);
    EXPECT_EQ(box.area, 900.5f);
    EXPECT_TRUE(box.crowd);
    EXPECT_EQ(dataset.report.TotalRepairs(), 0u);
}

TEST_F(CocoReaderTest, RepairsAndCountsEveryKindOfProblem) {
    const Dataset dataset = Read(std::string("{") + kCategories + R"(,
        "images": [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480},
                   {"id": 1, "file_name": "b.jpg", "width": 640, "height": 480},
                   {"id": 2, "file_name": "missing.jpg", "width": 640, "height": 480},
                   {"id": 3, "file_name": "b.jpg", "width": 100, "height": 100}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 3, "bbox": [10, 10, 0, 40]},
            {"id": 2, "image_id": 1, "category_id": 3, "bbox": [600, 10, 100, 40]},
            {"id": 3, "image_id": 1, "category_id": 3, "bbox": [700, 10, 10, 10]},
            {"id": 4, "image_id": 9, "category_id": 3, "bbox": [1, 1, 10, 10]},
            {"id": 5, "image_id": 1, "category_id": 4, "bbox": [1, 1, 10, 10]},
            {"id": 5, "image_id": 1, "category_id": 3, "bbox": [1, 1, 10, 10]},
            {"id": 6, "image_id": 1, "category_id": 3, "bbox": [1, 1, -10, 10]},
            {"id": 7, "image_id": 3, "category_id": 3, "bbox": [1, 1, 10, 10]}]})");
    const LoadReport& report = dataset.report;
    EXPECT_EQ(report.Count(LoadReport::kDuplicateImage), 1u);
    EXPECT_EQ(report.Count(LoadReport::kMissingImage), 1u);
    EXPECT_EQ(report.Count(LoadReport::kImageSizeFromFile), 1u);
    EXPECT_EQ(report.Count(LoadReport::kDegenerateBox), 2u);
    EXPECT_EQ(report.Count(LoadReport::kClippedBox), 1u);
    EXPECT_EQ(report.Count(LoadReport::kOutsideBox), 1u);
    EXPECT_EQ(report.Count(LoadReport::kUnknownImage), 1u);
    EXPECT_EQ(report.Count(LoadReport::kUnknownCategory), 1u);
    EXPECT_EQ(report.Count(LoadReport::kDuplicateBox), 1u);
    ASSERT_EQ(dataset.NumImages(), 2u);
    ASSERT_EQ(dataset.Boxes(0).size(), 1u);
    EXPECT_EQ(dataset.Boxes(0)[0].x2, 640.0f);
    EXPECT_EQ(dataset.images[1].width, 640);
    EXPECT_NE(report.Summary().find("missing.jpg"), std::string::npos) << report.Summary();
}

TEST_F(CocoReaderTest, RefusesJsonThatIsNotCocoInstances) {
    EXPECT_THROW(Read("[]"), InputError);
    EXPECT_THROW(Read(R"({"images": [], "annotations": []})"), InputError);
    EXPECT_THROW(Read("{\"images\": [}"), InputError);
}

TEST_F(CocoReaderTest, RefusesDuplicateCategoriesAndImagesWithoutFileName) {
    EXPECT_THROW(Read(R"({"categories": [{"id": 1}, {"id": 1}], "images": [],
                          "annotations": []})"),
                 InputError);
    try {
        Read(std::string("{") + kCategories + R"(, "images": [{"id": 4}], "annotations": []})");
        FAIL() << "expected InputError";
    } catch (const InputError& error) {
        EXPECT_NE(error.context().find("images[0] (id 4)"), std::string::npos) << error.what();
    }
}

TEST_F(CocoReaderTest, TrustsTheAnnotationsWhenImageChecksAreOff) {
    const Dataset dataset = Read(std::string("{") + kCategories + R"(,
        "images": [{"id": 1, "file_name": "nowhere.jpg", "width": 64, "height": 48}],
        "annotations": []})",
                                 ImageCheck::kNone);
    EXPECT_EQ(dataset.NumImages(), 1u);
}

TEST_F(CocoReaderTest, ConvertsBackToCocoGroundTruthThatScoresItselfPerfectly) {
    const Dataset dataset = Read(std::string("{") + kCategories + R"(,
        "images": [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [10, 10, 50, 40]},
                        {"id": 2, "image_id": 1, "category_id": 7, "bbox": [100, 10, 50, 40]}]})");
    const metrics::CocoInstances gt = ToCocoInstances(dataset);
    ASSERT_EQ(gt.annotations.size(), 2u);
    EXPECT_EQ(gt.annotations[1].bbox, (std::array<double, 4>{100, 10, 50, 40}));
    std::vector<metrics::CocoDetection> dt;
    for (const auto& ann : gt.annotations) {
        dt.push_back({ann.image_id, ann.category_id, ann.bbox, 0.9});
    }
    EXPECT_NEAR(metrics::EvaluateCoco(gt, dt).stats[0], 1.0, 1e-15);
}

}  // namespace
}  // namespace autoloss::data
