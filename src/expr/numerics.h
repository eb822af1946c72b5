#pragma once

// Scalar numerics of the unary and element-wise binary operators, exactly as the authors'
// release computes them (SPEC.md §1), with derivatives matching PyTorch's autograd at the
// kinks (relu and abs have slope 0 at 0; the Exp clamp passes gradient at exactly 88).

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "expr/op.h"

namespace autoloss::expr {

template <typename T>
inline T Sigmoid(T x) {
    return T(1) / (T(1) + std::exp(-x));
}

// Value of unary element-wise `op` (every unary operator but Softmax) at x.
template <typename T>
inline T UnaryValue(Op op, T x) {
    constexpr T kPi = std::numbers::pi_v<T>;
    switch (op) {
        case Op::kNeg:
            return -x;
        case Op::kAbs:
            return std::abs(x);
        case Op::kTanh:
            return std::tanh(x);
        case Op::kRelu:
            return x < T(0) ? T(0) : x;  // NaN passes through, as in PyTorch
        case Op::kSin:
            return std::sin(x);
        case Op::kCos:
            return std::cos(x);
        case Op::kSig:
            return Sigmoid(x);
        case Op::kSoftplus:
            return x > T(kSoftplusThreshold) ? x : std::log1p(std::exp(x));
        case Op::kExp:
            return std::exp(std::min(x, T(kExpClamp)));
        case Op::kLog:
            return std::log(x + T(kLogDivEpsilon));
        case Op::kSqrt:
            return std::sqrt(x);
        case Op::kSgdf: {
            const T g = T(2) * std::atan(std::tanh(x * kPi / T(8)));
            return (T(2) * g / kPi + T(1)) / T(2);
        }
        case Op::kSalf: {
            const T t = x / T(2);
            return (t / std::sqrt(T(1) + t * t) + T(1)) / T(2);
        }
        case Op::kSerf:
            return (std::erf(std::sqrt(kPi) / T(2) * x / T(2)) + T(1)) / T(2);
        case Op::kSerfc:
            return T(1) - (std::erf(std::sqrt(kPi) / T(2) * x / T(2)) + T(1)) / T(2);
        default:
            return std::numeric_limits<T>::quiet_NaN();
    }
}

// Derivative of unary element-wise `op` at x, given its value y = UnaryValue(op, x).
template <typename T>
inline T UnaryDerivative(Op op, T x, T y) {
    constexpr T kPi = std::numbers::pi_v<T>;
    switch (op) {
        case Op::kNeg:
            return T(-1);
        case Op::kAbs:
            return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
        case Op::kTanh:
            return T(1) - y * y;
        case Op::kRelu:
            return x > T(0) ? T(1) : T(0);
        case Op::kSin:
            return std::cos(x);
        case Op::kCos:
            return -std::sin(x);
        case Op::kSig:
            return y * (T(1) - y);
        case Op::kSoftplus:
            return x > T(kSoftplusThreshold) ? T(1) : Sigmoid(x);
        case Op::kExp:
            return x <= T(kExpClamp) ? y : T(0);
        case Op::kLog:
            return T(1) / (x + T(kLogDivEpsilon));
        case Op::kSqrt:
            return T(0.5) / y;
        case Op::kSgdf: {
            // d/dx of 2·atan(tanh(xπ/8)) is (π/4)(1 - t²)/(1 + t²); the outer scaling is 1/π.
            const T t = std::tanh(x * kPi / T(8));
            return (T(1) - t * t) / (T(1) + t * t) / T(4);
        }
        case Op::kSalf: {
            const T t = x / T(2);
            const T root = std::sqrt(T(1) + t * t);
            return T(0.25) / (root * root * root);
        }
        case Op::kSerf:
            return T(0.25) * std::exp(-kPi * x * x / T(16));
        case Op::kSerfc:
            return T(-0.25) * std::exp(-kPi * x * x / T(16));
        default:
            return std::numeric_limits<T>::quiet_NaN();
    }
}

// Whether autograd applies the derivative of `op` as a mask (PyTorch's relu and clamp select
// the incoming gradient or zero) rather than a product, so an infinite incoming gradient
// becomes 0, not NaN, where the derivative is 0.
constexpr bool DerivativeIsMask(Op op) {
    return op == Op::kRelu || op == Op::kExp;
}

// Value of element-wise binary `op` (Add, Sub, Mul, Div).
template <typename T>
inline T BinaryValue(Op op, T a, T b) {
    switch (op) {
        case Op::kAdd:
            return a + b;
        case Op::kSub:
            return a - b;
        case Op::kMul:
            return a * b;
        case Op::kDiv:
            return a / (b + T(kLogDivEpsilon));
        default:
            return std::numeric_limits<T>::quiet_NaN();
    }
}

}  // namespace autoloss::expr
