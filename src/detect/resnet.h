#pragma once

#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

namespace autoloss::detect {

// A ResNet built from scratch (no pretrained weights exist here), shared by every detector.
struct ResNetOptions {
    int depth = 18;      // 18 or 50 (basic or bottleneck blocks)
    double width = 1.0;  // multiplies every channel count; 0.5 gives a light CPU variant
};

// ResNet-18/50 trunk returning the C3, C4, C5 feature maps (strides 8, 16, 32).
class ResNetImpl : public torch::nn::Module {
  public:
    explicit ResNetImpl(const ResNetOptions& options);

    // `images` [B, 3, H, W] normalised float; returns {C3, C4, C5}, each [B, channels(k), H/s,
    // W/s].
    std::vector<at::Tensor> forward(const at::Tensor& images);

    // Channels of C3, C4, C5.
    const std::vector<int64_t>& out_channels() const { return out_channels_; }

  private:
    torch::nn::Conv2d stem_conv_{nullptr};
    torch::nn::BatchNorm2d stem_bn_{nullptr};
    std::vector<torch::nn::Sequential> stages_;
    std::vector<int64_t> out_channels_;
};
TORCH_MODULE(ResNet);

}  // namespace autoloss::detect
