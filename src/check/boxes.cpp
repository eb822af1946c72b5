#include "check/boxes.h"

#include <algorithm>

namespace autoloss::check {

Overlap ComputeOverlap(const Box& predicted, const Box& target) {
    const double iw = std::max(0.0, std::min(predicted.x2, target.x2) -
                                        std::max(predicted.x1, target.x1));
    const double ih = std::max(0.0, std::min(predicted.y2, target.y2) -
                                        std::max(predicted.y1, target.y1));
    const double intersection = iw * ih;
    const double predicted_area = (predicted.x2 - predicted.x1) * (predicted.y2 - predicted.y1);
    const double target_area = (target.x2 - target.x1) * (target.y2 - target.y1);
    const double ew = std::max(predicted.x2, target.x2) - std::min(predicted.x1, target.x1);
    const double eh = std::max(predicted.y2, target.y2) - std::min(predicted.y1, target.y1);
    return Overlap{predicted_area + target_area - intersection + kAreaEpsilon,
                   intersection,
                   ew * eh + kAreaEpsilon};
}

Box Shifted(const Box& box, double dx, double dy) {
    return Box{box.x1 + dx, box.y1 + dy, box.x2 + dx, box.y2 + dy};
}

Box Scaled(const Box& box, double sx, double sy) {
    const double cx = (box.x1 + box.x2) / 2;
    const double cy = (box.y1 + box.y2) / 2;
    const double hw = (box.x2 - box.x1) / 2 * sx;
    const double hh = (box.y2 - box.y1) / 2 * sy;
    return Box{cx - hw, cy - hh, cx + hw, cy + hh};
}

Box Square(double side) { return Box{-side / 2, -side / 2, side / 2, side / 2}; }

}  // namespace autoloss::check
