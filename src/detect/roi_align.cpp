#include "detect/roi_align.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/torch.h>

namespace autoloss::detect {

namespace {

// One bilinear sample: four neighbouring cells (flat h·W + w offsets) and their weights.
struct Sample {
    int64_t offset[4];
    double weight[4];
};

// The bilinear samples of one bin, already divided by the sample count, so a bin's value is
// the plain weighted sum. Samples outside the map are dropped (they contribute 0).
void BinSamples(double y_start,
                double x_start,
                double bin_h,
                double bin_w,
                int64_t grid_h,
                int64_t grid_w,
                int64_t height,
                int64_t width,
                std::vector<Sample>& out) {
    out.clear();
    const double count = static_cast<double>(std::max<int64_t>(grid_h * grid_w, 1));
    for (int64_t iy = 0; iy < grid_h; ++iy) {
        double y = y_start + (iy + 0.5) * bin_h / static_cast<double>(grid_h);
        for (int64_t ix = 0; ix < grid_w; ++ix) {
            double x = x_start + (ix + 0.5) * bin_w / static_cast<double>(grid_w);
            if (y < -1.0 || y > height || x < -1.0 || x > width) {
                continue;
            }
            double yy = std::max(y, 0.0);
            double xx = std::max(x, 0.0);
            int64_t y_low = static_cast<int64_t>(yy);
            int64_t x_low = static_cast<int64_t>(xx);
            int64_t y_high, x_high;
            if (y_low >= height - 1) {
                y_high = y_low = height - 1;
                yy = static_cast<double>(y_low);
            } else {
                y_high = y_low + 1;
            }
            if (x_low >= width - 1) {
                x_high = x_low = width - 1;
                xx = static_cast<double>(x_low);
            } else {
                x_high = x_low + 1;
            }
            const double ly = yy - y_low, lx = xx - x_low;
            const double hy = 1.0 - ly, hx = 1.0 - lx;
            Sample s;
            s.offset[0] = y_low * width + x_low;
            s.offset[1] = y_low * width + x_high;
            s.offset[2] = y_high * width + x_low;
            s.offset[3] = y_high * width + x_high;
            s.weight[0] = hy * hx / count;
            s.weight[1] = hy * lx / count;
            s.weight[2] = ly * hx / count;
            s.weight[3] = ly * lx / count;
            out.push_back(s);
        }
    }
}

// Visits every bin of RoI `r` with its samples: visit(bin index, batch index, samples).
template <typename Visit>
void ForEachBin(const double* roi,
                const RoiAlignOptions& o,
                int64_t height,
                int64_t width,
                std::vector<Sample>& samples,
                Visit&& visit) {
    const int64_t b = static_cast<int64_t>(roi[0]);
    const double offset = o.aligned ? 0.5 : 0.0;
    const double x1 = roi[1] * o.spatial_scale - offset;
    const double y1 = roi[2] * o.spatial_scale - offset;
    double roi_w = roi[3] * o.spatial_scale - offset - x1;
    double roi_h = roi[4] * o.spatial_scale - offset - y1;
    if (!o.aligned) {
        roi_w = std::max(roi_w, 1.0);
        roi_h = std::max(roi_h, 1.0);
    }
    const double bin_h = roi_h / static_cast<double>(o.output_height);
    const double bin_w = roi_w / static_cast<double>(o.output_width);
    const int64_t grid_h = o.sampling_ratio > 0
                               ? o.sampling_ratio
                               : static_cast<int64_t>(std::ceil(roi_h / o.output_height));
    const int64_t grid_w = o.sampling_ratio > 0
                               ? o.sampling_ratio
                               : static_cast<int64_t>(std::ceil(roi_w / o.output_width));
    for (int64_t ph = 0; ph < o.output_height; ++ph) {
        for (int64_t pw = 0; pw < o.output_width; ++pw) {
            BinSamples(y1 + ph * bin_h,
                       x1 + pw * bin_w,
                       bin_h,
                       bin_w,
                       grid_h,
                       grid_w,
                       height,
                       width,
                       samples);
            visit(ph * o.output_width + pw, b, samples);
        }
    }
}

// Features are read channels-last, so every sample touches four contiguous channel vectors and
// the inner loops run over channels, which the compiler vectorises.
template <typename T>
void Forward(const T* features,
             const double* rois,
             T* out,
             int64_t r_count,
             int64_t channels,
             int64_t height,
             int64_t width,
             const RoiAlignOptions& o) {
    const int64_t bins = o.output_height * o.output_width;
    at::parallel_for(0, r_count, 1, [&](int64_t begin, int64_t end) {
        std::vector<Sample> samples;
        std::vector<T> acc(channels);
        for (int64_t r = begin; r < end; ++r) {
            ForEachBin(rois + r * 5,
                       o,
                       height,
                       width,
                       samples,
                       [&](int64_t bin, int64_t b, const std::vector<Sample>& ss) {
                           std::fill(acc.begin(), acc.end(), T(0));
                           const T* base = features + b * height * width * channels;
                           for (const Sample& s : ss) {
                               for (int k = 0; k < 4; ++k) {
                                   const T* f = base + s.offset[k] * channels;
                                   const T w = static_cast<T>(s.weight[k]);
                                   for (int64_t c = 0; c < channels; ++c) {
                                       acc[c] += w * f[c];
                                   }
                               }
                           }
                           std::copy(acc.begin(), acc.end(), out + (r * bins + bin) * channels);
                       });
        }
    });
}

// Scatter-add of the output gradient into the features. Threads split the channels, not the
// RoIs, because overlapping RoIs write the same cells: disjoint channel ranges never collide.
template <typename T>
void Backward(const T* grad_out,
              const double* rois,
              T* grad_features,
              int64_t r_count,
              int64_t channels,
              int64_t height,
              int64_t width,
              const RoiAlignOptions& o) {
    const int64_t bins = o.output_height * o.output_width;
    at::parallel_for(0, channels, 16, [&](int64_t c0, int64_t c1) {
        std::vector<Sample> samples;
        for (int64_t r = 0; r < r_count; ++r) {
            ForEachBin(rois + r * 5,
                       o,
                       height,
                       width,
                       samples,
                       [&](int64_t bin, int64_t b, const std::vector<Sample>& ss) {
                           const T* g = grad_out + (r * bins + bin) * channels;
                           T* base = grad_features + b * height * width * channels;
                           for (const Sample& s : ss) {
                               for (int k = 0; k < 4; ++k) {
                                   T* f = base + s.offset[k] * channels;
                                   const T w = static_cast<T>(s.weight[k]);
                                   for (int64_t c = c0; c < c1; ++c) {
                                       f[c] += w * g[c];
                                   }
                               }
                           }
                       });
        }
    });
}

class RoiAlignFunction : public torch::autograd::Function<RoiAlignFunction> {
  public:
    static at::Tensor forward(torch::autograd::AutogradContext* ctx,
                              const at::Tensor& features,
                              const at::Tensor& rois,
                              RoiAlignOptions options) {
        const at::Tensor nhwc = features.permute({0, 2, 3, 1}).contiguous();
        const at::Tensor boxes = rois.to(torch::kDouble).contiguous();
        const int64_t r = boxes.size(0), c = features.size(1);
        const int64_t h = features.size(2), w = features.size(3);
        at::Tensor out =
            torch::empty({r, options.output_height, options.output_width, c}, features.options());
        AT_DISPATCH_FLOATING_TYPES(features.scalar_type(), "RoiAlign", [&] {
            Forward<scalar_t>(nhwc.data_ptr<scalar_t>(),
                              boxes.data_ptr<double>(),
                              out.data_ptr<scalar_t>(),
                              r,
                              c,
                              h,
                              w,
                              options);
        });
        ctx->save_for_backward({boxes});
        ctx->saved_data["shape"] = features.sizes().vec();
        ctx->saved_data["oh"] = options.output_height;
        ctx->saved_data["ow"] = options.output_width;
        ctx->saved_data["scale"] = options.spatial_scale;
        ctx->saved_data["ratio"] = options.sampling_ratio;
        ctx->saved_data["aligned"] = options.aligned;
        return out.permute({0, 3, 1, 2});
    }

    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::tensor_list grads) {
        const at::Tensor boxes = ctx->get_saved_variables()[0];
        const std::vector<int64_t> shape = ctx->saved_data["shape"].toIntVector();
        RoiAlignOptions options;
        options.output_height = ctx->saved_data["oh"].toInt();
        options.output_width = ctx->saved_data["ow"].toInt();
        options.spatial_scale = ctx->saved_data["scale"].toDouble();
        options.sampling_ratio = ctx->saved_data["ratio"].toInt();
        options.aligned = ctx->saved_data["aligned"].toBool();
        const at::Tensor grad = grads[0].permute({0, 2, 3, 1}).contiguous();
        at::Tensor grad_features =
            torch::zeros({shape[0], shape[2], shape[3], shape[1]}, grad.options());
        AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "RoiAlignBackward", [&] {
            Backward<scalar_t>(grad.data_ptr<scalar_t>(),
                               boxes.data_ptr<double>(),
                               grad_features.data_ptr<scalar_t>(),
                               boxes.size(0),
                               shape[1],
                               shape[2],
                               shape[3],
                               options);
        });
        return {grad_features.permute({0, 3, 1, 2}), at::Tensor(), at::Tensor()};
    }
};

