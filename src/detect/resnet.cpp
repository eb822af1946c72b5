#include "detect/resnet.h"

#include <cmath>
#include <string>

#include <torch/torch.h>

#include "util/error.h"

namespace autoloss::detect {

namespace {

torch::nn::Conv2d Conv(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                                 .stride(stride)
                                 .padding(kernel / 2)
                                 .bias(false));
}

// One residual block: basic (two 3x3) or bottleneck (1x1, 3x3, 1x1 with 4x expansion), with a
// 1x1 projection on the shortcut when the shape changes.
class BlockImpl : public torch::nn::Module {
public:
    BlockImpl(int64_t in, int64_t planes, int64_t stride, bool bottleneck) {
        const int64_t out = bottleneck ? planes * 4 : planes;
        if (bottleneck) {
            convs_ = {Conv(in, planes, 1, 1), Conv(planes, planes, 3, stride),
                      Conv(planes, out, 1, 1)};
        } else {
            convs_ = {Conv(in, planes, 3, stride), Conv(planes, out, 3, 1)};
        }
        for (std::size_t k = 0; k < convs_.size(); ++k) {
            register_module("conv" + std::to_string(k + 1), convs_[k]);
            norms_.push_back(register_module(
                "bn" + std::to_string(k + 1),
                torch::nn::BatchNorm2d(convs_[k]->options.out_channels())));
        }
        if (stride != 1 || in != out) {
            down_conv_ = register_module("down_conv", Conv(in, out, 1, stride));
            down_bn_ = register_module("down_bn", torch::nn::BatchNorm2d(out));
        }
    }

    at::Tensor forward(const at::Tensor& x) {
        at::Tensor y = x;
        for (std::size_t k = 0; k < convs_.size(); ++k) {
            y = norms_[k]->forward(convs_[k]->forward(y));
            if (k + 1 < convs_.size()) {
                y = y.relu_();
            }
        }
        const at::Tensor shortcut = down_conv_ ? down_bn_->forward(down_conv_->forward(x)) : x;
        return (y + shortcut).relu_();
    }

private:
    std::vector<torch::nn::Conv2d> convs_;
    std::vector<torch::nn::BatchNorm2d> norms_;
    torch::nn::Conv2d down_conv_{nullptr};
    torch::nn::BatchNorm2d down_bn_{nullptr};
};
TORCH_MODULE(Block);

}  // namespace

ResNetImpl::ResNetImpl(const ResNetOptions& options) {
    std::vector<int> blocks;
    bool bottleneck = false;
    if (options.depth == 18) {
        blocks = {2, 2, 2, 2};
    } else if (options.depth == 50) {
        blocks = {3, 4, 6, 3};
        bottleneck = true;
    } else {
        throw InputError("backbone depth", std::to_string(options.depth) + " is not 18 or 50");
    }
    if (!(options.width > 0.0 && options.width <= 4.0)) {
        throw InputError("backbone width", std::to_string(options.width) + " is not in (0, 4]");
    }
    const auto scaled = [&](int channels) {
        return std::max<int64_t>(8, std::lround(channels * options.width));
    };
    const int64_t stem = scaled(64);
    stem_conv_ = register_module("stem_conv", Conv(3, stem, 7, 2));
    stem_bn_ = register_module("stem_bn", torch::nn::BatchNorm2d(stem));
    int64_t in = stem;
    for (int s = 0; s < 4; ++s) {
        torch::nn::Sequential stage;
        const int64_t planes = scaled(64 << s);
        for (int b = 0; b < blocks[s]; ++b) {
            const int64_t stride = (b == 0 && s > 0) ? 2 : 1;
            stage->push_back(Block(in, planes, stride, bottleneck));
            in = bottleneck ? planes * 4 : planes;
        }
        stages_.push_back(register_module("layer" + std::to_string(s + 1), stage));
        if (s >= 1) {
            out_channels_.push_back(in);
        }
    }
    for (auto& module : modules(/*include_self=*/false)) {
        if (auto* conv = module->as<torch::nn::Conv2d>()) {
            torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
        }
    }
}

std::vector<at::Tensor> ResNetImpl::forward(const at::Tensor& images) {
    at::Tensor x = stem_bn_->forward(stem_conv_->forward(images)).relu_();
    x = torch::max_pool2d(x, 3, 2, 1);
    std::vector<at::Tensor> features;
    for (std::size_t s = 0; s < stages_.size(); ++s) {
        x = stages_[s]->forward(x);
        if (s >= 1) {
            features.push_back(x);
        }
    }
    return features;
}

}  // namespace autoloss::detect
