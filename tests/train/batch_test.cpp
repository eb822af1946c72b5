#include "train/batch.h"

#include <gtest/gtest.h>

#include "train/fixtures.h"
#include "util/error.h"

namespace autoloss::train {
namespace {

TEST(HostBatchTest, BatchesArePaddedNormalisedAndFlipped) {
    const data::Dataset set = BccdImages("val", {"BloodImage_00000"});
    ImageCache cache;
    const data::TransformConfig transform = DetectorTransform(320, 1333);
    const HostBatch plain = MakeHostBatch(set, {0}, {false}, transform, cache);
    EXPECT_EQ(plain.height, 320);
    EXPECT_EQ(plain.width, 448);  // 640 x 480 scaled to 427 x 320, padded to a multiple of 32
    EXPECT_EQ(plain.sizes[0], (std::array<int64_t, 2>{320, 427}));
    EXPECT_NEAR(plain.scales[0][0], 427.0f / 640.0f, 1e-6);
    EXPECT_NEAR(plain.scales[0][1], 320.0f / 480.0f, 1e-6);
    EXPECT_EQ(plain.max_boxes, static_cast<int64_t>(set.boxes.size()));
    // Boxes are the annotation scaled per axis; labels carry over.
    const data::Box& first = set.boxes[0];
    EXPECT_NEAR(plain.boxes[0], first.x1 * plain.scales[0][0], 1e-3);
    EXPECT_NEAR(plain.boxes[3], first.y2 * plain.scales[0][1], 1e-3);
    EXPECT_EQ(plain.labels[0], first.label);
    // Padding is zero, the normalised mean colour.
    EXPECT_EQ(plain.images[447], 0.0f);
    const HostBatch flipped = MakeHostBatch(set, {0}, {true}, transform, cache);
    // A flipped box keeps its width and mirrors about the valid image width.
    EXPECT_NEAR(flipped.boxes[0], 427 - plain.boxes[2], 1e-3);
    EXPECT_NEAR(flipped.boxes[2] - flipped.boxes[0], plain.boxes[2] - plain.boxes[0], 1e-3);
    // Pixel (x, 0) of the flip is pixel (426 - x, 0) of the original, channel 0.
    EXPECT_FLOAT_EQ(flipped.images[10], plain.images[426 - 10]);
}

TEST(HostBatchTest, CrowdBoxesAreLeftOutOfTheTargets) {
    data::Dataset set = BccdImages("val", {"BloodImage_00000"});
    ImageCache cache;
    set.boxes[0].crowd = true;
    const HostBatch batch = MakeHostBatch(set, {0}, {}, DetectorTransform(320, 1333), cache);
    const auto valid = std::count_if(
        batch.labels.begin(), batch.labels.end(), [](int64_t label) { return label >= 0; });
    EXPECT_EQ(valid, static_cast<long>(set.boxes.size()) - 1);
    EXPECT_EQ(batch.labels[valid], -1);  // the free slot is padding at the end
}

TEST(ImageCacheTest, KeepsImagesWithinItsBudgetOnly) {
    const std::string path = kBccd + "/JPEGImages/BloodImage_00000.jpg";
    ImageCache roomy;
    EXPECT_EQ(roomy.Get(path).get(), roomy.Get(path).get());
    ImageCache none(0);
    const auto a = none.Get(path);
    const auto b = none.Get(path);
    EXPECT_NE(a.get(), b.get());  // decoded again: nothing is kept
    EXPECT_EQ(a->rgb, b->rgb);
    EXPECT_EQ(a->width, 640);
    EXPECT_THROW(roomy.Get(kBccd + "/JPEGImages/NotAnImage.jpg"), InputError);
}

}  // namespace
}  // namespace autoloss::train
