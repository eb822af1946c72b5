#include "metrics/coco_eval.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <thread>
#include <unordered_map>

#include "util/check.h"
#include "util/error.h"

// Everything here must round exactly as pycocotools (numpy float64 and maskApi.c) does, so this
// file is compiled with -ffp-contract=off: a fused multiply-add would change the last bits.

namespace autoloss::metrics {

namespace {

// np.spacing(1): the epsilon pycocotools adds to tp + fp before dividing.
constexpr double kEps = std::numeric_limits<double>::epsilon();

// Detection status at one IoU threshold, as evaluateImg's dtMatches/dtIgnore pair decides it.
enum Status : uint8_t { kFalsePositive = 0, kTruePositive = 1, kIgnored = 2 };

// maskApi.c bbIou for one pair, operation for operation; boxes are [x, y, w, h].
inline double BoxIou(const std::array<double, 4>& d, const std::array<double, 4>& g, bool crowd) {
    const double w = std::fmin(d[2] + d[0], g[2] + g[0]) - std::fmax(d[0], g[0]);
    if (w <= 0) {
        return 0.0;
    }
    const double h = std::fmin(d[3] + d[1], g[3] + g[1]) - std::fmax(d[1], g[1]);
    if (h <= 0) {
        return 0.0;
    }
    const double i = w * h;
    const double da = d[2] * d[3];
    const double u = crowd ? da : g[2] * g[3] + da - i;
    return i / u;
}

// Ground truth and detections grouped by (category, image) in pycocotools' order: within a
// group, file order (COCO.getAnnIds walks imgToAnns, which keeps file order).
struct Groups {
    size_t num_images = 0;
    std::vector<size_t> gt_begin;  // [K * I + 1] offsets into gt
    std::vector<size_t> gt;        // annotation indices
    std::vector<size_t> dt_begin;  // [K * I + 1] offsets into dt
    std::vector<size_t> dt;        // detection indices
};

// Stable counting sort of item indices by group key; keys < 0 are dropped.
void Bucket(const std::vector<int64_t>& keys,
            size_t num_groups,
            std::vector<size_t>& begin,
            std::vector<size_t>& items) {
    begin.assign(num_groups + 1, 0);
    for (int64_t key : keys) {
        if (key >= 0) {
            ++begin[static_cast<size_t>(key) + 1];
        }
    }
    std::partial_sum(begin.begin(), begin.end(), begin.begin());
    items.resize(begin.back());
    std::vector<size_t> next(begin.begin(), begin.end() - 1);
    for (size_t n = 0; n < keys.size(); ++n) {
        if (keys[n] >= 0) {
            items[next[static_cast<size_t>(keys[n])]++] = n;
        }
    }
}

// The evaluation of one category: COCOeval.evaluateImg for every image and area range, then
// COCOeval.accumulate for every area range and maxDets.
class CategoryEvaluator {
  public:
    CategoryEvaluator(const CocoInstances& gt,
                      const std::vector<CocoDetection>& dt,
                      const Groups& groups,
                      const CocoEvalParams& params,
                      size_t num_categories)
        : gt_(gt), dt_(dt), groups_(groups), p_(params), num_categories_(num_categories) {}

    void Run(size_t k, std::vector<double>& precision, std::vector<double>& recall) {
        EvaluateImages(k);
        Accumulate(k, precision, recall);
    }

