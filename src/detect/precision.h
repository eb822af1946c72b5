#pragma once

#include <ATen/autocast_mode.h>

#include "detect/detector.h"

namespace autoloss::detect {

// Enables CPU bf16 autocast for a scope (when asked) and restores the previous state after, so
// the loss code that follows runs in float32.
class AutocastScope {
public:
    explicit AutocastScope(Precision precision)
        : previous_(at::autocast::is_cpu_enabled()) {
        if (precision == Precision::kBFloat16) {
            at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
            at::autocast::set_cpu_enabled(true);
        }
    }
    ~AutocastScope() {
        at::autocast::set_cpu_enabled(previous_);
        if (!previous_) {
            at::autocast::clear_cache();
        }
    }
    AutocastScope(const AutocastScope&) = delete;
    AutocastScope& operator=(const AutocastScope&) = delete;

private:
    bool previous_;
};

}  // namespace autoloss::detect
