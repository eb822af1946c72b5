// The Pascal VOC reader on the BCCD copy shipped in data/bccd, and on broken VOC files.

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "data/voc_reader.h"
#include "util/error.h"

namespace autoloss::data {
namespace {

namespace fs = std::filesystem;

const std::string kBccd = AUTOLOSS_SOURCE_DIR "/data/bccd";

TEST(VocReaderTest, ReadsTheBccdSplitsWithTheirSizes) {
    const Dataset train = ReadVocDataset(kBccd, "train");
    const Dataset val = ReadVocDataset(kBccd, "val");
    const Dataset test = ReadVocDataset(kBccd, "test");
    EXPECT_EQ(train.NumImages(), 205u);
    EXPECT_EQ(val.NumImages(), 87u);
    EXPECT_EQ(test.NumImages(), 72u);
    ASSERT_EQ(train.NumClasses(), 3u);
    EXPECT_EQ(train.categories[0].name, "Platelets");
    EXPECT_EQ(train.categories[1].name, "RBC");
    EXPECT_EQ(train.categories[2].name, "WBC");
    EXPECT_EQ(val.categories[2].name, "WBC");
    for (const ImageRecord& image : train.images) {
        EXPECT_EQ(image.width, 640);
        EXPECT_EQ(image.height, 480);
    }
}

TEST(VocReaderTest, DropsAndCountsBccdsTwoZeroSizeBoxes) {
    const Dataset all = ReadVocDataset(kBccd, "");
    EXPECT_EQ(all.NumImages(), 364u);
    EXPECT_EQ(all.boxes.size(), 4888u - 2u);
    EXPECT_EQ(all.report.Count(LoadReport::kDegenerateBox), 2u);
    EXPECT_EQ(all.report.TotalRepairs(), 2u);
    const std::string summary = all.report.Summary();
    EXPECT_NE(summary.find("BloodImage_00338.xml"), std::string::npos) << summary;
    EXPECT_NE(summary.find("BloodImage_00343.xml"), std::string::npos) << summary;
    for (const Box& box : all.boxes) {
        EXPECT_GT(box.x2, box.x1);
        EXPECT_GT(box.y2, box.y1);
    }
}

TEST(VocReaderTest, KeepsTheFirstBoxOfAnImageAsWritten) {
    const Dataset all = ReadVocDataset(kBccd, "");
    // BloodImage_00000.xml, first object: WBC 260 177 491 376 (as the file writes it).
    ASSERT_EQ(fs::path(all.images[0].path).filename(), "BloodImage_00000.jpg");
    const Box& box = all.Boxes(0)[0];
    EXPECT_EQ(all.categories[box.label].name, "WBC");
    EXPECT_EQ(box.x1, 260.0f);
    EXPECT_EQ(box.y1, 177.0f);
    EXPECT_EQ(box.x2, 491.0f);
    EXPECT_EQ(box.y2, 376.0f);
    EXPECT_EQ(box.area, 231.0f * 199.0f);
    EXPECT_EQ(all.images[0].id, 1);
}

// A VOC folder with one real BCCD image and annotation files written by the test.
class BrokenVocTest : public testing::Test {
  protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("autoloss_voc_" + std::to_string(::getpid()));
        fs::create_directories(root_ / "Annotations");
        fs::create_directories(root_ / "JPEGImages");
        fs::create_directories(root_ / "ImageSets" / "Main");
        fs::copy_file(kBccd + "/JPEGImages/BloodImage_00000.jpg", root_ / "JPEGImages" / "a.jpg");
    }
    void TearDown() override { fs::remove_all(root_); }

    void Write(const fs::path& relative, const std::string& text) {
        std::ofstream(root_ / relative) << text;
    }

    std::string Annotation(const std::string& objects, const std::string& size = "") {
        return "<annotation><filename>a.jpg</filename>" + size + objects + "</annotation>";
    }

    fs::path root_;
};

TEST_F(BrokenVocTest, RepairsAMissingSizeFromTheImageFile) {
    Write("Annotations/a.xml",
          Annotation("<object><name>x</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>700</xmax>"
                     "<ymax>30</ymax></bndbox></object>"));
    const Dataset dataset = ReadVocDataset(root_.string(), "");
    ASSERT_EQ(dataset.NumImages(), 1u);
    EXPECT_EQ(dataset.images[0].width, 640);
    EXPECT_EQ(dataset.report.Count(LoadReport::kImageSizeFromFile), 1u);
    EXPECT_EQ(dataset.report.Count(LoadReport::kClippedBox), 1u);
    EXPECT_EQ(dataset.boxes[0].x2, 640.0f);
}

TEST_F(BrokenVocTest, NamesTheFileAndObjectWithAMissingTag) {
    Write("Annotations/a.xml",
          Annotation("<object><name>x</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>7</xmax>"
                     "</bndbox></object>"));
    try {
        ReadVocDataset(root_.string(), "");
        FAIL() << "expected InputError";
    } catch (const InputError& error) {
        EXPECT_NE(error.context().find("a.xml: object 0"), std::string::npos) << error.what();
        EXPECT_NE(error.message().find("<ymax>"), std::string::npos) << error.what();
    }
    Write("Annotations/a.xml", Annotation("<object><name>x</name></object>"));
    EXPECT_THROW(ReadVocDataset(root_.string(), ""), InputError);
}

TEST_F(BrokenVocTest, RefusesMalformedXmlAndNonNumericCoordinates) {
    Write("Annotations/a.xml", "<annotation><object><name>x</name>");
    EXPECT_THROW(ReadVocDataset(root_.string(), ""), InputError);
    Write("Annotations/a.xml",
          Annotation("<object><name>x</name><bndbox><xmin>one</xmin><ymin>2</ymin><xmax>7</xmax>"
                     "<ymax>9</ymax></bndbox></object>"));
    EXPECT_THROW(ReadVocDataset(root_.string(), ""), InputError);
}

TEST_F(BrokenVocTest, CountsImagesMissingOrTruncated) {
    Write("Annotations/a.xml", Annotation(""));
    Write("Annotations/b.xml", "<annotation><filename>b.jpg</filename></annotation>");
    Write("Annotations/c.xml", "<annotation><filename>c.jpg</filename></annotation>");
    // c.jpg: the first half of a real JPEG, as an interrupted download leaves it.
    std::ifstream in(kBccd + "/JPEGImages/BloodImage_00000.jpg", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Write("JPEGImages/c.jpg", bytes.substr(0, bytes.size() / 2));
    Write("ImageSets/Main/train.txt", "a\nb\nc\nd\n");
    const Dataset dataset = ReadVocDataset(root_.string(), "train");
    EXPECT_EQ(dataset.NumImages(), 1u);
    EXPECT_EQ(dataset.report.Count(LoadReport::kMissingImage), 2u);  // b.jpg, and d.xml
    EXPECT_EQ(dataset.report.Count(LoadReport::kUnreadableImage), 1u);
    EXPECT_NE(dataset.report.Summary().find("truncated JPEG"), std::string::npos);
}

TEST_F(BrokenVocTest, RefusesAMissingSplitFileAndAnUnknownClass) {
    Write("Annotations/a.xml",
          Annotation("<object><name>x</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>7</xmax>"
                     "<ymax>9</ymax></bndbox></object>"));
    EXPECT_THROW(ReadVocDataset(root_.string(), "nosuchsplit"), InputError);
    VocOptions options;
    options.class_names = {"y"};
    EXPECT_THROW(ReadVocDataset(root_.string(), "", options), InputError);
}

}  // namespace
}  // namespace autoloss::data