  private:
    // evaluateImg: fills det_score_, det_rank_, status_ and npig_ for category k.
    void EvaluateImages(size_t k) {
        const size_t T = p_.iou_thresholds.size();
        const size_t A = p_.area_ranges.size();
        const size_t max_det = static_cast<size_t>(p_.max_dets.back());
        det_score_.clear();
        det_rank_.clear();
        det_index_.clear();
        npig_.assign(A, 0);
        status_.clear();
        const size_t I = groups_.num_images;
        // First pass: the kept detections of every image, in concatenation order.
        std::vector<size_t> image_first(I + 1, 0);
        for (size_t i = 0; i < I; ++i) {
            image_first[i] = det_score_.size();
            const size_t key = k * I + i;
            order_.assign(groups_.dt.begin() + groups_.dt_begin[key],
                          groups_.dt.begin() + groups_.dt_begin[key + 1]);
            // np.argsort(-score, kind='mergesort'): stable, so ties keep file order.
            std::stable_sort(order_.begin(), order_.end(), [&](size_t a, size_t b) {
                return dt_[a].score > dt_[b].score;
            });
            if (order_.size() > max_det) {
                order_.resize(max_det);
            }
            for (size_t r = 0; r < order_.size(); ++r) {
                det_score_.push_back(dt_[order_[r]].score);
                det_rank_.push_back(static_cast<uint32_t>(r));
                det_index_.push_back(order_[r]);
            }
        }
        image_first[I] = det_score_.size();
        const size_t n = det_score_.size();
        status_.assign(A * T * n, kFalsePositive);

        for (size_t i = 0; i < I; ++i) {
            const size_t key = k * I + i;
            const size_t* g_begin = groups_.gt.data() + groups_.gt_begin[key];
            const size_t G = groups_.gt_begin[key + 1] - groups_.gt_begin[key];
            const size_t first = image_first[i];
            const size_t D = image_first[i + 1] - first;
            if (G == 0 && D == 0) {
                continue;
            }
            // ious[d * G + g], GT in file order (computeIoU).
            ious_.resize(D * G);
            for (size_t d = 0; d < D; ++d) {
                const auto& box = dt_[det_index_[first + d]].bbox;
                for (size_t g = 0; g < G; ++g) {
                    const CocoAnnotation& ann = gt_.annotations[g_begin[g]];
                    ious_[d * G + g] = BoxIou(box, ann.bbox, ann.iscrowd);
                }
            }
            for (size_t a = 0; a < A; ++a) {
                MatchImage(a, g_begin, G, first, D, n);
            }
        }
    }

    // evaluateImg for one image and area range, all IoU thresholds.
    void MatchImage(size_t a, const size_t* g_begin, size_t G, size_t first, size_t D, size_t n) {
        const size_t T = p_.iou_thresholds.size();
        const AreaRange& range = p_.area_ranges[a];
        // gt '_ignore', then np.argsort(_ignore, kind='mergesort'): non-ignored first, stable.
        gt_order_.clear();
        gt_ignore_.clear();
        for (int pass = 0; pass < 2; ++pass) {
            for (size_t g = 0; g < G; ++g) {
                const CocoAnnotation& ann = gt_.annotations[g_begin[g]];
                // COCOeval._prepare sets 'ignore' from iscrowd alone, whatever the file says.
                const bool ignore = ann.iscrowd || ann.area < range.lo || ann.area > range.hi;
                if (ignore == (pass == 1)) {
                    gt_order_.push_back(g);
                    gt_ignore_.push_back(ignore);
                }
            }
        }
        for (size_t g = 0; g < G; ++g) {
            npig_[a] += gt_ignore_[g] ? 0 : 1;
        }
        if (G == 0) {
            // Nothing to match: a detection is a false positive unless its area is out of range.
            for (size_t d = 0; d < D; ++d) {
                const auto& box = dt_[DetectionIndex(first + d)].bbox;
                const double area = box[2] * box[3];
                const uint8_t s = area < range.lo || area > range.hi ? kIgnored : kFalsePositive;
                for (size_t t = 0; t < T; ++t) {
                    status_[(a * T + t) * n + first + d] = s;
                }
            }
            return;
        }
        for (size_t t = 0; t < T; ++t) {
            gt_matched_.assign(G, 0);
            uint8_t* status = status_.data() + (a * T + t) * n + first;
            for (size_t d = 0; d < D; ++d) {
                double best = std::min(p_.iou_thresholds[t], 1 - 1e-10);
                long m = -1;
                for (size_t pos = 0; pos < G; ++pos) {
                    const size_t g = gt_order_[pos];
                    const bool crowd = gt_.annotations[g_begin[g]].iscrowd;
                    if (gt_matched_[pos] && !crowd) {
                        continue;
                    }
                    // Matched to a regular GT and only ignored ones are left: stop.
                    if (m > -1 && !gt_ignore_[m] && gt_ignore_[pos]) {
                        break;
                    }
                    // `<`, not `<=`: on an exact IoU tie the later GT wins, as in pycocotools.
                    const double iou = ious_[d * G + g];
                    if (iou < best) {
                        continue;
                    }
                    best = iou;
                    m = static_cast<long>(pos);
                }
                bool ignored = false;
                bool matched = false;
                if (m != -1) {
                    ignored = gt_ignore_[m];
                    gt_matched_[m] = 1;
                    // dtMatches stores the GT's id, and accumulate() tests it for truth, so a
                    // match to a GT whose id is 0 counts as no match in pycocotools.
                    matched = gt_.annotations[g_begin[gt_order_[m]]].id != 0;
                }
                if (!matched) {
                    // loadRes sets a detection's area to w * h.
                    const auto& box = dt_[DetectionIndex(first + d)].bbox;
                    const double area = box[2] * box[3];
                    if (area < range.lo || area > range.hi) {
                        ignored = true;
                    }
                }
                status[d] = ignored ? kIgnored : matched ? kTruePositive : kFalsePositive;
            }
        }
    }

