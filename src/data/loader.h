#pragma once

// Training input: images resized keeping their aspect ratio, optionally flipped, normalised and
// padded into one float batch, with each image's boxes mapped the same way. A BatchLoader
// prepares the next batch on a background thread while the caller trains on the current one.
// The buffers are plain floats; the detector module wraps them into tensors.

#include <array>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "data/dataset.h"
#include "data/image_file.h"

namespace autoloss::data {

// How images become network input.
struct TransformConfig {
    // Scale so the short side is `short_side`, unless the long side would exceed `long_side`,
    // then so the long side is `long_side` (detectron2's ResizeShortestEdge).
    int short_side = 512;
    int long_side = 853;
    double flip_probability = 0.0;  // horizontal flip; 0.5 for training, 0 for evaluation
    // Per-channel RGB normalisation on [0, 1] pixel values: (v / 255 - mean) / std.
    std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};
    std::array<float, 3> std = {0.229f, 0.224f, 0.225f};
    int pad_divisor = 32;  // batch height and width are rounded up to a multiple of this
};

// One image's targets in network-input pixels.
struct ImageTarget {
    size_t image_index = 0;       // index into the data set the loader reads
    std::vector<float> boxes;     // [n, 4] x1 y1 x2 y2 in resized (and flipped) pixels
    std::vector<int64_t> labels;  // [n] dense labels, 0 .. NumClasses() - 1
    std::vector<uint8_t> crowd;   // [n] 1 for crowd boxes (to ignore in training)
    float scale = 1.0f;           // resized size / original size
    bool flipped = false;
    int height = 0;  // resized size before padding
    int width = 0;
};

// A batch: images [size, 3, height, width] float32 RGB, normalised, zero (after normalisation)
// in the padding at the right and bottom; targets[b] belongs to image b.
struct Batch {
    int64_t size = 0;
    int64_t height = 0;
    int64_t width = 0;
    std::vector<float> images;
    std::vector<ImageTarget> targets;
};

// Resizes one decoded image as `config` says and writes it normalised into `out` (a [3, H, W]
// plane set of the batch, H >= resized height, W >= resized width); fills the target's boxes.
// `flip` chooses the horizontal flip. Throws InputError when the image size differs from the
// data set's record (boxes would not fit it).
void PrepareImage(const DecodedImage& image,
                  const ImageRecord& record,
                  std::span<const Box> boxes,
                  const TransformConfig& config,
                  bool flip,
                  int64_t out_height,
                  int64_t out_width,
                  float* out,
                  ImageTarget& target);

// The resized size of a width x height image under `config`: {height, width, scale}.
struct ResizedSize {
    int height;
    int width;
    float scale;
};
ResizedSize ResizeShape(int width, int height, const TransformConfig& config);

// Loader settings.
struct LoaderConfig {
    TransformConfig transform;
    int batch_size = 2;
    bool shuffle = true;     // reshuffle every epoch (seeded by seed and epoch)
    bool drop_last = false;  // drop a last, smaller batch
    uint64_t seed = 0;
    bool cache_images = false;  // keep decoded images in memory (small data sets)
};

// Iterates a data set in batches, one epoch at a time, preparing the next batch on a background
// thread. The data set must outlive the loader. Not thread-safe: one consumer.
class BatchLoader {
  public:
    // `indices` chooses the images (empty: all of them).
    BatchLoader(const Dataset& dataset, std::vector<size_t> indices, LoaderConfig config);
    ~BatchLoader();
    BatchLoader(const BatchLoader&) = delete;
    BatchLoader& operator=(const BatchLoader&) = delete;

    // Starts epoch `epoch` (order and flips depend only on seed and epoch); ends any running one.
    void StartEpoch(int epoch);

    // The next batch of the epoch, or nullopt when it is over. Rethrows an error of the
    // background thread (e.g. InputError for an image that cannot be decoded).
    std::optional<Batch> Next();

    // Batches per epoch.
    size_t NumBatches() const;

  private:
    void Produce(int epoch);
    Batch MakeBatch(const std::vector<size_t>& images, const std::vector<bool>& flips);
    std::shared_ptr<const DecodedImage> Image(size_t index);
    void Stop();

    const Dataset& dataset_;
    std::vector<size_t> indices_;
    LoaderConfig config_;
    std::thread worker_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::optional<Batch> ready_;
    bool has_ready_ = false;
    bool done_ = false;
    bool stop_ = false;
    std::exception_ptr error_;
    std::mutex cache_mutex_;
    std::unordered_map<size_t, std::shared_ptr<const DecodedImage>> cache_;
};

}  // namespace autoloss::data
