// The YOLO reader on a small folder written by the test around a real BCCD image.

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "data/yolo_reader.h"
#include "util/error.h"

namespace autoloss::data {
namespace {

namespace fs = std::filesystem;

class YoloReaderTest : public testing::Test {
  protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("autoloss_yolo_" + std::to_string(::getpid()));
        fs::create_directories(root_ / "images");
        fs::create_directories(root_ / "labels");
        const std::string image = AUTOLOSS_SOURCE_DIR "/data/bccd/JPEGImages/BloodImage_00000.jpg";
        fs::copy_file(image, root_ / "images" / "a.jpg");
        fs::copy_file(image, root_ / "images" / "b.jpg");
        std::ofstream(root_ / "names.txt") << "cell\nplatelet\n";
    }
    void TearDown() override { fs::remove_all(root_); }

    Dataset Read() {
        return ReadYoloDataset((root_ / "images").string(),
                               (root_ / "labels").string(),
                               (root_ / "names.txt").string());
    }

    fs::path root_;
};

TEST_F(YoloReaderTest, ConvertsNormalisedCentresToPixelCorners) {
    std::ofstream(root_ / "labels" / "a.txt") << "1 0.5 0.5 0.25 0.5\n\n0 0.1 0.1 0.1 0.1\n";
    const Dataset dataset = Read();
    ASSERT_EQ(dataset.NumImages(), 2u);
    ASSERT_EQ(dataset.NumClasses(), 2u);
    EXPECT_EQ(dataset.categories[1].name, "platelet");
    ASSERT_EQ(dataset.Boxes(0).size(), 2u);
    const Box& box = dataset.Boxes(0)[0];
    EXPECT_EQ(box.label, 1);
    EXPECT_FLOAT_EQ(box.x1, 240.0f);        // (0.5 - 0.125) * 640
    EXPECT_FLOAT_EQ(box.y2, 360.0f);        // (0.5 + 0.25) * 480
    EXPECT_TRUE(dataset.Boxes(1).empty());  // b.jpg has no label file
}

TEST_F(YoloReaderTest, CountsUnknownClassesAndClippedBoxes) {
    std::ofstream(root_ / "labels" / "a.txt") << "7 0.5 0.5 0.1 0.1\n0 0.95 0.5 0.2 0.2\n";
    const Dataset dataset = Read();
    EXPECT_EQ(dataset.report.Count(LoadReport::kUnknownCategory), 1u);
    EXPECT_EQ(dataset.report.Count(LoadReport::kClippedBox), 1u);
    EXPECT_EQ(dataset.Boxes(0).size(), 1u);
}

TEST_F(YoloReaderTest, NamesTheFileAndLineOfAMalformedLabel) {
    std::ofstream(root_ / "labels" / "a.txt") << "0 0.5 0.5 0.1 0.1\n0 0.5 0.5 0.1\n";
    try {
        Read();
        FAIL() << "expected InputError";
    } catch (const InputError& error) {
        EXPECT_NE(error.context().find("a.txt:2"), std::string::npos) << error.what();
    }
    EXPECT_THROW(ReadYoloDataset((root_ / "images").string(),
                                 (root_ / "labels").string(),
                                 (root_ / "nonames.txt").string()),
                 InputError);
}

}  // namespace
}  // namespace autoloss::data
