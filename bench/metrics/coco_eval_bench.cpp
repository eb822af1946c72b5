// COCO evaluation on pycocotools' reference shape: 5,000 images, 10 categories, 34,609 GT boxes
// and 500,000 detections (pycocotools: 23.6 s and 1.08 GiB for load + evaluate + accumulate +
// summarize on our machine). The input is synthetic and seeded; see docs/benchmarks.md.

#include <algorithm>
#include <cstdio>
#include <future>
#include <random>
#include <string>

#include <benchmark/benchmark.h>

#include "metrics/coco_eval.h"
#include "metrics/coco_format.h"

namespace autoloss::metrics {
namespace {

constexpr int kImages = 5000;
constexpr int kCategories = 10;
constexpr int kGtBoxes = 34609;
constexpr int kDetectionsPerImage = 100;

struct Input {
    CocoInstances gt;
    std::vector<CocoDetection> dt;
    std::string gt_json;
    std::string dt_json;
};

std::string InstancesJson(const CocoInstances& gt) {
    std::string out = "{\"images\":[";
    char buffer[256];
    for (size_t i = 0; i < gt.images.size(); ++i) {
        const CocoImage& image = gt.images[i];
        std::snprintf(buffer,
                      sizeof(buffer),
                      "%s{\"id\":%lld,\"width\":%lld,\"height\":%lld,\"file_name\":\"%s\"}",
                      i ? "," : "",
                      static_cast<long long>(image.id),
                      static_cast<long long>(image.width),
                      static_cast<long long>(image.height),
                      image.file_name.c_str());
        out += buffer;
    }
    out += "],\"categories\":[";
    for (size_t k = 0; k < gt.categories.size(); ++k) {
        std::snprintf(buffer,
                      sizeof(buffer),
                      "%s{\"id\":%lld,\"name\":\"%s\"}",
                      k ? "," : "",
                      static_cast<long long>(gt.categories[k].id),
                      gt.categories[k].name.c_str());
        out += buffer;
    }
    out += "],\"annotations\":[";
    for (size_t n = 0; n < gt.annotations.size(); ++n) {
        const CocoAnnotation& a = gt.annotations[n];
        std::snprintf(buffer,
                      sizeof(buffer),
                      "%s\n{\"id\":%lld,\"image_id\":%lld,\"category_id\":%lld,\"bbox\":[%.2f,%.2f,"
                      "%.2f,%.2f],\"area\":%.2f,\"iscrowd\":%d}",
                      n ? "," : "",
                      static_cast<long long>(a.id),
                      static_cast<long long>(a.image_id),
                      static_cast<long long>(a.category_id),
                      a.bbox[0],
                      a.bbox[1],
                      a.bbox[2],
                      a.bbox[3],
                      a.area,
                      a.iscrowd ? 1 : 0);
        out += buffer;
    }
    out += "]}\n";
    return out;
}

double Round2(double v) {
    return std::round(v * 100.0) / 100.0;
}

// Each GT gets a jittered hit with probability .9 and a loose duplicate with .3; the rest of
// the 100 detections an image are false positives of random categories and sizes.
const Input& MakeInput() {
    static const Input input = [] {
        Input in;
        std::mt19937_64 rng(20210101);
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        std::normal_distribution<double> noise(0.0, 1.0);
        for (int k = 1; k <= kCategories; ++k) {
            in.gt.categories.push_back({k, "class" + std::to_string(k), ""});
        }
        const int base = kGtBoxes / kImages;
        const int extra = kGtBoxes % kImages;
        int64_t annotation_id = 1;
        for (int i = 0; i < kImages; ++i) {
            const int64_t image_id = 1 + 3 * i;  // non-contiguous ids, as in COCO
            const double W = 640;
            const double H = 480;
            in.gt.images.push_back({image_id, 640, 480, std::to_string(image_id) + ".jpg"});
            const int n_gt = base + (i < extra ? 1 : 0);
            std::vector<CocoDetection> dets;
            for (int g = 0; g < n_gt; ++g) {
                // Log-uniform sizes from 8 to 400 px cover small, medium and large.
                const double w = Round2(8.0 * std::pow(50.0, unit(rng)));
                const double h = Round2(std::clamp(w * std::exp(0.4 * noise(rng)), 4.0, H - 1));
                const double x = Round2(unit(rng) * std::max(1.0, W - w));
                const double y = Round2(unit(rng) * std::max(1.0, H - h));
                const int64_t category = 1 + static_cast<int64_t>(unit(rng) * kCategories);
                CocoAnnotation a;
                a.id = annotation_id++;
                a.image_id = image_id;
                a.category_id = category;
                a.bbox = {x, y, w, h};
                a.area = Round2(w * h * (0.6 + 0.3 * unit(rng)));  // a mask area, below w*h
                a.has_area = true;
                a.iscrowd = unit(rng) < 0.01;
                in.gt.annotations.push_back(a);
                for (double p : {0.9, 0.3}) {
                    if (unit(rng) < p && dets.size() < kDetectionsPerImage) {
                        const double s = p > 0.5 ? 0.08 : 0.25;
                        dets.push_back({image_id,
                                        category,
                                        {Round2(x + s * w * noise(rng)),
                                         Round2(y + s * h * noise(rng)),
                                         Round2(w * std::exp(s * noise(rng))),
                                         Round2(h * std::exp(s * noise(rng)))},
                                        std::round(1e4 * (0.3 + 0.7 * unit(rng))) / 1e4});
                    }
                }
            }
            while (dets.size() < kDetectionsPerImage) {
                const double w = Round2(4.0 * std::pow(100.0, unit(rng)));
                const double h = Round2(w * std::exp(0.4 * noise(rng)));
                dets.push_back({image_id,
                                1 + static_cast<int64_t>(unit(rng) * kCategories),
                                {Round2(unit(rng) * W), Round2(unit(rng) * H), w, h},
                                std::round(1e4 * 0.8 * std::pow(unit(rng), 3)) / 1e4});
            }
            std::shuffle(dets.begin(), dets.end(), rng);
            in.dt.insert(in.dt.end(), dets.begin(), dets.end());
        }
        in.gt_json = InstancesJson(in.gt);
        in.dt_json = FormatCocoResults(in.dt);
        return in;
    }();
    return input;
}

CocoEvalParams Params(int threads) {
    CocoEvalParams params = CocoEvalParams::Default();
    params.threads = threads;
    return params;
}

// What pycocotools' 23.6 s measure: read both files, evaluate, accumulate, summarize. With two
// threads the two files parse at the same time, as `autoloss eval-coco` does.
void BM_CocoEvalFromJson(benchmark::State& state) {
    const Input& in = MakeInput();
    for (auto _ : state) {
        auto gt_future = std::async(state.range(0) > 1 ? std::launch::async : std::launch::deferred,
                                    [&] { return ParseCocoInstances(in.gt_json, "gt"); });
        const auto dt = ParseCocoResults(in.dt_json, "dt");
        const CocoInstances gt = gt_future.get();
        const CocoEvalResult result = EvaluateCoco(gt, dt, Params(state.range(0)));
        benchmark::DoNotOptimize(result.stats);
        state.counters["AP"] = result.stats[0];
    }
    state.counters["detections"] = static_cast<double>(in.dt.size());
    state.counters["gt_boxes"] = static_cast<double>(in.gt.annotations.size());
    state.counters["dt_json_MiB"] = static_cast<double>(in.dt_json.size()) / (1 << 20);
}

// The evaluation alone, on records already in memory (how the search calls it).
void BM_CocoEvalInMemory(benchmark::State& state) {
    const Input& in = MakeInput();
    for (auto _ : state) {
        const CocoEvalResult result = EvaluateCoco(in.gt, in.dt, Params(state.range(0)));
        benchmark::DoNotOptimize(result.stats);
    }
}

// Parsing the 500,000-detection results file alone.
void BM_ParseCocoResults(benchmark::State& state) {
    const Input& in = MakeInput();
    for (auto _ : state) {
        const auto dt = ParseCocoResults(in.dt_json, "dt");
        benchmark::DoNotOptimize(dt.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in.dt_json.size()));
}

BENCHMARK(BM_CocoEvalFromJson)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CocoEvalInMemory)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ParseCocoResults)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace autoloss::metrics

BENCHMARK_MAIN();