// The bilinear sample positions along one axis of every RoI, with torchvision's edge rules, as
// [R, bins · max_grid] tensors (bin-major): the lower and upper cell indices, their linear
// weights, and whether the sample counts (within the RoI's own grid and no more than a cell
// outside the map). RoIs with a smaller grid than max_grid pad with samples that do not count.
struct AxisSamples {
    at::Tensor low, high, low_weight, high_weight, valid;
};

AxisSamples SampleAxis(const at::Tensor& start,  // [R] float64, in cells
                       const at::Tensor& bin,    // [R] float64 bin size, in cells
                       const at::Tensor& grid,   // [R] int64 samples per bin
                       int64_t bins,
                       int64_t max_grid,
                       int64_t size) {
    const auto options = start.options();
    const at::Tensor bin_index = torch::arange(bins, options).view({1, bins, 1});
    const at::Tensor sample_index = torch::arange(max_grid, options).view({1, 1, max_grid});
    const at::Tensor g = grid.to(torch::kDouble).clamp_min(1).view({-1, 1, 1});
    const at::Tensor b = bin.view({-1, 1, 1});
    at::Tensor pos = start.view({-1, 1, 1}) + bin_index * b + (sample_index + 0.5) * b / g;
    pos = pos.reshape({start.size(0), -1});
    const at::Tensor in_grid =
        (sample_index < grid.view({-1, 1, 1})).expand({start.size(0), bins, max_grid});
    AxisSamples s;
    s.valid = in_grid.reshape({start.size(0), -1}) & (pos >= -1.0) & (pos <= size);
    at::Tensor clamped = pos.clamp_min(0.0);
    at::Tensor low = clamped.floor().to(torch::kLong);
    const at::Tensor at_edge = low >= size - 1;
    low = torch::where(at_edge, torch::full({}, size - 1, low.options()), low);
    clamped = torch::where(at_edge, low.to(torch::kDouble), clamped);
    s.low = low;
    s.high = torch::where(at_edge, low, low + 1);
    s.high_weight = clamped - low.to(torch::kDouble);
    s.low_weight = 1.0 - s.high_weight;
    return s;
}

}  // namespace