    size_t DetectionIndex(size_t position) const { return det_index_[position]; }

    // accumulate for category k. One score sort serves every area range and maxDets, because a
    // stable sort of a subset keeps the subset's order in the stable sort of the whole. Only
    // true positives are visited when sampling precision: recall rises only at them, precision
    // peaks only at them, so np.searchsorted over all detections lands on the same values, and
    // ignored detections (which repeat their neighbour's values) change nothing.
    void Accumulate(size_t k, std::vector<double>& precision, std::vector<double>& recall) {
        const size_t T = p_.iou_thresholds.size();
        const size_t R = p_.recall_thresholds.size();
        const size_t K = num_categories_;
        const size_t A = p_.area_ranges.size();
        const size_t M = p_.max_dets.size();
        const size_t n = det_score_.size();
        // Concatenated in ascending image id, then np.argsort(-scores, kind='mergesort').
        sorted_.resize(n);
        std::iota(sorted_.begin(), sorted_.end(), 0u);
        std::stable_sort(sorted_.begin(), sorted_.end(), [&](uint32_t a, uint32_t b) {
            return det_score_[a] > det_score_[b];
        });
        // How many maxDets cuts keep each detection (ranks are ascending within an image).
        sorted_cuts_.resize(n);
        for (size_t j = 0; j < n; ++j) {
            const uint32_t rank = det_rank_[sorted_[j]];
            uint8_t cuts = 0;
            for (size_t m = 0; m < M; ++m) {
                cuts += rank < static_cast<uint32_t>(p_.max_dets[m]) ? 1 : 0;
            }
            sorted_cuts_[j] = cuts;
        }
        std::vector<double> tp(M);
        std::vector<double> fp(M);
        hit_precision_.resize(M);
        for (size_t a = 0; a < A; ++a) {
            if (npig_[a] == 0) {
                continue;
            }
            const double npig = static_cast<double>(npig_[a]);
            for (size_t t = 0; t < T; ++t) {
                const uint8_t* status = status_.data() + (a * T + t) * n;
                std::fill(tp.begin(), tp.end(), 0.0);
                std::fill(fp.begin(), fp.end(), 0.0);
                for (auto& hits : hit_precision_) {
                    hits.clear();
                }
                for (size_t j = 0; j < n; ++j) {
                    const uint8_t s = status[sorted_[j]];
                    if (s == kIgnored) {
                        continue;
                    }
                    // The cuts keeping a detection are the last `cuts` of the ascending maxDets.
                    for (size_t m = M - sorted_cuts_[j]; m < M; ++m) {
                        if (s == kTruePositive) {
                            tp[m] += 1.0;
                            hit_precision_[m].push_back(tp[m] / (fp[m] + tp[m] + kEps));
                        } else {
                            fp[m] += 1.0;
                        }
                    }
                }
                for (size_t m = 0; m < M; ++m) {
                    // rc[-1] when there are detections, else 0: tp / npig in both cases.
                    recall[((t * K + k) * A + a) * M + m] = tp[m] / npig;
                    std::vector<double>& pr = hit_precision_[m];
                    const size_t hits = pr.size();
                    // Precision made monotone from the right.
                    for (size_t i = hits; i-- > 1;) {
                        if (pr[i] > pr[i - 1]) {
                            pr[i - 1] = pr[i];
                        }
                    }
                    // np.searchsorted(rc, recThrs, side='left'); beyond the end stays 0.
                    size_t i = 0;
                    for (size_t r = 0; r < R; ++r) {
                        const double threshold = p_.recall_thresholds[r];
                        while (i < hits && static_cast<double>(i + 1) / npig < threshold) {
                            ++i;
                        }
                        precision[(((t * R + r) * K + k) * A + a) * M + m] = i < hits ? pr[i] : 0.0;
                    }
                }
            }
        }
    }

