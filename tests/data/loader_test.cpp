// Training input: resize, flip, normalisation, padding and the background loader, on BCCD.

#include <cmath>

#include <gtest/gtest.h>

#include "data/loader.h"
#include "data/voc_reader.h"
#include "util/error.h"

namespace autoloss::data {
namespace {

class LoaderTest : public testing::Test {
  protected:
    static void SetUpTestSuite() {
        VocOptions options;
        options.check_images = ImageCheck::kNone;
        bccd_ = new Dataset(ReadVocDataset(AUTOLOSS_SOURCE_DIR "/data/bccd", "val", options));
    }
    static void TearDownTestSuite() { delete bccd_; }

    static LoaderConfig Config() {
        LoaderConfig config;
        config.transform.short_side = 240;
        config.transform.long_side = 400;
        config.batch_size = 4;
        config.seed = 3;
        return config;
    }

    static Dataset* bccd_;
};

Dataset* LoaderTest::bccd_ = nullptr;

TEST(ResizeShapeTest, ScalesTheShortSideUnlessTheLongSideWouldExceedItsLimit) {
    TransformConfig config;
    config.short_side = 240;
    config.long_side = 1000;
    ResizedSize size = ResizeShape(640, 480, config);
    EXPECT_EQ(size.height, 240);
    EXPECT_EQ(size.width, 320);
    EXPECT_FLOAT_EQ(size.scale, 0.5f);
    config.long_side = 300;
    size = ResizeShape(640, 480, config);
    EXPECT_EQ(size.width, 300);
    EXPECT_EQ(size.height, 225);
}

TEST(PrepareImageTest, NormalisesPixelsAndMirrorsBoxesWhenFlipped) {
    DecodedImage image;
    image.width = 4;
    image.height = 2;
    image.rgb.assign(4 * 2 * 3, 0);
    image.rgb[0] = 255;  // red at the top-left pixel
    ImageRecord record;
    record.width = 4;
    record.height = 2;
    const Box box{0, 0, 1, 2, 0, false, 2};
    TransformConfig config;
    config.short_side = 2;
    config.long_side = 4;
    config.mean = {0.5f, 0.5f, 0.5f};
    config.std = {0.5f, 0.5f, 0.5f};
    std::vector<float> out(3 * 2 * 8, 0.0f);
    ImageTarget target;
    PrepareImage(image, record, {&box, 1}, config, true, 2, 8, out.data(), target);
    // Flipped: the red pixel is now at x = 3; (1 - 0.5) / 0.5 = 1 and (0 - 0.5) / 0.5 = -1.
    EXPECT_FLOAT_EQ(out[3], 1.0f);
    EXPECT_FLOAT_EQ(out[0], -1.0f);
    EXPECT_FLOAT_EQ(out[4], 0.0f);  // padding
    ASSERT_EQ(target.boxes.size(), 4u);
    EXPECT_FLOAT_EQ(target.boxes[0], 3.0f);
    EXPECT_FLOAT_EQ(target.boxes[2], 4.0f);
    EXPECT_TRUE(target.flipped);
}

TEST(PrepareImageTest, RefusesAnImageWhoseSizeDiffersFromItsRecord) {
    DecodedImage image;
    image.width = 4;
    image.height = 2;
    image.rgb.assign(24, 0);
    ImageRecord record;
    record.width = 5;
    record.height = 2;
    std::vector<float> out(3 * 32 * 32);
    ImageTarget target;
    EXPECT_THROW(
        PrepareImage(image, record, {}, TransformConfig{}, false, 32, 32, out.data(), target),
        InputError);
}

TEST_F(LoaderTest, YieldsPaddedBatchesWithScaledBoxesForTheWholeEpoch) {
    LoaderConfig config = Config();
    config.transform.flip_probability = 0.5;
    BatchLoader loader(*bccd_, {}, config);
    EXPECT_EQ(loader.NumBatches(), 22u);  // 87 images in batches of 4
    loader.StartEpoch(0);
    size_t images = 0;
    size_t batches = 0;
    while (auto batch = loader.Next()) {
        ++batches;
        EXPECT_EQ(batch->height % 32, 0);
        EXPECT_EQ(batch->width % 32, 0);
        EXPECT_EQ(batch->height, 256);  // 240 padded
        EXPECT_EQ(batch->width, 320);
        EXPECT_EQ(batch->images.size(), static_cast<size_t>(batch->size * 3 * 256 * 320));
        for (const ImageTarget& target : batch->targets) {
            const auto boxes = bccd_->Boxes(target.image_index);
            ASSERT_EQ(target.labels.size(), boxes.size());
            if (!boxes.empty() && !target.flipped) {
                EXPECT_NEAR(target.boxes[0], boxes[0].x1 * 0.5f, 1e-4);
                EXPECT_NEAR(target.boxes[3], boxes[0].y2 * 0.5f, 1e-4);
            }
            if (!boxes.empty() && target.flipped) {
                EXPECT_NEAR(target.boxes[0], 320 - boxes[0].x2 * 0.5f, 1e-4);
            }
            for (float v : target.boxes) {
                EXPECT_GE(v, 0.0f);
                EXPECT_LE(v, 320.0f);
            }
        }
        images += static_cast<size_t>(batch->size);
    }
    EXPECT_EQ(batches, 22u);
    EXPECT_EQ(images, 87u);
}

TEST_F(LoaderTest, GivesTheSameOrderAndFlipsForTheSameSeedAndEpoch) {
    LoaderConfig config = Config();
    config.transform.flip_probability = 0.5;
    config.cache_images = true;
    auto first_batch = [&](int epoch) {
        BatchLoader loader(*bccd_, {0, 1, 2, 3, 4, 5, 6, 7}, config);
        loader.StartEpoch(epoch);
        return *loader.Next();
    };
    const Batch a = first_batch(1);
    const Batch b = first_batch(1);
    const Batch c = first_batch(2);
    EXPECT_EQ(a.images, b.images);
    std::vector<size_t> order_a, order_c;
    for (size_t i = 0; i < a.targets.size(); ++i) {
        order_a.push_back(a.targets[i].image_index);
        order_c.push_back(c.targets[i].image_index);
    }
    EXPECT_NE(order_a, order_c);
}

TEST_F(LoaderTest, StopsCleanlyInTheMiddleOfAnEpochAndRestarts) {
    BatchLoader loader(*bccd_, {}, Config());
    loader.StartEpoch(0);
    ASSERT_TRUE(loader.Next().has_value());
    loader.StartEpoch(1);
    ASSERT_TRUE(loader.Next().has_value());
}

TEST_F(LoaderTest, ReportsAnImageThatCannotBeDecoded) {
    Dataset broken = Subset(*bccd_, {0, 1});
    broken.images[1].path = "/nonexistent/image.jpg";
    LoaderConfig config = Config();
    config.shuffle = false;
    config.batch_size = 1;
    BatchLoader loader(broken, {}, config);
    ASSERT_TRUE(loader.Next().has_value());
    EXPECT_THROW(loader.Next(), InputError);
}

}  // namespace
}  // namespace autoloss::data
