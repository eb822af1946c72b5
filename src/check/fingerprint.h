#pragma once

#include <cstdint>
#include <string>

namespace autoloss::check {

// Identifies the function a formula computes: a hash of its values and gradients on fixed
// probes, rounded so that float noise does not split formulas that compute the same function
// (Add(X,Y) and Add(Y,X), Neg(Neg(a)) and a), while different functions almost never collide.
using Fingerprint = std::uint64_t;

// Relative precision the fingerprint keeps: values are rounded to this many significant bits.
// Rewrites of one function differ by a few ulps (about 1e-16 relative in double), so a value
// lands on the other side of a rounding boundary with probability about 2^-28 per value.
inline constexpr int kFingerprintBits = 24;

// Magnitudes below this count as zero, so cancellation residue (1e-17 where another rewrite
// gives exactly 0) does not split a class.
inline constexpr double kFingerprintZero = 1e-9;

// Accumulates rounded numbers into a fingerprint; FNV-1a over the rounded words, stable across
// runs and machines so fingerprints can be stored in a search record.
class FingerprintBuilder {
public:
    // Starts a fingerprint of a formula of primitive set `set_code`.
    explicit FingerprintBuilder(std::uint64_t set_code);

    // Adds one value, rounded to kFingerprintBits significant bits (NaN and ±inf get codes of
    // their own).
    void Add(double value);

    Fingerprint Get() const { return hash_; }

private:
    void Mix(std::uint64_t word);

    std::uint64_t hash_;
};

// The rounded word Add() mixes for `value`; exposed for tests.
std::uint64_t RoundForFingerprint(double value);

// A fingerprint as 16 lowercase hex digits.
std::string FingerprintHex(Fingerprint fingerprint);

// Reads FingerprintHex() text back; false when `text` is not 16 hex digits.
bool ParseFingerprintHex(const std::string& text, Fingerprint* fingerprint);

}  // namespace autoloss::check
