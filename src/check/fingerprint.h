#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace autoloss::check {

// Identifies how a formula trains a detector: a hash of its values up to an additive constant
// and its gradients with respect to the prediction's inputs (the logits; I, U and E) on fixed
// probes, rounded so that float noise does not split formulas that compute the same function
// (Add(X,Y) and Add(Y,X), Neg(Neg(a)) and a), while different functions almost never collide.
// A loss plus a constant has the same gradients everywhere and trains exactly as the loss does,
// so one training run serves both.
using Fingerprint = std::uint64_t;

// Numbers enter a fingerprint in groups (the values on one probe batch, the gradient with
// respect to one input there), each member rounded to kFingerprintBits significant bits, so
// ulp-level noise from reordered arithmetic (1e-16 relative: Add(Add(a,b),c) against
// Add(a,Add(b,c))) crosses a rounding boundary with probability near 1e-10, while two different
// functions almost always differ by more than 1e-6 on some probe. Rounding is relative to each
// number, never to its group: one huge value (a Div by an intersection of 0 gives 1e20) must not
// hide the others. The price: a rewrite that cancels large terms (a gradient summed as
// (g1 + g) - g keeps an error of ulp(g)) can split a class when g1 is tiny; that costs one
// extra evaluation, never a lost candidate.
inline constexpr int kFingerprintBits = 20;

// Magnitudes below this count as zero (cancellation residue such as 1e-17 where another
// rewrite gives exactly 0).
inline constexpr double kFingerprintZero = 1e-9;

// Accumulates rounded numbers into a fingerprint; FNV-1a over the rounded words, stable across
// runs and machines so fingerprints can be stored in a search record.
class FingerprintBuilder {
public:
    // Starts a fingerprint of a formula of primitive set `set_code`.
    explicit FingerprintBuilder(std::uint64_t set_code);

    // Adds one group of finite numbers, rounded as described above.
    void AddGroup(std::span<const double> values);

    Fingerprint Get() const { return hash_; }

private:
    void Mix(std::uint64_t word);

    std::uint64_t hash_;
};

// `value` rounded to kFingerprintBits significant bits (NaN, ±inf and magnitudes below
// kFingerprintZero get codes of their own), as a word to hash.
std::uint64_t RoundForFingerprint(double value);

// A fingerprint as 16 lowercase hex digits.
std::string FingerprintHex(Fingerprint fingerprint);

// Reads FingerprintHex() text back; false when `text` is not 16 hex digits.
bool ParseFingerprintHex(const std::string& text, Fingerprint* fingerprint);

}  // namespace autoloss::check
