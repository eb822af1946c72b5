#pragma once

// Seeded, deterministic selections of images: train/val splits for data sets without one, and
// the verification set D_verify (SPEC.md section 3, step 2c).

#include <cstdint>
#include <vector>

#include "data/dataset.h"

namespace autoloss::data {

// Image indices of a split; each list ascending.
struct SplitIndices {
    std::vector<size_t> train;
    std::vector<size_t> val;
};

// Shuffles the images with `seed` and puts round(n * val_fraction) of them (at least one when
// n >= 2 and val_fraction > 0) in val. The same data set and seed give the same split on every
// machine. Throws InputError when val_fraction is outside [0, 1).
SplitIndices SplitTrainVal(const Dataset& dataset, double val_fraction, uint64_t seed);

// D_verify: for every category one image holding a non-crowd box of it, drawn with `seed`;
// rarer categories choose first so that images differ where the data allow. Categories without
// any box get none. Returns ascending unique image indices.
std::vector<size_t> SelectVerificationImages(const Dataset& dataset, uint64_t seed);

}  // namespace autoloss::data
