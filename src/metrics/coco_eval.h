#pragma once

// COCO bounding-box evaluation, number for number the same as pycocotools' COCOeval (iouType
// "bbox", useCats 1) with the same Params, and much faster: categories are evaluated in
// parallel and each category's detections are sorted once for every area range and maxDets.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "metrics/coco_format.h"

namespace autoloss::metrics {

// numpy.linspace(start, stop, num) bit for bit: i * ((stop - start) / (num - 1)) + start, and
// exactly `stop` last (so linspace(.5, .95, 10)[8] is 0.8999999999999999, as pycocotools uses).
std::vector<double> Linspace(double start, double stop, int num);

// numpy's sum of a contiguous float64 array, which np.mean and so COCOeval.summarize() use:
// np.add.reduce adds blocks of 8192 elements (the ufunc buffer size) in order, each summed
// pairwise (8 accumulators, 128-element leaves). Bit-identical to numpy on the golden cases.
double NumpySum(const double* values, size_t n);

// An area range of COCOeval.Params: a GT belongs to it iff lo <= area <= hi (both inclusive).
struct AreaRange {
    std::string label;
    double lo = 0.0;
    double hi = 0.0;
};

// COCOeval.Params for bbox; Default() gives pycocotools' defaults.
struct CocoEvalParams {
    std::vector<double> iou_thresholds;     // T values; default Linspace(.5, .95, 10)
    std::vector<double> recall_thresholds;  // R values; default Linspace(0, 1, 101)
    std::vector<int> max_dets;              // M values, ascending; default {1, 10, 100}
    std::vector<AreaRange> area_ranges;     // A ranges; default all, small, medium, large
    int threads = 0;                        // worker threads; 0 = hardware concurrency

    static CocoEvalParams Default();
};

// One category's summary at area "all" (the first range) and the largest maxDets.
struct CategoryResult {
    int64_t category_id = 0;
    std::string name;
    double ap = -1.0;    // mean precision over all IoU thresholds and recall points
    double ap50 = -1.0;  // at the IoU threshold 0.5 (-1 when it is not one of the thresholds)
    double ap75 = -1.0;  // at the IoU threshold 0.75 (-1 when it is not one of the thresholds)
    double ar = -1.0;    // mean recall over the IoU thresholds (AR@100 with defaults)
    int64_t num_gt = 0;  // ground-truth boxes, crowd ones included
    int64_t num_gt_crowd = 0;  // of which iscrowd
    int64_t num_dt = 0;        // detections of this category, before any maxDets cut
};

// Everything COCOeval.accumulate() and summarize() produce. Arrays are C-order like numpy's;
// -1 marks a (category, area) pair without non-ignored ground truth.
struct CocoEvalResult {
    CocoEvalParams params;
    std::vector<int64_t> image_ids;     // I sorted image ids (Params.imgIds)
    std::vector<int64_t> category_ids;  // K sorted category ids (Params.catIds)
    std::vector<double> precision;      // [T, R, K, A, M]
    std::vector<double> recall;         // [T, K, A, M]
    // pycocotools' 12 numbers: AP, AP50, AP75, AP S/M/L, AR@1, AR@10, AR@100, AR S/M/L.
    std::array<double, 12> stats{};
    std::vector<CategoryResult> per_category;  // K entries, in category_ids order
    // Repairs made to the input that pycocotools makes silently (e.g. annotations that name an
    // image or category absent from the ground truth are ignored), one line each.
    std::vector<std::string> notes;

    double Precision(size_t t, size_t r, size_t k, size_t a, size_t m) const;
    double Recall(size_t t, size_t k, size_t a, size_t m) const;

    // COCOeval._summarize: mean of the entries > -1 for one IoU threshold (or all when
    // iou_threshold < 0), one area label and one maxDets value; -1 when there are none.
    double Summarize(bool ap, double iou_threshold, const std::string& area, int max_dets) const;
};

// Evaluates detections against ground truth as COCOeval(gt, loadRes(dt), "bbox").evaluate(),
// accumulate(), summarize() would. Images are gt.images, categories gt.categories. Throws
// InputError for a detection naming an image or category absent from the ground truth, a
// negative box size, a NaN number, duplicate image, category or annotation ids, and for params
// that COCOeval cannot use. An empty detection list is valid: every AP with ground truth is 0.
CocoEvalResult EvaluateCoco(const CocoInstances& gt,
                            const std::vector<CocoDetection>& detections,
                            const CocoEvalParams& params = CocoEvalParams::Default());

// The 12 stats as pycocotools' summarize() prints them, one line each.
std::string FormatStats(const CocoEvalResult& result);

// A table of the per-category results, one line a category.
std::string FormatPerCategory(const CocoEvalResult& result);

}  // namespace autoloss::metrics
