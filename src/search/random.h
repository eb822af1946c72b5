#pragma once

#include <cstdint>

namespace autoloss::search {

// SplitMix64's finaliser: a bijective 64-bit mix, used to derive independent stream seeds.
inline std::uint64_t Mix64(std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// The seed of one random stream, from the search seed and the ids of what the stream is for
// (generation, candidate index, purpose). Every candidate draws from its own stream, so results
// do not depend on the order threads reach candidates in.
inline std::uint64_t StreamSeed(std::uint64_t seed,
                                std::uint64_t a,
                                std::uint64_t b = 0,
                                std::uint64_t c = 0) {
    return Mix64(seed ^ Mix64(a ^ Mix64(b ^ Mix64(c))));
}

// A small, fast generator (xoshiro256**) with the few draws variation needs. Deterministic on
// every platform, unlike the standard distributions.
class Rng {
public:
    explicit Rng(std::uint64_t seed) {
        for (std::uint64_t& word : state_) {
            seed = Mix64(seed);
            word = seed;
        }
    }

    std::uint64_t Next() {
        const std::uint64_t result = Rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = Rotl(state_[3], 45);
        return result;
    }

    // Uniform integer in [0, n); n > 0. Lemire's multiply-shift (bias below 2^-32 for our n).
    int Below(int n) {
        return static_cast<int>((static_cast<unsigned __int128>(Next()) * n) >> 64);
    }

    // Uniform integer in [low, high].
    int Between(int low, int high) { return low + Below(high - low + 1); }

    // Uniform double in [0, 1).
    double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

    // True with probability p.
    bool Chance(double p) { return Uniform() < p; }

private:
    static std::uint64_t Rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

    std::uint64_t state_[4];
};

}  // namespace autoloss::search
