#include "data/loader.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "util/check.h"
#include "util/error.h"

namespace autoloss::data {

ResizedSize ResizeShape(int width, int height, const TransformConfig& config) {
    const double short_side = std::min(width, height);
    const double long_side = std::max(width, height);
    double scale = config.short_side / short_side;
    if (long_side * scale > config.long_side) {
        scale = config.long_side / long_side;
    }
    return {std::max(1, static_cast<int>(std::lround(height * scale))),
            std::max(1, static_cast<int>(std::lround(width * scale))),
            static_cast<float>(scale)};
}

void PrepareImage(const DecodedImage& image,
                  const ImageRecord& record,
                  std::span<const Box> boxes,
                  const TransformConfig& config,
                  bool flip,
                  int64_t out_height,
                  int64_t out_width,
                  float* out,
                  ImageTarget& target) {
    if (image.width != record.width || image.height != record.height) {
        throw InputError(record.path,
                         "decoded size " + std::to_string(image.width) + "x" +
                             std::to_string(image.height) + " differs from the annotated " +
                             std::to_string(record.width) + "x" + std::to_string(record.height));
    }
    const ResizedSize size = ResizeShape(image.width, image.height, config);
    AUTOLOSS_CHECK(size.height <= out_height && size.width <= out_width, "batch too small");
    const cv::Mat source(
        image.height, image.width, CV_8UC3, const_cast<unsigned char*>(image.rgb.data()));
    cv::Mat resized;
    cv::resize(source, resized, cv::Size(size.width, size.height), 0, 0, cv::INTER_LINEAR);
    if (flip) {
        cv::flip(resized, resized, 1);
    }
    const size_t plane = static_cast<size_t>(out_height * out_width);
    for (int c = 0; c < 3; ++c) {
        const float scale = 1.0f / (255.0f * config.std[c]);
        const float shift = -config.mean[c] / config.std[c];
        // The padding keeps 0: the mean colour once normalised.
        for (int y = 0; y < size.height; ++y) {
            const unsigned char* row = resized.ptr<unsigned char>(y);
            float* dst = out + c * plane + static_cast<size_t>(y) * out_width;
            for (int x = 0; x < size.width; ++x) {
                dst[x] = row[3 * x + c] * scale + shift;
            }
        }
    }
    const float sx = static_cast<float>(size.width) / image.width;
    const float sy = static_cast<float>(size.height) / image.height;
    target.scale = size.scale;
    target.flipped = flip;
    target.height = size.height;
    target.width = size.width;
    target.boxes.clear();
    target.labels.clear();
    target.crowd.clear();
    for (const Box& box : boxes) {
        float x1 = box.x1 * sx;
        float x2 = box.x2 * sx;
        if (flip) {
            const float w = static_cast<float>(size.width);
            std::tie(x1, x2) = std::pair(w - x2, w - x1);
        }
        target.boxes.insert(target.boxes.end(), {x1, box.y1 * sy, x2, box.y2 * sy});
        target.labels.push_back(box.label);
        target.crowd.push_back(box.crowd ? 1 : 0);
    }
}

BatchLoader::BatchLoader(const Dataset& dataset, std::vector<size_t> indices, LoaderConfig config)
    : dataset_(dataset), indices_(std::move(indices)), config_(config) {
    if (indices_.empty()) {
        indices_.resize(dataset.images.size());
        std::iota(indices_.begin(), indices_.end(), size_t{0});
    }
    if (config_.batch_size < 1) {
        throw InputError("batch size " + std::to_string(config_.batch_size), "must be positive");
    }
    if (config_.transform.short_side < 1 || config_.transform.long_side < 1 ||
        config_.transform.pad_divisor < 1) {
        throw InputError("transform", "short side, long side and pad divisor must be positive");
    }
}

BatchLoader::~BatchLoader() {
    Stop();
}

size_t BatchLoader::NumBatches() const {
    const size_t n = indices_.size();
    const size_t b = static_cast<size_t>(config_.batch_size);
    return config_.drop_last ? n / b : (n + b - 1) / b;
}

void BatchLoader::Stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    changed_.notify_all();
    if (worker_.joinable()) {
        worker_.join();
    }
}