at::Tensor RoiAlignByGather(const at::Tensor& features,
                            const at::Tensor& rois,
                            const RoiAlignOptions& o) {
    const int64_t c = features.size(1);
    const int64_t height = features.size(2);
    const int64_t width = features.size(3);
    const int64_t r = rois.size(0);
    const int64_t oh = o.output_height;
    const int64_t ow = o.output_width;
    if (r == 0) {
        return features.new_zeros({0, c, oh, ow}).contiguous(at::MemoryFormat::ChannelsLast);
    }
    // Geometry in float64 as the CPU kernel computes it, so both pick the same cells.
    const at::Tensor boxes = rois.to(torch::kDouble);
    const double offset = o.aligned ? 0.5 : 0.0;
    const at::Tensor x1 = boxes.select(1, 1) * o.spatial_scale - offset;
    const at::Tensor y1 = boxes.select(1, 2) * o.spatial_scale - offset;
    at::Tensor roi_w = boxes.select(1, 3) * o.spatial_scale - offset - x1;
    at::Tensor roi_h = boxes.select(1, 4) * o.spatial_scale - offset - y1;
    if (!o.aligned) {
        roi_w = roi_w.clamp_min(1.0);
        roi_h = roi_h.clamp_min(1.0);
    }
    const auto grid_of = [&](const at::Tensor& extent, int64_t bins) {
        return o.sampling_ratio > 0
                   ? torch::full({r}, o.sampling_ratio, boxes.options().dtype(torch::kLong))
                   : (extent / static_cast<double>(bins)).ceil().to(torch::kLong);
    };
    const at::Tensor grid_h = grid_of(roi_h, oh);
    const at::Tensor grid_w = grid_of(roi_w, ow);
    const int64_t max_h = std::max<int64_t>(1, grid_h.max().item<int64_t>());
    const int64_t max_w = std::max<int64_t>(1, grid_w.max().item<int64_t>());
    const AxisSamples ys =
        SampleAxis(y1, roi_h / static_cast<double>(oh), grid_h, oh, max_h, height);
    const AxisSamples xs =
        SampleAxis(x1, roi_w / static_cast<double>(ow), grid_w, ow, max_w, width);
    const at::Tensor count = (grid_h * grid_w).clamp_min(1).to(torch::kDouble).view({-1, 1, 1});
    const at::Tensor valid = ys.valid.unsqueeze(2) & xs.valid.unsqueeze(1);  // [R, Sy, Sx]

    // Every cell of the map as a row [B·H·W, C]; a view when the features are channels-last.
    const at::Tensor cells = features.permute({0, 2, 3, 1}).reshape({-1, c});
    const at::Tensor image = boxes.select(1, 0).to(torch::kLong).view({-1, 1, 1}) * height * width;
    const int64_t sy = ys.low.size(1);
    const int64_t sx = xs.low.size(1);
    at::Tensor pooled = features.new_zeros({r, sy, sx, c});
    for (const auto& [row, row_weight] :
         {std::pair{ys.low, ys.low_weight}, std::pair{ys.high, ys.high_weight}}) {
        for (const auto& [col, col_weight] :
             {std::pair{xs.low, xs.low_weight}, std::pair{xs.high, xs.high_weight}}) {
            const at::Tensor index = image + row.unsqueeze(2) * width + col.unsqueeze(1);
            const at::Tensor weight =
                torch::where(valid,
                             row_weight.unsqueeze(2) * col_weight.unsqueeze(1) / count,
                             torch::zeros({}, boxes.options()))
                    .to(features.scalar_type());
            pooled = pooled + cells.index_select(0, index.reshape(-1)).view({r, sy, sx, c}) *
                                  weight.unsqueeze(3);
        }
    }
    // Samples of a bin are adjacent along each axis: sum them into [R, oh, ow, C].
    pooled = pooled.view({r, oh, max_h, ow, max_w, c}).sum({2, 4});
    return pooled.permute({0, 3, 1, 2}).contiguous(at::MemoryFormat::ChannelsLast);
}