    const CocoInstances& gt_;
    const std::vector<CocoDetection>& dt_;
    const Groups& groups_;
    const CocoEvalParams& p_;
    size_t num_categories_;
    // Per category: kept detections in concatenation order (image, then score rank).
    std::vector<double> det_score_;
    std::vector<uint32_t> det_rank_;
    std::vector<size_t> det_index_;
    std::vector<uint8_t> status_;  // [A, T, n]
    std::vector<int64_t> npig_;    // [A] non-ignored GT count
    // Scratch space of one image.
    std::vector<size_t> order_;
    std::vector<double> ious_;
    std::vector<size_t> gt_order_;
    std::vector<uint8_t> gt_ignore_;
    std::vector<uint8_t> gt_matched_;
    // Scratch space of accumulate.
    std::vector<uint32_t> sorted_;
    std::vector<uint8_t> sorted_cuts_;
    std::vector<std::vector<double>> hit_precision_;
};

void CheckParams(const CocoEvalParams& p) {
    auto fail = [](const std::string& message) { throw InputError("COCO eval params", message); };
    if (p.iou_thresholds.empty() || p.recall_thresholds.empty() || p.max_dets.empty() ||
        p.area_ranges.empty()) {
        fail("IoU thresholds, recall thresholds, maxDets and area ranges must not be empty");
    }
    for (double t : p.iou_thresholds) {
        if (!(t >= 0.0 && t <= 1.0)) {
            fail("IoU threshold " + std::to_string(t) + " is outside [0, 1]");
        }
    }
    for (double r : p.recall_thresholds) {
        if (!(r >= 0.0 && r <= 1.0)) {
            fail("recall threshold " + std::to_string(r) + " is outside [0, 1]");
        }
    }
    if (!std::is_sorted(p.recall_thresholds.begin(), p.recall_thresholds.end())) {
        fail("recall thresholds must be ascending");
    }
    for (size_t m = 0; m < p.max_dets.size(); ++m) {
        if (p.max_dets[m] < 1 || (m > 0 && p.max_dets[m] < p.max_dets[m - 1])) {
            fail("maxDets must be positive and ascending");
        }
    }
    for (const AreaRange& range : p.area_ranges) {
        if (!(range.lo <= range.hi)) {
            fail("area range '" + range.label + "' has lo > hi");
        }
    }
}

std::string DetectionContext(size_t n) {
    return "detection " + std::to_string(n);
}

// Sorted unique ids with a dense index; throws on duplicates.
template <typename Record>
std::unordered_map<int64_t, size_t> IndexIds(const std::vector<Record>& records,
                                             const char* what,
                                             std::vector<int64_t>& sorted_ids) {
    sorted_ids.clear();
    for (const Record& record : records) {
        sorted_ids.push_back(record.id);
    }
    std::sort(sorted_ids.begin(), sorted_ids.end());
    const auto duplicate = std::adjacent_find(sorted_ids.begin(), sorted_ids.end());
    if (duplicate != sorted_ids.end()) {
        throw InputError("ground truth",
                         std::string("duplicate ") + what + " id " + std::to_string(*duplicate));
    }
    std::unordered_map<int64_t, size_t> index;
    index.reserve(sorted_ids.size() * 2);
    for (size_t n = 0; n < sorted_ids.size(); ++n) {
        index.emplace(sorted_ids[n], n);
    }
    return index;
}

}  // namespace

std::vector<double> Linspace(double start, double stop, int num) {
    std::vector<double> values;
    if (num <= 0) {
        return values;
    }
    if (num == 1) {
        return {start};
    }
    const double step = (stop - start) / static_cast<double>(num - 1);
    for (int i = 0; i < num; ++i) {
        values.push_back(static_cast<double>(i) * step + start);
    }
    values.back() = stop;
    return values;
}

namespace {

// numpy/core/src/umath/loops_utils.h.src pairwise_sum for a contiguous array.
double PairwiseSum(const double* a, size_t n) {
    if (n < 8) {
        double res = 0.0;
        for (size_t i = 0; i < n; ++i) {
            res += a[i];
        }
        return res;
    }
    if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; ++j) {
            r[j] = a[j];
        }
        size_t i = 8;
        for (; i < n - (n % 8); i += 8) {
            for (int j = 0; j < 8; ++j) {
                r[j] += a[i + j];
            }
        }
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; ++i) {
            res += a[i];
        }
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return PairwiseSum(a, n2) + PairwiseSum(a + n2, n - n2);
}

}  // namespace

