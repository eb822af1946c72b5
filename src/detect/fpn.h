#pragma once

#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>

namespace autoloss::detect {

// Feature pyramid P3-P7 over C3-C5 (Lin et al. 2017; P6/P7 from P5 as in FCOS/RetinaNet).
class FpnImpl : public torch::nn::Module {
public:
    // `in_channels`: channels of C3, C4, C5; every output level has `channels` channels.
    FpnImpl(const std::vector<int64_t>& in_channels, int64_t channels, bool p6p7 = true);

    // {C3, C4, C5} -> {P3, ..., P7} ({P3, P4, P5} without P6/P7), each [B, channels, H/s, W/s]
    // with strides 8, 16, 32, 64, 128.
    std::vector<at::Tensor> forward(const std::vector<at::Tensor>& features);

private:
    std::vector<torch::nn::Conv2d> lateral_;
    std::vector<torch::nn::Conv2d> output_;
    torch::nn::Conv2d p6_{nullptr};
    torch::nn::Conv2d p7_{nullptr};
};
TORCH_MODULE(Fpn);

}  // namespace autoloss::detect