at::Tensor RoiAlign(const at::Tensor& features,
                    const at::Tensor& rois,
                    const RoiAlignOptions& options) {
    TORCH_CHECK(
        features.dim() == 4, "RoiAlign: features must be [B, C, H, W], got ", features.sizes());
    TORCH_CHECK(
        rois.dim() == 2 && rois.size(1) == 5, "RoiAlign: rois must be [R, 5], got ", rois.sizes());
    TORCH_CHECK(options.output_height > 0 && options.output_width > 0,
                "RoiAlign: output size must be positive, got ",
                options.output_height,
                "x",
                options.output_width);
    TORCH_CHECK(features.scalar_type() == torch::kFloat || features.scalar_type() == torch::kDouble,
                "RoiAlign: features must be float32 or float64, got ",
                features.scalar_type());
    if (rois.size(0) > 0) {
        const at::Tensor index = rois.select(1, 0);
        TORCH_CHECK(index.min().item<double>() >= 0 &&
                        index.max().item<double>() < static_cast<double>(features.size(0)),
                    "RoiAlign: batch index outside [0, ",
                    features.size(0),
                    ")");
    }
    if (!features.device().is_cpu()) {
        // A dedicated CUDA kernel would save the sample tensors' memory; the gather form is
        // exact and keeps the pooling on the device.
        return RoiAlignByGather(features, rois.to(features.device()), options);
    }
    return RoiAlignFunction::apply(features, rois, options);
}

}  // namespace autoloss::detect