double NumpySum(const double* a, size_t n) {
    double res = 0.0;
    for (size_t i = 0; i < n; i += 8192) {
        res += PairwiseSum(a + i, std::min<size_t>(8192, n - i));
    }
    return res;
}

CocoEvalParams CocoEvalParams::Default() {
    CocoEvalParams p;
    p.iou_thresholds = Linspace(0.5, 0.95, 10);
    p.recall_thresholds = Linspace(0.0, 1.0, 101);
    p.max_dets = {1, 10, 100};
    p.area_ranges = {{"all", 0.0, 1e5 * 1e5},
                     {"small", 0.0, 32.0 * 32.0},
                     {"medium", 32.0 * 32.0, 96.0 * 96.0},
                     {"large", 96.0 * 96.0, 1e5 * 1e5}};
    return p;
}

double CocoEvalResult::Precision(size_t t, size_t r, size_t k, size_t a, size_t m) const {
    const size_t R = params.recall_thresholds.size();
    const size_t K = category_ids.size();
    const size_t A = params.area_ranges.size();
    const size_t M = params.max_dets.size();
    return precision[(((t * R + r) * K + k) * A + a) * M + m];
}

double CocoEvalResult::Recall(size_t t, size_t k, size_t a, size_t m) const {
    const size_t K = category_ids.size();
    const size_t A = params.area_ranges.size();
    const size_t M = params.max_dets.size();
    return recall[((t * K + k) * A + a) * M + m];
}

double CocoEvalResult::Summarize(bool ap,
                                 double iou_threshold,
                                 const std::string& area,
                                 int max_dets) const {
    const size_t T = params.iou_thresholds.size();
    const size_t R = params.recall_thresholds.size();
    const size_t K = category_ids.size();
    std::vector<size_t> areas;
    for (size_t a = 0; a < params.area_ranges.size(); ++a) {
        if (params.area_ranges[a].label == area) {
            areas.push_back(a);
        }
    }
    std::vector<size_t> dets;
    for (size_t m = 0; m < params.max_dets.size(); ++m) {
        if (params.max_dets[m] == max_dets) {
            dets.push_back(m);
        }
    }
    // s[s > -1] in C order of s[t, r, k, a, m] (or s[t, k, a, m]), then np.mean.
    std::vector<double> kept;
    for (size_t t = 0; t < T; ++t) {
        if (iou_threshold >= 0 && params.iou_thresholds[t] != iou_threshold) {
            continue;
        }
        for (size_t r = 0; r < (ap ? R : 1); ++r) {
            for (size_t k = 0; k < K; ++k) {
                for (size_t a : areas) {
                    for (size_t m : dets) {
                        const double v = ap ? Precision(t, r, k, a, m) : Recall(t, k, a, m);
                        if (v > -1) {
                            kept.push_back(v);
                        }
                    }
                }
            }
        }
    }
    if (kept.empty()) {
        return -1.0;
    }
    return NumpySum(kept.data(), kept.size()) / static_cast<double>(kept.size());
}

