// Data sources as configs name them: each format's folder layout, shared categories across
// splits, and the errors for a wrong folder, split, format or class list.

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "data/source.h"
#include "util/error.h"

namespace autoloss::data {
namespace {

namespace fs = std::filesystem;

const std::string kBccd = AUTOLOSS_SOURCE_DIR "/data/bccd";
const std::string kBccdImage = kBccd + "/JPEGImages/BloodImage_00000.jpg";  // 640 x 480

std::vector<std::string> Names(const Dataset& dataset) {
    std::vector<std::string> names;
    for (const Category& category : dataset.categories) {
        names.push_back(category.name);
    }
    return names;
}

class SourceTest : public testing::Test {
  protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("autoloss_source_" + std::to_string(::getpid()));
        fs::remove_all(root_);
    }
    void TearDown() override { fs::remove_all(root_); }

    // A COCO split `split` of one BCCD image with a box of category 7 ("cell") and one of
    // category 3 ("platelet"), images in `image_folder`.
    void WriteCocoSplit(const std::string& split, const fs::path& image_folder) {
        fs::create_directories(root_ / "annotations");
        fs::create_directories(image_folder);
        fs::copy_file(kBccdImage, image_folder / "a.jpg", fs::copy_options::overwrite_existing);
        std::ofstream(root_ / "annotations" / ("instances_" + split + ".json"))
            << R"({"images": [{"id": 5, "file_name": "a.jpg", "width": 640, "height": 480}],
                 "categories": [{"id": 7, "name": "cell"}, {"id": 3, "name": "platelet"}],
                 "annotations": [
                   {"id": 1, "image_id": 5, "category_id": 7, "bbox": [10, 20, 30, 40],
                    "area": 1200, "iscrowd": 0},
                   {"id": 2, "image_id": 5, "category_id": 3, "bbox": [100, 100, 10, 10],
                    "area": 100, "iscrowd": 0}]})";
    }

    fs::path root_;
};

TEST_F(SourceTest, VocSplitsShareTheSortedClassNames) {
    const DataSource source{Format::kVoc, kBccd, {}};
    const Dataset train = ReadSplit(source, "train");
    const Dataset val = ReadSplit(source, "val");
    EXPECT_EQ(train.NumImages(), 205u);
    EXPECT_EQ(val.NumImages(), 87u);
    EXPECT_EQ(Names(train), (std::vector<std::string>{"Platelets", "RBC", "WBC"}));
    EXPECT_NO_THROW(RequireSameCategories(train, val, "val"));
    const std::vector<size_t> found = FindImages(train, {"BloodImage_00003", "BloodImage_00001"});
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(fs::path(train.images[found[0]].path).filename(), "BloodImage_00003.jpg");
    EXPECT_EQ(fs::path(train.images[found[1]].path).filename(), "BloodImage_00001.jpg");
    EXPECT_THROW(FindImages(train, {"NotAnImage"}), InputError);
}

TEST_F(SourceTest, VocClassListFixesTheLabelOrder) {
    const Dataset train = ReadSplit({Format::kVoc, kBccd, {"WBC", "RBC", "Platelets"}}, "val");
    EXPECT_EQ(Names(train), (std::vector<std::string>{"WBC", "RBC", "Platelets"}));
}

TEST_F(SourceTest, CocoSplitsAreFoundInEitherImageLayout) {
    WriteCocoSplit("a", root_ / "images" / "a");  // <root>/images/<split>/
    WriteCocoSplit("b", root_ / "b");             // COCO's own <root>/<split>/
    const DataSource source{Format::kCoco, root_.string(), {}};
    const Dataset a = ReadSplit(source, "a");
    const Dataset b = ReadSplit(source, "b");
    ASSERT_EQ(a.NumImages(), 1u);
    EXPECT_EQ(a.images[0].path, (root_ / "images" / "a" / "a.jpg").string());
    EXPECT_EQ(b.images[0].path, (root_ / "b" / "a.jpg").string());
    // Labels follow ascending category id.
    EXPECT_EQ(Names(a), (std::vector<std::string>{"platelet", "cell"}));
    EXPECT_EQ(a.categories[1].id, 7);
    EXPECT_NO_THROW(RequireSameCategories(a, b, "b"));
    // A class list must agree with the file's categories.
    EXPECT_NO_THROW(ReadSplit({Format::kCoco, root_.string(), {"platelet", "cell"}}, "a"));
    EXPECT_THROW(ReadSplit({Format::kCoco, root_.string(), {"cell", "platelet"}}, "a"), InputError);
    EXPECT_THROW(ReadSplit(source, "c"), InputError);
}

