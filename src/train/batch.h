#pragma once

// Training and evaluation input for the trainer: decoded images kept in memory, and batches
// assembled from a data::Dataset by the data module's transform (resize, flip, normalise, pad).

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/image_file.h"
#include "data/loader.h"

namespace autoloss::train {

// Decoded images kept in memory up to a byte budget, so repeated epochs (and the many training
// runs of a search) decode each image once; past the budget images are decoded on every use.
// Thread-safe.
class ImageCache {
  public:
    explicit ImageCache(std::size_t budget_bytes = std::size_t{4} << 30);
    ImageCache(ImageCache&&) noexcept;
    ImageCache& operator=(ImageCache&&) noexcept;
    ~ImageCache();

    // The decoded image at `path`. Throws InputError when the file cannot be decoded.
    std::shared_ptr<const data::DecodedImage> Get(const std::string& path);

  private:
    struct State;
    std::unique_ptr<State> state_;
};

// The transform of training (flips chosen per batch) and evaluation images: the short side
// scaled to `min_size` unless the long side would pass `max_size`, ImageNet normalisation,
// padding to a multiple of 32 so every FPN level's grid aligns with the image.
data::TransformConfig DetectorTransform(int min_size, int max_size);

// A batch as plain buffers, ready to become tensors.
struct HostBatch {
    int64_t batch = 0, height = 0, width = 0;  // padded size, multiple of 32
    std::vector<float> images;                 // [B, 3, H, W] normalised
    int64_t max_boxes = 0;
    std::vector<float> boxes;                   // [B, G, 4] resized pixels
    std::vector<int64_t> labels;                // [B, G] dense labels, -1 padding
    std::vector<std::array<int64_t, 2>> sizes;  // valid height, width after resizing
    std::vector<std::array<float, 2>> scales;   // resized / original, x and y, per image
    std::vector<int64_t> image_ids;             // data::ImageRecord::id per image
};

// Assembles images `indices` of `dataset` into one batch, flipping image k horizontally when
// flips[k] (empty: no flips). Crowd boxes are left out of the targets: they mark regions to
// ignore, not objects to find. Throws InputError for an image that cannot be decoded or whose
// size differs from its record.
HostBatch MakeHostBatch(const data::Dataset& dataset,
                        const std::vector<int>& indices,
                        const std::vector<bool>& flips,
                        const data::TransformConfig& transform,
                        ImageCache& cache);

}  // namespace autoloss::train
