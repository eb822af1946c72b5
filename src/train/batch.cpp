#include "train/batch.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>

namespace autoloss::train {

struct ImageCache::State {
    std::size_t budget_bytes = 0;
    std::size_t used_bytes = 0;
    std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<const data::DecodedImage>> images;
};

ImageCache::ImageCache(std::size_t budget_bytes) : state_(std::make_unique<State>()) {
    state_->budget_bytes = budget_bytes;
}

ImageCache::ImageCache(ImageCache&&) noexcept = default;
ImageCache& ImageCache::operator=(ImageCache&&) noexcept = default;
ImageCache::~ImageCache() = default;

std::shared_ptr<const data::DecodedImage> ImageCache::Get(const std::string& path) {
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        const auto it = state_->images.find(path);
        if (it != state_->images.end()) {
            return it->second;
        }
    }
    auto image = std::make_shared<const data::DecodedImage>(data::DecodeImage(path));
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->used_bytes + image->rgb.size() <= state_->budget_bytes) {
        state_->used_bytes += image->rgb.size();
        state_->images.emplace(path, image);
    }
    return image;
}

data::TransformConfig DetectorTransform(int min_size, int max_size) {
    data::TransformConfig transform;
    transform.short_side = min_size;
    transform.long_side = max_size;
    transform.pad_divisor = 32;
    return transform;
}

HostBatch MakeHostBatch(const data::Dataset& dataset,
                        const std::vector<int>& indices,
                        const std::vector<bool>& flips,
                        const data::TransformConfig& transform,
                        ImageCache& cache) {
    HostBatch batch;
    batch.batch = static_cast<int64_t>(indices.size());
    int64_t height = 0;
    int64_t width = 0;
    for (const int index : indices) {
        const data::ImageRecord& record = dataset.images[index];
        const data::ResizedSize size = data::ResizeShape(record.width, record.height, transform);
        height = std::max<int64_t>(height, size.height);
        width = std::max<int64_t>(width, size.width);
        batch.max_boxes = std::max<int64_t>(batch.max_boxes, record.num_boxes);
    }
    const int64_t divisor = transform.pad_divisor;
    batch.height = (height + divisor - 1) / divisor * divisor;
    batch.width = (width + divisor - 1) / divisor * divisor;
    const int64_t image_floats = 3 * batch.height * batch.width;
    batch.images.assign(batch.batch * image_floats, 0.0f);
    batch.boxes.assign(batch.batch * batch.max_boxes * 4, 0.0f);
    batch.labels.assign(batch.batch * batch.max_boxes, -1);
    data::ImageTarget target;
    for (int64_t b = 0; b < batch.batch; ++b) {
        const data::ImageRecord& record = dataset.images[indices[b]];
        const auto decoded = cache.Get(record.path);
        data::PrepareImage(*decoded,
                           record,
                           dataset.Boxes(indices[b]),
                           transform,
                           !flips.empty() && flips[b],
                           batch.height,
                           batch.width,
                           batch.images.data() + b * image_floats,
                           target);
        int64_t slot = b * batch.max_boxes;
        for (std::size_t k = 0; k < target.labels.size(); ++k) {
            if (target.crowd[k]) {
                continue;
            }
            std::copy_n(target.boxes.begin() + 4 * k, 4, batch.boxes.begin() + 4 * slot);
            batch.labels[slot++] = target.labels[k];
        }
        batch.sizes.push_back({target.height, target.width});
        batch.scales.push_back({static_cast<float>(target.width) / record.width,
                                static_cast<float>(target.height) / record.height});
        batch.image_ids.push_back(record.id);
    }
    return batch;
}

}  // namespace autoloss::train
