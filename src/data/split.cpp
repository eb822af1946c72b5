#include "data/split.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <set>

#include "util/error.h"

namespace autoloss::data {

namespace {

// A draw in [0, n) that depends only on the generator's output, unlike
// std::uniform_int_distribution whose algorithm differs between standard libraries.
size_t Draw(std::mt19937_64& rng, size_t n) {
    return static_cast<size_t>(rng() % n);
}

void Shuffle(std::vector<size_t>& values, std::mt19937_64& rng) {
    for (size_t i = values.size(); i > 1; --i) {
        std::swap(values[i - 1], values[Draw(rng, i)]);
    }
}

}  // namespace

SplitIndices SplitTrainVal(const Dataset& dataset, double val_fraction, uint64_t seed) {
    if (!(val_fraction >= 0.0 && val_fraction < 1.0)) {
        throw InputError("val fraction " + std::to_string(val_fraction), "must be in [0, 1)");
    }
    const size_t n = dataset.images.size();
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::mt19937_64 rng(seed);
    Shuffle(order, rng);
    size_t val = static_cast<size_t>(std::llround(static_cast<double>(n) * val_fraction));
    if (val == 0 && val_fraction > 0.0 && n >= 2) {
        val = 1;
    }
    SplitIndices split;
    split.val.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(val));
    split.train.assign(order.begin() + static_cast<std::ptrdiff_t>(val), order.end());
    std::sort(split.train.begin(), split.train.end());
    std::sort(split.val.begin(), split.val.end());
    return split;
}

std::vector<size_t> SelectVerificationImages(const Dataset& dataset, uint64_t seed) {
    const size_t C = dataset.categories.size();
    std::vector<std::vector<size_t>> candidates(C);
    for (size_t i = 0; i < dataset.images.size(); ++i) {
        std::set<int> labels;
        for (const Box& box : dataset.Boxes(i)) {
            if (!box.crowd) {
                labels.insert(box.label);
            }
        }
        for (int label : labels) {
            candidates[static_cast<size_t>(label)].push_back(i);
        }
    }
    std::vector<size_t> order(C);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return candidates[a].size() < candidates[b].size();
    });
    std::mt19937_64 rng(seed);
    std::set<size_t> chosen;
    for (size_t c : order) {
        const std::vector<size_t>& pool = candidates[c];
        if (pool.empty()) {
            continue;
        }
        std::vector<size_t> fresh;
        for (size_t i : pool) {
            if (!chosen.count(i)) {
                fresh.push_back(i);
            }
        }
        if (fresh.empty()) {
            // Every image of this category is already in the set: it is covered.
            continue;
        }
        chosen.insert(fresh[Draw(rng, fresh.size())]);
    }
    return {chosen.begin(), chosen.end()};
}

}  // namespace autoloss::data
