#pragma once

namespace autoloss::check {

// An axis-aligned box in input pixels: x1 y1 x2 y2 with x1 <= x2, y1 <= y2.
struct Box {
    double x1 = 0.0;
    double y1 = 0.0;
    double x2 = 0.0;
    double y2 = 0.0;
};

// The regression set's inputs for one (predicted, target) pair, as a detector computes them.
struct Overlap {
    double union_area = 0.0;    // U: area(p) + area(t) - I, plus kAreaEpsilon
    double intersection = 0.0;  // I: overlap area, 0 for disjoint boxes
    double enclosing = 0.0;     // E: area of the smallest box holding both, plus kAreaEpsilon
};

// What the release adds to the union and enclosing areas before they enter a formula
// (SPEC.md §1), so IoU and GIoU stay finite for degenerate boxes.
inline constexpr double kAreaEpsilon = 1e-7;

// U, I and E of `predicted` against `target`, computed like mmdetection's bbox_overlaps in GIoU
// mode: widths clamped at 0, the epsilon added to union and enclosing area only.
Overlap ComputeOverlap(const Box& predicted, const Box& target);

// `box` moved by (dx, dy).
Box Shifted(const Box& box, double dx, double dy);

// `box` with width times `sx` and height times `sy`, about its centre.
Box Scaled(const Box& box, double sx, double sy);

// A square of side `side` centred on the origin.
Box Square(double side);

}  // namespace autoloss::check
