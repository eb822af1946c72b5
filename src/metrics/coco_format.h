#pragma once

// The COCO JSON formats as plain records: instances files (ground truth) and results lists
// (detections). Numbers keep the double values of the file, because the metric must see exactly
// what pycocotools sees; the data module builds its training data set on top of these readers.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace autoloss::metrics {

// One entry of "images": pixel size as written (0 when absent).
struct CocoImage {
    int64_t id = 0;
    int64_t width = 0;
    int64_t height = 0;
    std::string file_name;
};

// One entry of "categories".
struct CocoCategory {
    int64_t id = 0;
    std::string name;
    std::string supercategory;
};

// One entry of "annotations"; bbox is [x, y, w, h] in pixels as written. `area` is the file's
// field (COCO: the mask area), or w*h when the file has none (then `has_area` is false).
struct CocoAnnotation {
    int64_t id = 0;
    int64_t image_id = 0;
    int64_t category_id = 0;
    std::array<double, 4> bbox{};
    double area = 0.0;
    bool has_area = false;
    bool iscrowd = false;
};

// A whole instances file; records keep file order. Segmentations are skipped, not stored.
struct CocoInstances {
    std::vector<CocoImage> images;
    std::vector<CocoCategory> categories;
    std::vector<CocoAnnotation> annotations;
};

// One entry of a results list; bbox is [x, y, w, h] in pixels.
struct CocoDetection {
    int64_t image_id = 0;
    int64_t category_id = 0;
    std::array<double, 4> bbox{};
    double score = 0.0;
};

// Parses an instances JSON text; `context` (usually the file name) prefixes every error.
// Throws InputError naming the record for malformed JSON, a text that is not an instances object,
// missing or mistyped fields and infinite numbers. Box sizes and referential checks (unknown
// images or categories, duplicate ids) are left to the caller, which repairs or refuses them.
CocoInstances ParseCocoInstances(std::string_view text, const std::string& context);

// Reads and parses an instances file; throws InputError when it cannot be read or parsed.
CocoInstances ReadCocoInstances(const std::string& path);

// Parses a results list (a JSON array of {image_id, category_id, bbox, score}); an empty array
// is valid. Throws InputError naming the entry for malformed JSON, a non-array top level, missing
// or mistyped fields and infinite numbers (JSON has no NaN). Box sizes are the caller's check.
std::vector<CocoDetection> ParseCocoResults(std::string_view text, const std::string& context);

// Reads and parses a results file; throws InputError when it cannot be read or parsed.
std::vector<CocoDetection> ReadCocoResults(const std::string& path);

// Writes a results list as JSON, one detection a line, each number as the shortest text that
// reads back to the same double.
std::string FormatCocoResults(const std::vector<CocoDetection>& detections);

// Writes FormatCocoResults() to a file; throws InputError when it cannot be written.
void WriteCocoResults(const std::string& path, const std::vector<CocoDetection>& detections);

// Reads a whole file into memory; throws InputError(path, ...) when it cannot be read.
std::string ReadTextFile(const std::string& path);

}  // namespace autoloss::metrics
