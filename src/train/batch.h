#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "metrics/coco_format.h"

namespace autoloss::train {

// One annotated image as training reads it: boxes in original pixels.
struct AnnotatedImage {
    int64_t id = 0;        // the COCO image id used by evaluation (1-based position)
    std::string name;      // file stem, e.g. BloodImage_00001
    std::string path;      // image file
    int64_t width = 0;
    int64_t height = 0;
    std::vector<std::array<float, 4>> boxes;  // x1 y1 x2 y2, original pixels
    std::vector<int> labels;                  // index into DetectionSet::classes
};

// A labelled image set with its class list.
struct DetectionSet {
    std::vector<std::string> classes;
    std::vector<AnnotatedImage> images;

    // The ground truth as a COCO instances record (category id = class index + 1), for the
    // COCO metric.
    metrics::CocoInstances AsCoco() const;

    // The images whose names are in `names`, in that order; throws InputError for a missing one.
    DetectionSet Subset(const std::vector<std::string>& names) const;
};

// Reads split `split` (ImageSets/Main/<split>.txt) of a Pascal VOC folder (Annotations/,
// JPEGImages/). `classes` fixes the class order; empty means the sorted names found in the
// split. Throws InputError naming the file for a missing or malformed annotation.
// TODO(#5): switch to the data module's VOC/COCO/YOLO readers once src/data/ lands; this
// adapter covers VOC only.
DetectionSet ReadVocSplit(const std::string& root,
                          const std::string& split,
                          const std::vector<std::string>& classes = {});

// Resized images kept in memory, so repeated epochs (and repeated training runs of a search)
// decode and resize each image once.
class ImageCache {
public:
    // Images are scaled so the short side is `min_size` unless the long side would exceed
    // `max_size` (torchvision's GeneralizedRCNNTransform rule).
    ImageCache(int min_size, int max_size);
    ~ImageCache();

    // The resized image of `image` as RGB uint8 [h, w, 3], with the scale applied to its
    // coordinates. Throws InputError when the file cannot be decoded.
    struct Resized {
        std::vector<uint8_t> rgb;
        int height = 0;
        int width = 0;
        double scale = 1.0;
    };
    const Resized& Get(const AnnotatedImage& image);

private:
    struct State;
    std::unique_ptr<State> state_;
};

// A batch as plain float buffers, ready to become tensors.
struct HostBatch {
    int64_t batch = 0, height = 0, width = 0;  // padded size, multiple of 32
    std::vector<float> images;                 // [B, 3, H, W] normalised with ImageNet mean/std
    int64_t max_boxes = 0;
    std::vector<float> boxes;                  // [B, G, 4] resized pixels
    std::vector<int64_t> labels;               // [B, G], -1 padding
    std::vector<std::array<int64_t, 2>> sizes;  // valid height, width
    std::vector<double> scales;                 // resize factor per image
    std::vector<int64_t> image_ids;
};

// Assembles `indices` of `set` into one batch, flipping image k horizontally when flips[k].
HostBatch MakeHostBatch(const DetectionSet& set,
                        const std::vector<int>& indices,
                        const std::vector<bool>& flips,
                        ImageCache& cache);

}  // namespace autoloss::train
