#include "train/dataset.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace autoloss::train {
namespace {

// The repository's own copy of BCCD, so the tests run on a fresh clone.
const std::string kBccd = std::string(AUTOLOSS_SOURCE_DIR) + "/data/bccd";

TEST(VocDatasetTest, ReadsBccdTrainSplit) {
    const DetectionSet set = ReadVocSplit(kBccd, "train");
    EXPECT_EQ(set.images.size(), 205u);
    EXPECT_EQ(set.classes, (std::vector<std::string>{"Platelets", "RBC", "WBC"}));
    EXPECT_EQ(set.images[0].width, 640);
    const metrics::CocoInstances coco = set.AsCoco();
    EXPECT_EQ(coco.categories.size(), 3u);
    EXPECT_GT(coco.annotations.size(), 2000u);
}

TEST(VocDatasetTest, BatchesArePaddedNormalisedAndFlipped) {
    const DetectionSet set = ReadVocSplit(kBccd, "val").Subset({"BloodImage_00000"});
    ImageCache cache(320, 1333);
    const HostBatch plain = MakeHostBatch(set, {0}, {false}, cache);
    EXPECT_EQ(plain.height, 320);
    EXPECT_EQ(plain.width, 448);  // 426 padded to a multiple of 32
    EXPECT_EQ(plain.sizes[0], (std::array<int64_t, 2>{320, 426}));
    const HostBatch flipped = MakeHostBatch(set, {0}, {true}, cache);
    // A flipped box keeps its width and mirrors about the valid image width.
    EXPECT_NEAR(flipped.boxes[0], 426 - plain.boxes[2], 1e-3);
    EXPECT_NEAR(flipped.boxes[2] - flipped.boxes[0], plain.boxes[2] - plain.boxes[0], 1e-3);
    // Pixel (x, 0) of the flip is pixel (425 - x, 0) of the original, channel 0.
    EXPECT_FLOAT_EQ(flipped.images[10], plain.images[425 - 10]);
}

TEST(VocDatasetTest, MissingFilesAreInputErrors) {
    EXPECT_THROW(ReadVocSplit("/nonexistent", "train"), InputError);
    EXPECT_THROW(ReadVocSplit(kBccd, "nosuchsplit"), InputError);
    const DetectionSet set = ReadVocSplit(kBccd, "val");
    EXPECT_THROW(set.Subset({"NotAnImage"}), InputError);
}

}  // namespace
}  // namespace autoloss::train
