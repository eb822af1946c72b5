#include "data/dataset.h"

#include <numeric>

namespace autoloss::data {

namespace {

const char* Describe(LoadReport::Kind kind) {
    switch (kind) {
        case LoadReport::kDegenerateBox:
            return "boxes with zero or negative size dropped";
        case LoadReport::kClippedBox:
            return "boxes partly outside their image clipped";
        case LoadReport::kOutsideBox:
            return "boxes entirely outside their image dropped";
        case LoadReport::kMissingImage:
            return "images with a missing file dropped";
        case LoadReport::kUnreadableImage:
            return "images with an unreadable or truncated file dropped";
        case LoadReport::kUnknownImage:
            return "annotations naming an unknown image dropped";
        case LoadReport::kUnknownCategory:
            return "annotations naming an unknown category dropped";
        case LoadReport::kDuplicateImage:
            return "images with a duplicate id dropped (the first kept)";
        case LoadReport::kDuplicateBox:
            return "annotations with a duplicate id dropped (the first kept)";
        case LoadReport::kImageSizeFromFile:
            return "image sizes missing or wrong in the annotations, taken from the file";
        default:
            return "?";
    }
}

}  // namespace

void LoadReport::Add(Kind kind, const std::string& detail) {
    ++counts_[kind];
    if (examples_[kind].size() < kExamples) {
        examples_[kind].push_back(detail);
    }
}

size_t LoadReport::TotalRepairs() const {
    return std::accumulate(counts_.begin(), counts_.end(), size_t{0});
}

std::string LoadReport::Summary() const {
    std::string out;
    for (int kind = 0; kind < kNumKinds; ++kind) {
        if (counts_[kind] == 0) {
            continue;
        }
        out += "repaired: " + std::to_string(counts_[kind]) + " " +
               data::Describe(static_cast<Kind>(kind)) + " (";
        for (size_t n = 0; n < examples_[kind].size(); ++n) {
            out += (n ? "; " : "") + examples_[kind][n];
        }
        out += counts_[kind] > examples_[kind].size() ? "; ...)\n" : ")\n";
    }
    return out.empty() ? "repaired: nothing\n" : out;
}

std::string Dataset::Describe() const {
    return "dataset=" + name + " images=" + std::to_string(images.size()) +
           " boxes=" + std::to_string(boxes.size()) +
           " classes=" + std::to_string(categories.size()) +
           " repairs=" + std::to_string(report.TotalRepairs()) + "\n" + report.Summary();
}

Dataset Subset(const Dataset& dataset, const std::vector<size_t>& indices) {
    Dataset out;
    out.name = dataset.name;
    out.categories = dataset.categories;
    out.report = dataset.report;
    out.images.reserve(indices.size());
    for (size_t index : indices) {
        ImageRecord image = dataset.images[index];
        const auto boxes = dataset.Boxes(index);
        image.first_box = static_cast<uint32_t>(out.boxes.size());
        out.boxes.insert(out.boxes.end(), boxes.begin(), boxes.end());
        out.images.push_back(std::move(image));
    }
    return out;
}

metrics::CocoInstances ToCocoInstances(const Dataset& dataset) {
    metrics::CocoInstances out;
    for (const Category& category : dataset.categories) {
        out.categories.push_back({category.id, category.name, ""});
    }
    int64_t id = 1;
    for (size_t i = 0; i < dataset.images.size(); ++i) {
        const ImageRecord& image = dataset.images[i];
        out.images.push_back({image.id, image.width, image.height, image.path});
        for (const Box& box : dataset.Boxes(i)) {
            metrics::CocoAnnotation ann;
            ann.id = id++;
            ann.image_id = image.id;
            ann.category_id = dataset.categories[box.label].id;
            ann.bbox = {box.x1, box.y1, box.x2 - box.x1, box.y2 - box.y1};
            ann.area = box.area;
            ann.has_area = true;
            ann.iscrowd = box.crowd;
            out.annotations.push_back(ann);
        }
    }
    return out;
}

}  // namespace autoloss::data
