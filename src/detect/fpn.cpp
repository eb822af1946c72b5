#include "detect/fpn.h"

#include <string>

#include <torch/torch.h>

namespace autoloss::detect {

namespace {

torch::nn::Conv2d FpnConv(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
    torch::nn::Conv2d conv(
        torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2));
    // The initialisation torchvision and Detectron use for FPN convolutions.
    torch::nn::init::kaiming_uniform_(conv->weight, 1.0);
    torch::nn::init::zeros_(conv->bias);
    return conv;
}

}  // namespace

FpnImpl::FpnImpl(const std::vector<int64_t>& in_channels, int64_t channels, bool p6p7) {
    for (std::size_t k = 0; k < in_channels.size(); ++k) {
        lateral_.push_back(register_module("lateral" + std::to_string(k),
                                           FpnConv(in_channels[k], channels, 1, 1)));
        output_.push_back(
            register_module("output" + std::to_string(k), FpnConv(channels, channels, 3, 1)));
    }
    if (p6p7) {
        p6_ = register_module("p6", FpnConv(channels, channels, 3, 2));
        p7_ = register_module("p7", FpnConv(channels, channels, 3, 2));
    }
}

std::vector<at::Tensor> FpnImpl::forward(const std::vector<at::Tensor>& features) {
    const std::size_t n = features.size();
    std::vector<at::Tensor> out(n);
    at::Tensor top = lateral_[n - 1]->forward(features[n - 1]);
    out[n - 1] = output_[n - 1]->forward(top);
    for (std::size_t k = n - 1; k-- > 0;) {
        const at::Tensor lateral = lateral_[k]->forward(features[k]);
        top = lateral + torch::upsample_nearest2d(top, {lateral.size(2), lateral.size(3)});
        out[k] = output_[k]->forward(top);
    }
    if (p6_) {
        const at::Tensor p6 = p6_->forward(out[n - 1]);
        out.push_back(p6);
        out.push_back(p7_->forward(p6.relu()));
    }
    return out;
}

}  // namespace autoloss::detect
