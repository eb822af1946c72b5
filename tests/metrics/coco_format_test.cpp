// The COCO JSON readers and writer: what they keep, and a clear error for every bad input.

#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "metrics/coco_format.h"
#include "util/error.h"

namespace autoloss::metrics {
namespace {

// Expects ParseCocoInstances or ParseCocoResults to throw InputError whose text has `needle`.
template <typename Parse>
void ExpectError(Parse parse, const std::string& text, const std::string& needle) {
    try {
        parse(text, "test.json");
        FAIL() << "expected InputError for: " << text;
    } catch (const InputError& error) {
        EXPECT_NE(std::string(error.what()).find(needle), std::string::npos)
            << "message: " << error.what();
        EXPECT_EQ(std::string(error.what()).rfind("test.json", 0), 0u) << error.what();
    }
}

const auto kInstances = [](const std::string& text, const std::string& context) {
    return ParseCocoInstances(text, context);
};
const auto kResults = [](const std::string& text, const std::string& context) {
    return ParseCocoResults(text, context);
};

TEST(CocoFormatTest, ReadsAnInstancesFileAndSkipsWhatItDoesNotNeed) {
    const std::string text = R"({
        "info": {"year": 2017, "nested": {"deep": [1, 2, {"x": null}]}},
        "licenses": [{"id": 1}],
        "images": [{"id": 3, "width": 640, "height": 480, "file_name": "a.jpg", "extra": [1]}],
        "categories": [{"id": 5, "name": "cat", "supercategory": "animal"}, {"id": 6}],
        "annotations": [
            {"id": 10, "image_id": 3, "category_id": 5, "bbox": [1.5, 2, 30, 40.25],
             "area": 1000.5, "iscrowd": 1, "segmentation": {"counts": [1, 2], "size": [4, 4]}},
            {"id": 11, "image_id": 3, "category_id": 6, "bbox": [0, 0, 10, 20],
             "segmentation": [[0, 0, 10, 0, 10, 20]], "iscrowd": false}
        ]
    })";
    const CocoInstances instances = ParseCocoInstances(text, "test.json");
    ASSERT_EQ(instances.images.size(), 1u);
    EXPECT_EQ(instances.images[0].id, 3);
    EXPECT_EQ(instances.images[0].width, 640);
    EXPECT_EQ(instances.images[0].file_name, "a.jpg");
    ASSERT_EQ(instances.categories.size(), 2u);
    EXPECT_EQ(instances.categories[0].name, "cat");
    EXPECT_EQ(instances.categories[0].supercategory, "animal");
    EXPECT_EQ(instances.categories[1].name, "6");
    ASSERT_EQ(instances.annotations.size(), 2u);
    const CocoAnnotation& a = instances.annotations[0];
    EXPECT_EQ(a.id, 10);
    EXPECT_EQ(a.bbox, (std::array<double, 4>{1.5, 2, 30, 40.25}));
    EXPECT_EQ(a.area, 1000.5);
    EXPECT_TRUE(a.has_area);
    EXPECT_TRUE(a.iscrowd);
    const CocoAnnotation& b = instances.annotations[1];
    EXPECT_FALSE(b.has_area);
    EXPECT_EQ(b.area, 200.0);
    EXPECT_FALSE(b.iscrowd);
}

TEST(CocoFormatTest, ReadsAResultsListWithIntegerAndExponentNumbers) {
    const auto dets = ParseCocoResults(
        R"([{"image_id": 1, "category_id": 2, "bbox": [1, 2, 3, 4], "score": 1},
            {"image_id": 1, "category_id": 2, "bbox": [1e1, 2, 3, 4], "score": 5e-06,
             "segmentation": []}])",
        "test.json");
    ASSERT_EQ(dets.size(), 2u);
    EXPECT_EQ(dets[0].score, 1.0);
    EXPECT_EQ(dets[1].bbox[0], 10.0);
    EXPECT_EQ(dets[1].score, 5e-06);
}

TEST(CocoFormatTest, AcceptsAnEmptyResultsList) {
    EXPECT_TRUE(ParseCocoResults("[]", "test.json").empty());
    EXPECT_TRUE(ParseCocoResults(" [ ]\n", "test.json").empty());
}

