#pragma once

// The in-memory detection data set every reader produces and every trainer consumes: images
// with their boxes stored flat (one array of boxes grouped by image), categories with a dense
// label each, and the report of what was repaired on load.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "metrics/coco_format.h"

namespace autoloss::data {

// A category: `id` as the source names it (COCO category id; 1-based for VOC and YOLO);
// its dense label is its index in Dataset::categories.
struct Category {
    int64_t id = 0;
    std::string name;
};

// One ground-truth box: x1 y1 x2 y2 in pixels of the original image (x2 > x1, y2 > y1 after
// validation), `label` indexes Dataset::categories, `area` is COCO's area field (the mask area)
// or the box area where the source has none.
struct Box {
    float x1 = 0;
    float y1 = 0;
    float x2 = 0;
    float y2 = 0;
    int32_t label = 0;
    bool crowd = false;
    float area = 0;
};

// One image: `path` is the file to decode; its boxes are Dataset::boxes[first_box, +num_boxes).
struct ImageRecord {
    int64_t id = 0;
    std::string path;
    int32_t width = 0;
    int32_t height = 0;
    uint32_t first_box = 0;
    uint32_t num_boxes = 0;
};

// What a reader repaired, counted by kind, with the first few cases named for the user.
class LoadReport {
  public:
    enum Kind {
        kDegenerateBox,      // zero or negative width or height: dropped
        kClippedBox,         // partly outside the image: clipped to it
        kOutsideBox,         // entirely outside the image: dropped
        kMissingImage,       // image file missing: image dropped
        kUnreadableImage,    // image file unreadable or truncated: image dropped
        kUnknownImage,       // annotation naming an image that is not listed: dropped
        kUnknownCategory,    // annotation naming a category that is not listed: dropped
        kDuplicateImage,     // image id listed twice: later entry dropped
        kDuplicateBox,       // annotation id listed twice: later entry dropped
        kImageSizeFromFile,  // image size missing or wrong in the annotation: taken from the file
        kNumKinds,
    };

    // Counts one repair; keeps `detail` (e.g. "BloodImage_00338.xml object 12") for the first few.
    void Add(Kind kind, const std::string& detail);

    size_t Count(Kind kind) const { return counts_[kind]; }
    size_t TotalRepairs() const;

    // One line per repair kind that occurred ("dropped 2 boxes with zero or negative size, e.g.
    // ..."), or "no repairs".
    std::string Summary() const;

  private:
    static constexpr size_t kExamples = 3;
    std::array<size_t, kNumKinds> counts_{};
    std::array<std::vector<std::string>, kNumKinds> examples_;
};

// A detection data set. Boxes are grouped by image in image order.
struct Dataset {
    std::string name;
    std::vector<Category> categories;
    std::vector<ImageRecord> images;
    std::vector<Box> boxes;
    LoadReport report;

    size_t NumImages() const { return images.size(); }
    size_t NumClasses() const { return categories.size(); }

    // The boxes of image `index`.
    std::span<const Box> Boxes(size_t index) const {
        const ImageRecord& image = images[index];
        return {boxes.data() + image.first_box, image.num_boxes};
    }

    // "images=364 boxes=4886 classes=3 repairs=2" and the report's summary lines.
    std::string Describe() const;
};

// A data set of the chosen images (indices into `dataset.images`, any order, no repeats needed),
// with the same categories; the report is copied.
Dataset Subset(const Dataset& dataset, const std::vector<size_t>& indices);

// The data set as COCO ground truth for the metric: bbox [x1, y1, x2 - x1, y2 - y1], the box's
// area field, annotation ids 1.. in box order, category ids as in `categories`.
metrics::CocoInstances ToCocoInstances(const Dataset& dataset);

}  // namespace autoloss::data