CocoEvalResult EvaluateCoco(const CocoInstances& gt,
                            const std::vector<CocoDetection>& detections,
                            const CocoEvalParams& params) {
    CheckParams(params);
    CocoEvalResult result;
    result.params = params;
    const auto image_index = IndexIds(gt.images, "image", result.image_ids);
    const auto category_index = IndexIds(gt.categories, "category", result.category_ids);
    {
        std::vector<int64_t> annotation_ids;
        IndexIds(gt.annotations, "annotation", annotation_ids);
    }
    const size_t I = result.image_ids.size();
    const size_t K = result.category_ids.size();

    Groups groups;
    groups.num_images = I;
    std::vector<int64_t> keys(gt.annotations.size());
    size_t unknown_image = 0;
    size_t unknown_category = 0;
    for (size_t n = 0; n < gt.annotations.size(); ++n) {
        const CocoAnnotation& ann = gt.annotations[n];
        for (size_t c = 0; c < 4; ++c) {
            if (std::isnan(ann.bbox[c]) || (c >= 2 && ann.bbox[c] < 0)) {
                throw InputError("ground truth annotation id " + std::to_string(ann.id),
                                 "bbox " + std::to_string(ann.bbox[c]) + " is not a valid " +
                                     (c >= 2 ? "size" : "coordinate"));
            }
        }
        const auto image = image_index.find(ann.image_id);
        const auto category = category_index.find(ann.category_id);
        if (image == image_index.end()) {
            ++unknown_image;
            keys[n] = -1;
        } else if (category == category_index.end()) {
            ++unknown_category;
            keys[n] = -1;
        } else {
            keys[n] = static_cast<int64_t>(category->second * I + image->second);
        }
    }
    if (unknown_image > 0) {
        result.notes.push_back(std::to_string(unknown_image) +
                               " ground-truth annotations name an image absent from \"images\" "
                               "and are ignored, as pycocotools does");
    }
    if (unknown_category > 0) {
        result.notes.push_back(std::to_string(unknown_category) +
                               " ground-truth annotations name a category absent from "
                               "\"categories\" and are ignored, as pycocotools does");
    }
    Bucket(keys, K * I, groups.gt_begin, groups.gt);

    keys.resize(detections.size());
    for (size_t n = 0; n < detections.size(); ++n) {
        const CocoDetection& d = detections[n];
        const auto image = image_index.find(d.image_id);
        if (image == image_index.end()) {
            throw InputError(
                DetectionContext(n),
                "image_id " + std::to_string(d.image_id) + " is not in the ground truth");
        }
        const auto category = category_index.find(d.category_id);
        if (category == category_index.end()) {
            throw InputError(
                DetectionContext(n),
                "category_id " + std::to_string(d.category_id) + " is not in the ground truth");
        }
        if (std::isnan(d.score)) {
            throw InputError(DetectionContext(n), "score is NaN");
        }
        for (size_t c = 0; c < 4; ++c) {
            if (!std::isfinite(d.bbox[c])) {
                throw InputError(DetectionContext(n), "bbox holds a NaN or infinite number");
            }
        }
        if (d.bbox[2] < 0 || d.bbox[3] < 0) {
            throw InputError(DetectionContext(n),
                             "bbox has a negative size (w " + std::to_string(d.bbox[2]) + ", h " +
                                 std::to_string(d.bbox[3]) + ")");
        }
        keys[n] = static_cast<int64_t>(category->second * I + image->second);
    }
    Bucket(keys, K * I, groups.dt_begin, groups.dt);

    const size_t T = params.iou_thresholds.size();
    const size_t R = params.recall_thresholds.size();
    const size_t A = params.area_ranges.size();
    const size_t M = params.max_dets.size();
    result.precision.assign(T * R * K * A * M, -1.0);
    result.recall.assign(T * K * A * M, -1.0);

    size_t threads = params.threads > 0 ? static_cast<size_t>(params.threads)
                                        : std::max(1u, std::thread::hardware_concurrency());
    threads = std::min(threads, std::max<size_t>(K, 1));
    std::atomic<size_t> next{0};
    auto worker = [&]() {
        CategoryEvaluator evaluator(gt, detections, groups, params, K);
        for (size_t k = next++; k < K; k = next++) {
            evaluator.Run(k, result.precision, result.recall);
        }
    };
    if (threads <= 1) {
        worker();
    } else {
        std::vector<std::thread> pool;
        for (size_t n = 0; n < threads; ++n) {
            pool.emplace_back(worker);
        }
        for (std::thread& thread : pool) {
            thread.join();
        }
    }

    // _summarizeDets; the first uses the largest maxDets (pycocotools writes 100, the default).
    const int m0 = params.max_dets.front();
    const int m1 = params.max_dets[std::min<size_t>(1, M - 1)];
    const int m2 = params.max_dets[std::min<size_t>(2, M - 1)];
    result.stats = {
        result.Summarize(true, -1, "all", params.max_dets.back()),
        result.Summarize(true, 0.5, "all", m2),
        result.Summarize(true, 0.75, "all", m2),
        result.Summarize(true, -1, "small", m2),
        result.Summarize(true, -1, "medium", m2),
        result.Summarize(true, -1, "large", m2),
        result.Summarize(false, -1, "all", m0),
        result.Summarize(false, -1, "all", m1),
        result.Summarize(false, -1, "all", m2),
        result.Summarize(false, -1, "small", m2),
        result.Summarize(false, -1, "medium", m2),
        result.Summarize(false, -1, "large", m2),
    };

    // Per category: area range 0, the largest maxDets, means of the entries > -1.
    std::unordered_map<int64_t, std::string> names;
    for (const CocoCategory& category : gt.categories) {
        names[category.id] = category.name;
    }
    result.per_category.resize(K);
    for (size_t k = 0; k < K; ++k) {
        CategoryResult& c = result.per_category[k];
        c.category_id = result.category_ids[k];
        c.name = names[c.category_id];
        auto mean_precision = [&](double iou) {
            std::vector<double> kept;
            for (size_t t = 0; t < T; ++t) {
                if (iou >= 0 && params.iou_thresholds[t] != iou) {
                    continue;
                }
                for (size_t r = 0; r < R; ++r) {
                    const double v = result.Precision(t, r, k, 0, M - 1);
                    if (v > -1) {
                        kept.push_back(v);
                    }
                }
            }
            return kept.empty() ? -1.0 : NumpySum(kept.data(), kept.size()) / kept.size();
        };
        c.ap = mean_precision(-1);
        c.ap50 = mean_precision(0.5);
        c.ap75 = mean_precision(0.75);
        std::vector<double> kept;
        for (size_t t = 0; t < T; ++t) {
            const double v = result.Recall(t, k, 0, M - 1);
            if (v > -1) {
                kept.push_back(v);
            }
        }
        c.ar = kept.empty() ? -1.0 : NumpySum(kept.data(), kept.size()) / kept.size();
        for (size_t i = 0; i < I; ++i) {
            const size_t key = k * I + i;
            for (size_t g = groups.gt_begin[key]; g < groups.gt_begin[key + 1]; ++g) {
                ++c.num_gt;
                c.num_gt_crowd += gt.annotations[groups.gt[g]].iscrowd ? 1 : 0;
            }
            c.num_dt += static_cast<int64_t>(groups.dt_begin[key + 1] - groups.dt_begin[key]);
        }
    }
    return result;
}

