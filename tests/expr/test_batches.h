#pragma once

// Random but well-formed inputs for each primitive set, owned by the fixture.

#include <random>
#include <vector>

#include "expr/evaluate.h"

namespace autoloss::expr::testing {

// Inputs in the ranges a detector produces: logits in [-4, 4], one-hot / binary targets, IoU in
// [0, 1]; boxes with 0 <= I <= U <= E, U and E carrying +1e-7.
struct RandomBatch {
    int rows = 0;
    int classes = 1;
    std::vector<std::vector<double>> inputs;

    RandomBatch(SetKind set, int rows_, int classes_, std::uint64_t seed)
        : rows(rows_), classes(set == SetKind::kReg ? 1 : classes_) {
        std::mt19937_64 rng(seed);
        std::uniform_real_distribution<double> logit(-4.0, 4.0);
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        const std::size_t n = static_cast<std::size_t>(rows) * classes;
        inputs.assign(PrimitiveSet::Get(set).inputs().size(), std::vector<double>(n, 0.0));
        for (int r = 0; r < rows; ++r) {
            const int target = static_cast<int>(rng() % classes);
            const double iou = unit(rng);
            for (int c = 0; c < classes; ++c) {
                const std::size_t i = static_cast<std::size_t>(r) * classes + c;
                switch (set) {
                    case SetKind::kClsMulti:
                        inputs[0][i] = logit(rng);
                        inputs[1][i] = c == target ? 1.0 : 0.0;
                        // Background is the last class: its rows carry IoU weight 1.
                        inputs[2][i] = target == classes - 1 ? 1.0 : iou;
                        break;
                    case SetKind::kClsBinary: {
                        const bool positive = c == target && unit(rng) < 0.5;
                        inputs[0][i] = logit(rng);
                        inputs[1][i] = positive ? iou : 0.0;
                        inputs[2][i] = positive ? 1.0 : 0.0;
                        inputs[3][i] = positive ? 0.0 : 1.0;
                        break;
                    }
                    case SetKind::kReg: {
                        const double union_area = 10.0 + 1000.0 * unit(rng);
                        inputs[0][i] = union_area + 1e-7;
                        inputs[1][i] = union_area * unit(rng);
                        inputs[2][i] = union_area * (1.0 + unit(rng)) + 1e-7;
                        break;
                    }
                }
            }
        }
    }

    Batch<double> View() const {
        Batch<double> batch{rows, classes, {}};
        for (std::size_t k = 0; k < inputs.size(); ++k) {
            batch.inputs[k] = inputs[k].data();
        }
        return batch;
    }
};

}  // namespace autoloss::expr::testing
