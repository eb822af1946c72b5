#include "train/dataset.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "util/error.h"

namespace autoloss::train {

namespace {

std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw InputError(path, "cannot open");
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The text of the first <tag>...</tag> in `text` from `from`; npos-safe.
std::string Tag(const std::string& text,
                const std::string& tag,
                std::size_t from = 0,
                std::size_t to = std::string::npos) {
    const std::size_t open = text.find("<" + tag + ">", from);
    if (open == std::string::npos || open >= to) {
        return {};
    }
    const std::size_t begin = open + tag.size() + 2;
    const std::size_t close = text.find("</" + tag + ">", begin);
    if (close == std::string::npos) {
        return {};
    }
    return text.substr(begin, close - begin);
}

struct VocObject {
    std::string name;
    std::array<float, 4> box;
};

double Number(const std::string& text, const std::string& path, const std::string& field) {
    try {
        std::size_t used = 0;
        const double value = std::stod(text, &used);
        if (std::isfinite(value)) {
            return value;
        }
    } catch (const std::exception&) {
    }
    throw InputError(path, "field " + field + " is not a number: '" + text + "'");
}

}  // namespace

metrics::CocoInstances DetectionSet::AsCoco() const {
    metrics::CocoInstances coco;
    for (std::size_t k = 0; k < classes.size(); ++k) {
        coco.categories.push_back({static_cast<int64_t>(k + 1), classes[k], ""});
    }
    int64_t annotation_id = 1;
    for (const auto& image : images) {
        coco.images.push_back({image.id, image.width, image.height, image.name});
        for (std::size_t k = 0; k < image.boxes.size(); ++k) {
            const auto& b = image.boxes[k];
            metrics::CocoAnnotation a;
            a.id = annotation_id++;
            a.image_id = image.id;
            a.category_id = image.labels[k] + 1;
            a.bbox = {b[0], b[1], b[2] - b[0], b[3] - b[1]};
            a.area = a.bbox[2] * a.bbox[3];
            coco.annotations.push_back(a);
        }
    }
    return coco;
}

DetectionSet DetectionSet::Subset(const std::vector<std::string>& names) const {
    DetectionSet subset;
    subset.classes = classes;
    for (const auto& name : names) {
        const auto it =
            std::find_if(images.begin(), images.end(), [&](const AnnotatedImage& image) {
                return image.name == name;
            });
        if (it == images.end()) {
            throw InputError("image subset", "no image named '" + name + "'");
        }
        subset.images.push_back(*it);
    }
    return subset;
}

DetectionSet ReadVocSplit(const std::string& root,
                          const std::string& split,
                          const std::vector<std::string>& classes) {
    namespace fs = std::filesystem;
    const std::string list_path =
        (fs::path(root) / "ImageSets" / "Main" / (split + ".txt")).string();
    std::istringstream list(ReadFile(list_path));
    std::vector<std::string> names;
    for (std::string line; std::getline(list, line);) {
        line.erase(line.find_last_not_of(" \r\t") + 1);
        if (!line.empty()) {
            names.push_back(line);
        }
    }
    if (names.empty()) {
        throw InputError(list_path, "lists no images");
    }
    std::vector<std::vector<VocObject>> objects(names.size());
    DetectionSet set;
    std::set<std::string> found;
    for (std::size_t i = 0; i < names.size(); ++i) {
        const std::string path = (fs::path(root) / "Annotations" / (names[i] + ".xml")).string();
        const std::string xml = ReadFile(path);
        AnnotatedImage image;
        image.id = static_cast<int64_t>(i + 1);
        image.name = names[i];
        const std::string file = Tag(xml, "filename");
        image.path =
            (fs::path(root) / "JPEGImages" / (file.empty() ? names[i] + ".jpg" : file)).string();
        const std::string size = Tag(xml, "size");
        image.width = static_cast<int64_t>(Number(Tag(size, "width"), path, "width"));
        image.height = static_cast<int64_t>(Number(Tag(size, "height"), path, "height"));
        for (std::size_t at = xml.find("<object>"); at != std::string::npos;
             at = xml.find("<object>", at + 1)) {
            const std::size_t end = xml.find("</object>", at);
            const std::string object = xml.substr(at, end == std::string::npos ? end : end - at);
            const std::string box = Tag(object, "bndbox");
            VocObject o;
            o.name = Tag(object, "name");
            if (o.name.empty()) {
                throw InputError(path, "an object has no name");
            }
            o.box = {static_cast<float>(Number(Tag(box, "xmin"), path, "xmin")),
                     static_cast<float>(Number(Tag(box, "ymin"), path, "ymin")),
                     static_cast<float>(Number(Tag(box, "xmax"), path, "xmax")),
                     static_cast<float>(Number(Tag(box, "ymax"), path, "ymax"))};
            found.insert(o.name);
            objects[i].push_back(o);
        }
        set.images.push_back(image);
    }
    set.classes = classes.empty() ? std::vector<std::string>(found.begin(), found.end()) : classes;
    for (std::size_t i = 0; i < names.size(); ++i) {
        for (const auto& o : objects[i]) {
            const auto it = std::find(set.classes.begin(), set.classes.end(), o.name);
            if (it == set.classes.end()) {
                throw InputError(names[i], "class '" + o.name + "' is not in the class list");
            }
            set.images[i].boxes.push_back(o.box);
            set.images[i].labels.push_back(static_cast<int>(it - set.classes.begin()));
        }
    }
    return set;
}

struct ImageCache::State {
    int min_size = 0;
    int max_size = 0;
    std::mutex mutex;
    std::map<std::string, Resized> images;
};

ImageCache::ImageCache(int min_size, int max_size) : state_(std::make_unique<State>()) {
    state_->min_size = min_size;
    state_->max_size = max_size;
}

ImageCache::~ImageCache() = default;

const ImageCache::Resized& ImageCache::Get(const AnnotatedImage& image) {
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        const auto it = state_->images.find(image.path);
        if (it != state_->images.end()) {
            return it->second;
        }
    }
    const cv::Mat bgr = cv::imread(image.path, cv::IMREAD_COLOR);
    if (bgr.empty()) {
        throw InputError(image.path, "cannot decode the image");
    }
    const double short_side = std::min(bgr.rows, bgr.cols);
    const double long_side = std::max(bgr.rows, bgr.cols);
    double scale = state_->min_size / short_side;
    if (long_side * scale > state_->max_size) {
        scale = state_->max_size / long_side;
    }
    Resized resized;
    resized.scale = scale;
    resized.height = static_cast<int>(std::floor(bgr.rows * scale));
    resized.width = static_cast<int>(std::floor(bgr.cols * scale));
    cv::Mat scaled, rgb;
    cv::resize(bgr, scaled, cv::Size(resized.width, resized.height), 0, 0, cv::INTER_LINEAR);
    cv::cvtColor(scaled, rgb, cv::COLOR_BGR2RGB);
    resized.rgb.assign(rgb.data, rgb.data + rgb.total() * 3);
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->images.emplace(image.path, std::move(resized)).first->second;
}