TEST_F(SourceTest, YoloSplitsReadImagesLabelsAndClassesFile) {
    fs::create_directories(root_ / "images" / "train");
    fs::create_directories(root_ / "labels" / "train");
    fs::copy_file(kBccdImage, root_ / "images" / "train" / "a.jpg");
    std::ofstream(root_ / "labels" / "train" / "a.txt") << "1 0.5 0.5 0.25 0.5\n";
    std::ofstream(root_ / "classes.txt") << "cell\nplatelet\n";
    const Dataset train = ReadSplit({Format::kYolo, root_.string(), {}}, "train");
    ASSERT_EQ(train.NumImages(), 1u);
    ASSERT_EQ(train.boxes.size(), 1u);
    EXPECT_EQ(train.boxes[0].label, 1);
    EXPECT_FLOAT_EQ(train.boxes[0].x1, 240.0f);
    EXPECT_EQ(Names(train), (std::vector<std::string>{"cell", "platelet"}));
}

TEST_F(SourceTest, CategoriesThatDifferAcrossSplitsAreInputErrors) {
    const Dataset voc = ReadSplit({Format::kVoc, kBccd, {}}, "val");
    WriteCocoSplit("a", root_ / "a");
    const Dataset coco = ReadSplit({Format::kCoco, root_.string(), {}}, "a");
    try {
        RequireSameCategories(voc, coco, "split 'a'");
        FAIL() << "categories differ";
    } catch (const InputError& error) {
        EXPECT_EQ(error.context(), "split 'a'");
    }
}

TEST_F(SourceTest, SplitsWithoutUsableImagesAreInputErrorsAndRepairsAreReported) {
    // An annotation file whose only image is missing: nothing left to train or score on.
    fs::create_directories(root_ / "annotations");
    fs::create_directories(root_ / "a");
    std::ofstream(root_ / "annotations" / "instances_a.json")
        << R"({"images": [{"id": 1, "file_name": "gone.jpg", "width": 640, "height": 480}],
               "categories": [{"id": 1, "name": "cell"}], "annotations": []})";
    try {
        ReadSplit({Format::kCoco, root_.string(), {}}, "a");
        FAIL() << "no usable image";
    } catch (const InputError& error) {
        EXPECT_NE(error.context().find("split 'a'"), std::string::npos) << error.what();
        EXPECT_NE(std::string(error.what()).find("missing"), std::string::npos) << error.what();
    }
    // BCCD's zero-area boxes (images 00338 and 00343) are dropped and said so, on one line; a
    // clean split says nothing.
    const std::string line = RepairLine(ReadSplit({Format::kVoc, kBccd, {}}, "train"), "train");
    EXPECT_NE(line.find("split=train repairs="), std::string::npos) << line;
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(RepairLine(ReadSplit({Format::kVoc, kBccd, {}}, "test"), "test"), "");
}

TEST_F(SourceTest, BadFormatRootOrSplitNameTheValue) {
    try {
        ParseFormat("pascal", "config key 'data_format'");
        FAIL() << "unknown format";
    } catch (const InputError& error) {
        EXPECT_NE(std::string(error.what()).find("'pascal'"), std::string::npos);
    }
    EXPECT_EQ(ParseFormat(FormatName(Format::kYolo), "x"), Format::kYolo);
    EXPECT_THROW(ReadSplit({Format::kVoc, "/nonexistent/folder", {}}, "train"), InputError);
    EXPECT_THROW(ReadSplit({Format::kVoc, "", {}}, "train"), InputError);
    EXPECT_THROW(ReadSplit({Format::kVoc, kBccd, {}}, "nosuchsplit"), InputError);
}

// The shared COCO subset: both splits list all 80 categories in id order.
TEST(SharedCocoTest, CocoUnionSplitsShareEightyCategories) {
    const std::string root = AUTOLOSS_SHARED_DIR "/data/coco_union";
    if (!fs::is_directory(root)) {
        GTEST_SKIP() << "no " << root;
    }
    const DataSource source{Format::kCoco, root, {}};
    const Dataset train = ReadSplit(source, "train2017");
    const Dataset val = ReadSplit(source, "val2017");
    EXPECT_EQ(train.NumImages(), 258u);
    EXPECT_EQ(val.NumImages(), 252u);
    EXPECT_EQ(train.NumClasses(), 80u);
    EXPECT_NO_THROW(RequireSameCategories(train, val, "val2017"));
}

}  // namespace
}  // namespace autoloss::data
