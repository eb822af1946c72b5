#pragma once

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

namespace autoloss::detect {

// One training or inference batch on the model's device. Images are padded to a common size.
struct DetectionBatch {
    at::Tensor images;  // [B, 3, H, W] float32, normalised (ImageNet mean/std), zero padding
    at::Tensor boxes;   // [B, G, 4] float32 x1 y1 x2 y2 in input pixels, padded rows arbitrary
    at::Tensor labels;  // [B, G] int64 class in [0, C), -1 on padded rows
    std::vector<std::array<int64_t, 2>> sizes;  // per image: valid height, width before padding
};

// Detections of one image, in input pixels of the (resized) image.
struct Detections {
    at::Tensor boxes;   // [K, 4] float32 x1 y1 x2 y2
    at::Tensor scores;  // [K] float32, descending
    at::Tensor labels;  // [K] int64 class in [0, C)
};

// The named loss terms of one step; `total` is what the optimiser minimises. Values are scalar
// float32 tensors attached to the graph.
struct LossTerms {
    at::Tensor total;
    std::map<std::string, at::Tensor> terms;
};

// Arithmetic of the convolution stack; losses and targets are always float32.
enum class Precision { kFloat32, kBFloat16 };

// What the training loop needs from any detector (FCOS here, Faster R-CNN in issue 6).
class Detector : public torch::nn::Module {
public:
    // The losses of `batch` in training mode, differentiable.
    virtual LossTerms Loss(const DetectionBatch& batch) = 0;

    // Detections for `images` [B, 3, H, W] whose valid regions are `sizes`, in eval mode and
    // without gradients (the caller sets both).
    virtual std::vector<Detections> Detect(const at::Tensor& images,
                                           const std::vector<std::array<int64_t, 2>>& sizes) = 0;

    // Selects the convolution arithmetic and memory layout (channels-last) for later calls.
    virtual void SetPrecision(Precision precision, bool channels_last) = 0;
};

}  // namespace autoloss::detect