TEST(CocoFormatTest, WritesResultsThatReadBackIdentically) {
    const std::vector<CocoDetection> dets = {
        {1, 2, {0.1, 0.2, 1.0 / 3.0, 1e-300}, 0.30000000000000004},
        {123456789012, 7, {0, 0, 0, 0}, 0},
    };
    const auto back = ParseCocoResults(FormatCocoResults(dets), "test.json");
    ASSERT_EQ(back.size(), 2u);
    for (size_t n = 0; n < 2; ++n) {
        EXPECT_EQ(back[n].image_id, dets[n].image_id);
        EXPECT_EQ(back[n].category_id, dets[n].category_id);
        EXPECT_EQ(back[n].bbox, dets[n].bbox);
        EXPECT_EQ(back[n].score, dets[n].score);
    }
    EXPECT_EQ(FormatCocoResults({}), "[]\n");
}

TEST(CocoFormatTest, WritesAndReadsAResultsFile) {
    const std::string path =
        (std::filesystem::temp_directory_path() / "autoloss_coco_format_test.json").string();
    WriteCocoResults(path, {{1, 2, {1, 2, 3, 4}, 0.5}});
    EXPECT_EQ(ReadCocoResults(path).size(), 1u);
    std::remove(path.c_str());
}

TEST(CocoFormatTest, NamesTheLineAndColumnOfMalformedJson) {
    ExpectError(kInstances, "{\"images\": [\n{\"id\": 1,,}]}", "malformed JSON at line 2");
    ExpectError(kResults, "[{\"image_id\": 1", "malformed JSON");
    ExpectError(kResults, "", "malformed JSON");
    ExpectError(kResults, "[{\"score\": NaN}]", "malformed JSON");
}

TEST(CocoFormatTest, RefusesJsonThatIsNotCoco) {
    ExpectError(kInstances, "[]", "not a COCO instances file");
    ExpectError(kInstances, R"({"images": [], "categories": []})", "no \"annotations\"");
    ExpectError(
        kInstances, R"({"images": {}, "annotations": [], "categories": []})", "must be an array");
    ExpectError(
        kInstances, R"({"images": 3, "annotations": [], "categories": []})", "must be an array");
    ExpectError(kInstances,
                R"({"images": [3], "annotations": [], "categories": []})",
                "\"images\"[0] is a number");
    ExpectError(kInstances, "42", "not COCO JSON");
    ExpectError(kResults, R"({"annotations": []})", "not a COCO results list");
    ExpectError(kResults, R"(["x"])", "\"results\"[0] is a string");
}

TEST(CocoFormatTest, NamesTheRecordWithAMissingOrMistypedField) {
    const std::string head = R"({"images": [{"id": 1}], "categories": [{"id": 1}], )";
    ExpectError(kInstances,
                head + R"("annotations": [{"id": 1, "image_id": 1, "category_id": 1,
                   "bbox": [1, 2, 3, 4]}, {"id": 2, "image_id": 1, "bbox": [1, 2, 3, 4]}]})",
                "annotations[1]: missing field \"category_id\"");
    ExpectError(kInstances,
                head + R"("annotations": [{"id": 1, "image_id": 1, "category_id": 1,
                   "bbox": [1, 2, 3]}]})",
                "annotations[0]: bbox has 3 numbers");
    ExpectError(kInstances,
                head + R"("annotations": [{"id": "a", "image_id": 1, "category_id": 1,
                   "bbox": [1, 2, 3, 4]}]})",
                "field \"id\" has the wrong type");
    ExpectError(kInstances,
                head + R"("annotations": [{"id": 1.5, "image_id": 1, "category_id": 1,
                   "bbox": [1, 2, 3, 4]}]})",
                "field \"id\" must be an integer");
    ExpectError(kInstances,
                head + R"("annotations": [{"id": 1, "image_id": 1, "category_id": 1,
                   "bbox": [1, 2, 3, 1e999]}]})",
                "number overflow");
    ExpectError(kResults,
                R"([{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]}])",
                "results[0]: missing field \"score\"");
    ExpectError(kResults,
                R"([{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": null}])",
                "field \"score\" is null");
    ExpectError(kResults,
                R"([{"image_id": 1, "category_id": 1, "bbox": [1, 2, "3", 4], "score": 1}])",
                "bbox holds a string");
}

TEST(CocoFormatTest, RefusesAFileThatCannotBeRead) {
    EXPECT_THROW(ReadCocoResults("/nonexistent/dt.json"), InputError);
    EXPECT_THROW(ReadCocoInstances("/nonexistent/gt.json"), InputError);
}

}  // namespace
}  // namespace autoloss::metrics