HostBatch MakeHostBatch(const DetectionSet& set,
                        const std::vector<int>& indices,
                        const std::vector<bool>& flips,
                        ImageCache& cache) {
    // ImageNet statistics, as torchvision's detectors normalise.
    constexpr float kMean[3] = {0.485f, 0.456f, 0.406f};
    constexpr float kStd[3] = {0.229f, 0.224f, 0.225f};
    HostBatch batch;
    batch.batch = static_cast<int64_t>(indices.size());
    std::vector<const ImageCache::Resized*> resized;
    for (const int index : indices) {
        const AnnotatedImage& image = set.images[index];
        resized.push_back(&cache.Get(image));
        batch.height = std::max<int64_t>(batch.height, resized.back()->height);
        batch.width = std::max<int64_t>(batch.width, resized.back()->width);
        batch.max_boxes = std::max<int64_t>(batch.max_boxes, image.boxes.size());
    }
    // Padding to a multiple of 32 keeps every FPN level's grid aligned with the image.
    batch.height = (batch.height + 31) / 32 * 32;
    batch.width = (batch.width + 31) / 32 * 32;
    const int64_t plane = batch.height * batch.width;
    batch.images.assign(batch.batch * 3 * plane, 0.0f);
    batch.boxes.assign(batch.batch * batch.max_boxes * 4, 0.0f);
    batch.labels.assign(batch.batch * batch.max_boxes, -1);
    for (int64_t b = 0; b < batch.batch; ++b) {
        const AnnotatedImage& image = set.images[indices[b]];
        const ImageCache::Resized& r = *resized[b];
        const bool flip = !flips.empty() && flips[b];
        float* out = batch.images.data() + b * 3 * plane;
        for (int y = 0; y < r.height; ++y) {
            const uint8_t* row = r.rgb.data() + static_cast<std::size_t>(y) * r.width * 3;
            for (int x = 0; x < r.width; ++x) {
                const int sx = flip ? r.width - 1 - x : x;
                for (int c = 0; c < 3; ++c) {
                    out[c * plane + y * batch.width + x] =
                        (row[sx * 3 + c] / 255.0f - kMean[c]) / kStd[c];
                }
            }
        }
        for (std::size_t k = 0; k < image.boxes.size(); ++k) {
            auto box = image.boxes[k];
            for (auto& v : box) {
                v = static_cast<float>(v * r.scale);
            }
            if (flip) {
                box = {static_cast<float>(r.width) - box[2],
                       box[1],
                       static_cast<float>(r.width) - box[0],
                       box[3]};
            }
            // Degenerate boxes (BCCD has two of zero area) teach nothing and are left out of
            // training targets; evaluation still sees them.
            if (box[2] - box[0] <= 0.0f || box[3] - box[1] <= 0.0f) {
                continue;
            }
            std::copy(box.begin(), box.end(), batch.boxes.begin() + (b * batch.max_boxes + k) * 4);
            batch.labels[b * batch.max_boxes + k] = image.labels[k];
        }
        batch.sizes.push_back({r.height, r.width});
        batch.scales.push_back(r.scale);
        batch.image_ids.push_back(image.id);
    }
    return batch;
}

}  // namespace autoloss::train