std::string FormatStats(const CocoEvalResult& result) {
    const auto& p = result.params;
    const int m0 = p.max_dets.front();
    const int m1 = p.max_dets[std::min<size_t>(1, p.max_dets.size() - 1)];
    const int m2 = p.max_dets[std::min<size_t>(2, p.max_dets.size() - 1)];
    const struct {
        const char* kind;
        const char* iou;
        const char* area;
        int max_dets;
    } rows[12] = {
        {"Average Precision", "0.50:0.95", "all", p.max_dets.back()},
        {"Average Precision", "0.50", "all", m2},
        {"Average Precision", "0.75", "all", m2},
        {"Average Precision", "0.50:0.95", "small", m2},
        {"Average Precision", "0.50:0.95", "medium", m2},
        {"Average Precision", "0.50:0.95", "large", m2},
        {"Average Recall", "0.50:0.95", "all", m0},
        {"Average Recall", "0.50:0.95", "all", m1},
        {"Average Recall", "0.50:0.95", "all", m2},
        {"Average Recall", "0.50:0.95", "small", m2},
        {"Average Recall", "0.50:0.95", "medium", m2},
        {"Average Recall", "0.50:0.95", "large", m2},
    };
    std::string out;
    char line[160];
    for (int s = 0; s < 12; ++s) {
        const bool ap = s < 6;
        std::snprintf(line,
                      sizeof(line),
                      " %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3d ] = %0.3f\n",
                      rows[s].kind,
                      ap ? "(AP)" : "(AR)",
                      rows[s].iou,
                      rows[s].area,
                      rows[s].max_dets,
                      result.stats[s]);
        out += line;
    }
    return out;
}

std::string FormatPerCategory(const CocoEvalResult& result) {
    std::string out;
    char line[200];
    std::snprintf(line,
                  sizeof(line),
                  "%-8s %-24s %7s %7s %7s %7s %7s %7s\n",
                  "id",
                  "category",
                  "AP",
                  "AP50",
                  "AP75",
                  "AR",
                  "gt",
                  "dt");
    out += line;
    for (const CategoryResult& c : result.per_category) {
        std::snprintf(line,
                      sizeof(line),
                      "%-8lld %-24s %7.3f %7.3f %7.3f %7.3f %7lld %7lld\n",
                      static_cast<long long>(c.category_id),
                      c.name.c_str(),
                      c.ap,
                      c.ap50,
                      c.ap75,
                      c.ar,
                      static_cast<long long>(c.num_gt),
                      static_cast<long long>(c.num_dt));
        out += line;
    }
    return out;
}

}  // namespace autoloss::metrics
