#include "check/fingerprint.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace autoloss::check {

std::uint64_t RoundForFingerprint(double value) {
    if (std::isnan(value)) {
        return 0x7ff8000000000001ull;
    }
    if (std::isinf(value)) {
        return value > 0 ? 0x7ff0000000000001ull : 0xfff0000000000001ull;
    }
    if (std::abs(value) < kFingerprintZero) {
        return 0;
    }
    int exponent = 0;
    const double mantissa = std::frexp(value, &exponent);  // |mantissa| in [0.5, 1)
    auto scaled = static_cast<std::int64_t>(std::llround(std::ldexp(mantissa, kFingerprintBits)));
    if (std::llabs(scaled) == (std::int64_t{1} << kFingerprintBits)) {
        // Rounded up to the next power of two: write it the way frexp would have.
        scaled /= 2;
        ++exponent;
    }
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(exponent)) << 32) ^
           static_cast<std::uint64_t>(scaled);
}

FingerprintBuilder::FingerprintBuilder(std::uint64_t set_code) : hash_(14695981039346656037ull) {
    Mix(set_code);
}

void FingerprintBuilder::AddGroup(std::span<const double> values) {
    Mix(values.size());
    for (double value : values) {
        Mix(RoundForFingerprint(value));
    }
}

void FingerprintBuilder::Mix(std::uint64_t word) {
    for (int byte = 0; byte < 8; ++byte) {
        hash_ ^= (word >> (8 * byte)) & 0xff;
        hash_ *= 1099511628211ull;
    }
}

std::string FingerprintHex(Fingerprint fingerprint) {
    char text[17];
    std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(fingerprint));
    return text;
}

bool ParseFingerprintHex(const std::string& text, Fingerprint* fingerprint) {
    if (text.size() != 16) {
        return false;
    }
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text.c_str(), &end, 16);
    if (end != text.c_str() + text.size()) {
        return false;
    }
    *fingerprint = value;
    return true;
}

}  // namespace autoloss::check