void BatchLoader::StartEpoch(int epoch) {
    Stop();
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = false;
    done_ = false;
    has_ready_ = false;
    ready_.reset();
    error_ = nullptr;
    worker_ = std::thread([this, epoch] { Produce(epoch); });
}

std::optional<Batch> BatchLoader::Next() {
    if (!worker_.joinable()) {
        StartEpoch(0);
    }
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return has_ready_ || done_; });
    if (has_ready_) {
        std::optional<Batch> batch = std::move(ready_);
        ready_.reset();
        has_ready_ = false;
        changed_.notify_all();
        return batch;
    }
    if (error_) {
        std::rethrow_exception(error_);
    }
    return std::nullopt;
}

void BatchLoader::Produce(int epoch) {
    try {
        // Order and flips depend only on (seed, epoch), never on timing.
        std::mt19937_64 rng(config_.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch));
        std::vector<size_t> order = indices_;
        if (config_.shuffle) {
            for (size_t i = order.size(); i > 1; --i) {
                std::swap(order[i - 1], order[static_cast<size_t>(rng() % i)]);
            }
        }
        std::vector<bool> flips(order.size());
        for (size_t i = 0; i < order.size(); ++i) {
            flips[i] =
                static_cast<double>(rng() >> 11) * 0x1.0p-53 < config_.transform.flip_probability;
        }
        const size_t b = static_cast<size_t>(config_.batch_size);
        for (size_t start = 0; start < order.size(); start += b) {
            const size_t end = std::min(order.size(), start + b);
            if (config_.drop_last && end - start < b) {
                break;
            }
            Batch batch = MakeBatch({order.begin() + start, order.begin() + end},
                                    {flips.begin() + start, flips.begin() + end});
            std::unique_lock<std::mutex> lock(mutex_);
            changed_.wait(lock, [this] { return !has_ready_ || stop_; });
            if (stop_) {
                return;
            }
            ready_ = std::move(batch);
            has_ready_ = true;
            changed_.notify_all();
        }
    } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        error_ = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
    changed_.notify_all();
}

std::shared_ptr<const DecodedImage> BatchLoader::Image(size_t index) {
    if (config_.cache_images) {
        std::lock_guard<std::mutex> lock(cache_mutex_);
        const auto cached = cache_.find(index);
        if (cached != cache_.end()) {
            return cached->second;
        }
    }
    auto image = std::make_shared<const DecodedImage>(DecodeImage(dataset_.images[index].path));
    if (config_.cache_images) {
        std::lock_guard<std::mutex> lock(cache_mutex_);
        cache_.emplace(index, image);
    }
    return image;
}

Batch BatchLoader::MakeBatch(const std::vector<size_t>& images, const std::vector<bool>& flips) {
    std::vector<std::shared_ptr<const DecodedImage>> decoded;
    int max_height = 0;
    int max_width = 0;
    for (size_t index : images) {
        decoded.push_back(Image(index));
        const ImageRecord& record = dataset_.images[index];
        const ResizedSize size = ResizeShape(record.width, record.height, config_.transform);
        max_height = std::max(max_height, size.height);
        max_width = std::max(max_width, size.width);
    }
    const int divisor = config_.transform.pad_divisor;
    Batch batch;
    batch.size = static_cast<int64_t>(images.size());
    batch.height = (max_height + divisor - 1) / divisor * divisor;
    batch.width = (max_width + divisor - 1) / divisor * divisor;
    const size_t image_floats = static_cast<size_t>(3 * batch.height * batch.width);
    batch.images.assign(image_floats * images.size(), 0.0f);
    batch.targets.resize(images.size());
    for (size_t b = 0; b < images.size(); ++b) {
        batch.targets[b].image_index = images[b];
        PrepareImage(*decoded[b],
                     dataset_.images[images[b]],
                     dataset_.Boxes(images[b]),
                     config_.transform,
                     flips[b],
                     batch.height,
                     batch.width,
                     batch.images.data() + b * image_floats,
                     batch.targets[b]);
    }
    return batch;
}

}  // namespace autoloss::data
