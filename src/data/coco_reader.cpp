#include "data/coco_reader.h"

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <unordered_map>

#include "metrics/coco_format.h"
#include "util/error.h"

namespace autoloss::data {

Dataset ReadCocoDataset(const std::string& json_path,
                        const std::string& image_dir,
                        const ReadOptions& options) {
    const metrics::CocoInstances coco = metrics::ReadCocoInstances(json_path);

    std::vector<size_t> category_order(coco.categories.size());
    std::iota(category_order.begin(), category_order.end(), size_t{0});
    std::stable_sort(category_order.begin(), category_order.end(), [&](size_t a, size_t b) {
        return coco.categories[a].id < coco.categories[b].id;
    });
    std::vector<Category> categories;
    std::unordered_map<int64_t, int> label_of;
    for (size_t c : category_order) {
        const metrics::CocoCategory& category = coco.categories[c];
        if (!label_of.emplace(category.id, static_cast<int>(categories.size())).second) {
            throw InputError(json_path + ": categories[" + std::to_string(c) + "]",
                             "duplicate category id " + std::to_string(category.id));
        }
        categories.push_back({category.id, category.name});
    }
    DatasetBuilder builder(std::filesystem::path(json_path).stem().string(), categories, options);

    std::unordered_map<int64_t, size_t> image_of;
    image_of.reserve(coco.images.size() * 2);
    std::vector<char> keep_image(coco.images.size(), 0);
    for (size_t i = 0; i < coco.images.size(); ++i) {
        const metrics::CocoImage& image = coco.images[i];
        if (!image_of.emplace(image.id, i).second) {
            builder.Report(LoadReport::kDuplicateImage,
                           "images[" + std::to_string(i) + "] id " + std::to_string(image.id));
            continue;
        }
        if (image.file_name.empty()) {
            throw InputError(json_path + ": images[" + std::to_string(i) + "] (id " +
                                 std::to_string(image.id) + ")",
                             "no file_name");
        }
        keep_image[i] = 1;
    }

    // Annotations grouped by image, file order kept within an image (a stable counting sort).
    std::vector<int64_t> image_index(coco.annotations.size(), -1);
    std::unordered_map<int64_t, size_t> seen_annotation;
    seen_annotation.reserve(coco.annotations.size() * 2);
    for (size_t n = 0; n < coco.annotations.size(); ++n) {
        const metrics::CocoAnnotation& ann = coco.annotations[n];
        const std::string where = "annotations[" + std::to_string(n) + "]";
        if (!seen_annotation.emplace(ann.id, n).second) {
            builder.Report(LoadReport::kDuplicateBox, where + " id " + std::to_string(ann.id));
            continue;
        }
        const auto image = image_of.find(ann.image_id);
        if (image == image_of.end()) {
            builder.Report(LoadReport::kUnknownImage,
                           where + " image_id " + std::to_string(ann.image_id));
            continue;
        }
        if (!label_of.count(ann.category_id)) {
            builder.Report(LoadReport::kUnknownCategory,
                           where + " category_id " + std::to_string(ann.category_id));
            continue;
        }
        image_index[n] = static_cast<int64_t>(image->second);
    }
    std::vector<size_t> begin(coco.images.size() + 1, 0);
    for (int64_t i : image_index) {
        if (i >= 0) {
            ++begin[static_cast<size_t>(i) + 1];
        }
    }
    std::partial_sum(begin.begin(), begin.end(), begin.begin());
    std::vector<size_t> grouped(begin.back());
    std::vector<size_t> next(begin.begin(), begin.end() - 1);
    for (size_t n = 0; n < image_index.size(); ++n) {
        if (image_index[n] >= 0) {
            grouped[next[static_cast<size_t>(image_index[n])]++] = n;
        }
    }

    const std::filesystem::path dir(image_dir);
    for (size_t i = 0; i < coco.images.size(); ++i) {
        if (!keep_image[i]) {
            continue;
        }
        const metrics::CocoImage& source = coco.images[i];
        ImageRecord image;
        image.id = source.id;
        image.path = (dir / source.file_name).string();
        image.width = static_cast<int32_t>(source.width);
        image.height = static_cast<int32_t>(source.height);
        if (!builder.AddImage(std::move(image), "images[" + std::to_string(i) + "]")) {
            continue;
        }
        for (size_t g = begin[i]; g < begin[i + 1]; ++g) {
            const metrics::CocoAnnotation& ann = coco.annotations[grouped[g]];
            const auto& b = ann.bbox;
            builder.AddBox(b[0],
                           b[1],
                           b[0] + b[2],
                           b[1] + b[3],
                           label_of[ann.category_id],
                           ann.iscrowd,
                           ann.has_area ? ann.area : -1.0,
                           "annotations[" + std::to_string(grouped[g]) + "] (id " +
                               std::to_string(ann.id) + ")");
        }
    }
    return builder.Finish();
}

}  // namespace autoloss::data
