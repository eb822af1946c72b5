#include <cmath>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "detect/roi_align.h"

namespace autoloss::detect {
namespace {

// Bilinear value of map `f` [H, W] at (y, x) with torchvision's roi_align edge rules, written
// out point by point as the reference.
double BilinearAt(const at::Tensor& f, double y, double x) {
    const int64_t h = f.size(0), w = f.size(1);
    if (y < -1.0 || y > h || x < -1.0 || x > w) {
        return 0.0;
    }
    y = std::max(y, 0.0);
    x = std::max(x, 0.0);
    int64_t y0 = static_cast<int64_t>(std::floor(y));
    int64_t x0 = static_cast<int64_t>(std::floor(x));
    int64_t y1 = y0 + 1, x1 = x0 + 1;
    if (y0 >= h - 1) {
        y0 = y1 = h - 1;
        y = static_cast<double>(y0);
    }
    if (x0 >= w - 1) {
        x0 = x1 = w - 1;
        x = static_cast<double>(x0);
    }
    const auto v = [&](int64_t yy, int64_t xx) { return f[yy][xx].item<double>(); };
    const double dy = y - y0, dx = x - x0;
    return (1 - dy) * (1 - dx) * v(y0, x0) + (1 - dy) * dx * v(y0, x1) + dy * (1 - dx) * v(y1, x0) +
           dy * dx * v(y1, x1);
}

// Brute-force RoIAlign: every bin is the mean of its grid of bilinear samples.
at::Tensor Reference(const at::Tensor& features, const at::Tensor& rois, const RoiAlignOptions& o) {
    const int64_t r = rois.size(0), c = features.size(1);
    at::Tensor out = torch::zeros({r, c, o.output_height, o.output_width}, torch::kDouble);
    const double shift = o.aligned ? 0.5 : 0.0;
    for (int64_t n = 0; n < r; ++n) {
        const auto b = static_cast<int64_t>(rois[n][0].item<double>());
        const double x1 = rois[n][1].item<double>() * o.spatial_scale - shift;
        const double y1 = rois[n][2].item<double>() * o.spatial_scale - shift;
        double rw = rois[n][3].item<double>() * o.spatial_scale - shift - x1;
        double rh = rois[n][4].item<double>() * o.spatial_scale - shift - y1;
        if (!o.aligned) {
            rw = std::max(rw, 1.0);
            rh = std::max(rh, 1.0);
        }
        const double bh = rh / o.output_height, bw = rw / o.output_width;
        const int64_t gh =
            o.sampling_ratio > 0 ? o.sampling_ratio : std::ceil(rh / o.output_height);
        const int64_t gw = o.sampling_ratio > 0 ? o.sampling_ratio : std::ceil(rw / o.output_width);
        for (int64_t ch = 0; ch < c; ++ch) {
            const at::Tensor f = features[b][ch];
            for (int64_t ph = 0; ph < o.output_height; ++ph) {
                for (int64_t pw = 0; pw < o.output_width; ++pw) {
                    double sum = 0.0;
                    for (int64_t iy = 0; iy < gh; ++iy) {
                        for (int64_t ix = 0; ix < gw; ++ix) {
                            sum += BilinearAt(f,
                                              y1 + ph * bh + (iy + 0.5) * bh / gh,
                                              x1 + pw * bw + (ix + 0.5) * bw / gw);
                        }
                    }
                    out[n][ch][ph][pw] = sum / std::max<int64_t>(gh * gw, 1);
                }
            }
        }
    }
    return out;
}

at::Tensor SomeRois() {
    // Inside, straddling every edge, entirely outside, tiny, and on the second image.
    return torch::tensor({{0.0, 3.0, 5.0, 40.0, 30.0},
                          {1.0, -6.0, -4.0, 20.0, 18.0},
                          {0.0, 30.0, 20.0, 70.0, 60.0},
                          {1.0, 100.0, 100.0, 130.0, 140.0},
                          {0.0, 10.2, 11.7, 10.9, 12.1},
                          {1.0, 0.0, 0.0, 56.0, 48.0}},
                         torch::kDouble);
}

RoiAlignOptions Options(bool aligned, int64_t ratio) {
    RoiAlignOptions o;
    o.output_height = 3;
    o.output_width = 4;
    o.spatial_scale = 0.125;
    o.sampling_ratio = ratio;
    o.aligned = aligned;
    return o;
}

TEST(RoiAlignTest, ForwardMatchesTheBruteForceBilinearReference) {
    torch::manual_seed(1);
    const at::Tensor features = torch::randn({2, 3, 6, 7}, torch::kDouble);
    for (const bool aligned : {true, false}) {
        for (const int64_t ratio : {1, 2, 0}) {
            const RoiAlignOptions o = Options(aligned, ratio);
            const at::Tensor ours = RoiAlign(features, SomeRois(), o);
            EXPECT_TRUE(torch::allclose(ours, Reference(features, SomeRois(), o), 1e-12, 1e-12))
                << "aligned " << aligned << " ratio " << ratio;
        }
    }
}

TEST(RoiAlignTest, PoolsALinearMapToItsValueAtTheBinCentre) {
    // Bilinear interpolation reproduces a linear function exactly, so inside the map a bin's
    // mean over its symmetric sample grid is the function at the bin centre.
    const at::Tensor ys = torch::arange(20, torch::kDouble).view({20, 1});
    const at::Tensor xs = torch::arange(30, torch::kDouble).view({1, 30});
    const at::Tensor features = (2.0 * xs - 3.0 * ys + 1.0).view({1, 1, 20, 30});
    RoiAlignOptions o;
    o.output_height = o.output_width = 2;
    o.spatial_scale = 0.5;
    const at::Tensor roi = torch::tensor({{0.0, 10.0, 8.0, 30.0, 24.0}}, torch::kDouble);
    const at::Tensor out = RoiAlign(features, roi, o);
    for (int ph = 0; ph < 2; ++ph) {
        for (int pw = 0; pw < 2; ++pw) {
            // Cell coordinates of the bin centre, with the aligned half-cell shift.
            const double x = 10.0 * 0.5 - 0.5 + (pw + 0.5) * 5.0;
            const double y = 8.0 * 0.5 - 0.5 + (ph + 0.5) * 4.0;
            EXPECT_NEAR(out[0][0][ph][pw].item<double>(), 2.0 * x - 3.0 * y + 1.0, 1e-12);
        }
    }
}

TEST(RoiAlignTest, BackwardMatchesFiniteDifferences) {
    torch::manual_seed(2);
    for (const bool aligned : {true, false}) {
        const RoiAlignOptions o = Options(aligned, 2);
        const at::Tensor features = torch::randn({2, 2, 6, 7}, torch::kDouble).requires_grad_();
        const at::Tensor rois = SomeRois();
        const at::Tensor weights = torch::randn({rois.size(0), 2, 3, 4}, torch::kDouble);
        (RoiAlign(features, rois, o) * weights).sum().backward();
        const at::Tensor analytic = features.grad();
        at::Tensor numeric = torch::zeros_like(analytic);
        const double eps = 1e-6;
        torch::NoGradGuard no_grad;
        at::Tensor probe = features.detach().clone();
        auto flat = probe.view({-1});
        for (int64_t k = 0; k < flat.size(0); ++k) {
            const double saved = flat[k].item<double>();
            flat[k] = saved + eps;
            const double up = (RoiAlign(probe, rois, o) * weights).sum().item<double>();
            flat[k] = saved - eps;
            const double down = (RoiAlign(probe, rois, o) * weights).sum().item<double>();
            flat[k] = saved;
            numeric.view({-1})[k] = (up - down) / (2 * eps);
        }
        EXPECT_TRUE(torch::allclose(analytic, numeric, 1e-6, 1e-8)) << "aligned " << aligned;
    }
}

// The device-generic form, checked on the CPU: forward against the brute-force reference,
// backward (libtorch's, through the gathers) against the kernel's finite-difference-checked one.
TEST(RoiAlignTest, GatherFormMatchesTheReferenceAndTheKernelsGradient) {
    torch::manual_seed(5);
    const at::Tensor rois = SomeRois();
    for (const bool aligned : {true, false}) {
        for (const int64_t ratio : {1, 2, 0}) {
            const RoiAlignOptions o = Options(aligned, ratio);
            const at::Tensor features = torch::randn({2, 3, 6, 7}, torch::kDouble).requires_grad_();
            const at::Tensor gathered = RoiAlignByGather(features, rois, o);
            EXPECT_TRUE(
                torch::allclose(gathered, Reference(features.detach(), rois, o), 1e-12, 1e-12))
                << "aligned " << aligned << " ratio " << ratio;
            const at::Tensor weights = torch::randn(gathered.sizes(), torch::kDouble);
            const at::Tensor from_gather =
                torch::autograd::grad({(gathered * weights).sum()}, {features})[0];
            const at::Tensor from_kernel = torch::autograd::grad(
                {(RoiAlign(features, rois, o) * weights).sum()}, {features})[0];
            EXPECT_TRUE(torch::allclose(from_gather, from_kernel, 1e-12, 1e-12))
                << "aligned " << aligned << " ratio " << ratio;
        }
    }
    // float32, channels-last input, and no RoIs at all.
    const at::Tensor features =
        torch::randn({2, 3, 6, 7}).contiguous(at::MemoryFormat::ChannelsLast);
    EXPECT_TRUE(
        torch::allclose(RoiAlignByGather(features, rois.to(torch::kFloat), Options(true, 2)),
                        RoiAlign(features, rois, Options(true, 2)),
                        1e-5,
                        1e-6));
    EXPECT_EQ(RoiAlignByGather(features, torch::zeros({0, 5}), Options(true, 2)).sizes(),
              (std::vector<int64_t>{0, 3, 3, 4}));
}

TEST(RoiAlignTest, ChannelsLastAndFloat32GiveTheSameResult) {
    torch::manual_seed(3);
    const at::Tensor features = torch::randn({2, 16, 6, 7});
    const at::Tensor rois = SomeRois().to(torch::kFloat);
    const RoiAlignOptions o = Options(true, 2);
    const at::Tensor plain = RoiAlign(features, rois, o);
    const at::Tensor last = RoiAlign(features.contiguous(at::MemoryFormat::ChannelsLast), rois, o);
    EXPECT_EQ(plain.scalar_type(), torch::kFloat);
    EXPECT_TRUE(torch::equal(plain, last));
    const at::Tensor reference = Reference(features.to(torch::kDouble), SomeRois(), o);
    EXPECT_TRUE(torch::allclose(plain.to(torch::kDouble), reference, 1e-5, 1e-5));
}

TEST(RoiAlignTest, RoisOutsideTheMapPoolZeros) {
    const at::Tensor features = torch::ones({2, 3, 6, 7}, torch::kDouble);
    const at::Tensor out = RoiAlign(features, SomeRois().narrow(0, 3, 1), Options(true, 2));
    EXPECT_EQ(out.abs().max().item<double>(), 0.0);
}

TEST(RoiAlignTest, EmptyRoisGiveAnEmptyResultAndZeroGradient) {
    const at::Tensor features = torch::randn({1, 4, 5, 5}).requires_grad_();
    const at::Tensor out = RoiAlign(features, torch::zeros({0, 5}), Options(true, 2));
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{0, 4, 3, 4}));
    out.sum().backward();
    EXPECT_EQ(features.grad().abs().sum().item<float>(), 0.0f);
}

TEST(RoiAlignTest, RejectsBadInput) {
    const at::Tensor features = torch::randn({1, 4, 5, 5});
    EXPECT_THROW(
        RoiAlign(features, torch::tensor({{1.0f, 0.0f, 0.0f, 2.0f, 2.0f}}), Options(true, 2)),
        c10::Error);
    EXPECT_THROW(RoiAlign(features, torch::zeros({2, 4}), Options(true, 2)), c10::Error);
    EXPECT_THROW(RoiAlign(torch::randn({4, 5, 5}), torch::zeros({1, 5}), Options(true, 2)),
                 c10::Error);
    EXPECT_THROW(RoiAlign(features.to(torch::kInt), torch::zeros({1, 5}), Options(true, 2)),
                 c10::Error);
}

}  // namespace
}  // namespace autoloss::detect
