#include "search/variation.h"

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "expr/known_losses.h"
#include "expr/print.h"

namespace autoloss::search {
namespace {

using expr::SetKind;

constexpr SetKind kSets[] = {SetKind::kClsMulti, SetKind::kClsBinary, SetKind::kReg};

TEST(RngTest, RepeatsWhenSeededAlike) {
    Rng a(42);
    Rng b(42);
    Rng c(43);
    bool differs = false;
    for (int i = 0; i < 100; ++i) {
        const auto x = a.Next();
        EXPECT_EQ(x, b.Next());
        differs = differs || x != c.Next();
    }
    EXPECT_TRUE(differs);
    EXPECT_NE(StreamSeed(1, 2, 3), StreamSeed(1, 3, 2));
}

TEST(RngTest, StaysInRangeWhenDrawingBelow) {
    Rng rng(7);
    std::array<int, 5> counts{};
    for (int i = 0; i < 50000; ++i) {
        const int x = rng.Below(5);
        ASSERT_GE(x, 0);
        ASSERT_LT(x, 5);
        ++counts[x];
    }
    for (int count : counts) {
        EXPECT_NEAR(count, 10000, 500);
    }
}

TEST(RandomFormulaTest, RespectsDepthBoundsWhenFull) {
    Rng rng(1);
    for (SetKind set : kSets) {
        for (int i = 0; i < 500; ++i) {
            const expr::Formula f =
                RandomFormula(set, RandomTreeOptions{TreeMethod::kFull, 3, 5}, rng);
            EXPECT_GE(f.Depth(), 3);
            EXPECT_LE(f.Depth(), 5);
        }
    }
}

TEST(RandomFormulaTest, HasMeanSizeNearEightWhenUsingTheBenchmarkShape) {
    for (SetKind set : kSets) {
        Rng rng(2);
        double nodes = 0;
        constexpr int kCount = 20000;
        for (int i = 0; i < kCount; ++i) {
            nodes += RandomFormula(set, MeanSizeEightTrees(set), rng).size();
        }
        EXPECT_NEAR(nodes / kCount, 8.0, 0.5) << expr::PrimitiveSet::Get(set).name();
    }
}

TEST(RandomFormulaTest, UsesEveryOperatorOfTheSetWhenDrawingMany) {
    for (SetKind set : kSets) {
        Rng rng(3);
        std::set<expr::Op> seen;
        for (int i = 0; i < 3000; ++i) {
            // Keep the formula alive: a range-for over a temporary's span would read freed nodes.
            const expr::Formula formula = RandomFormula(set, MeanSizeEightTrees(set), rng);
            for (const expr::Node& node : formula.nodes()) {
                seen.insert(node.op);
            }
        }
        for (int code = 0; code < expr::kOpCount; ++code) {
            const auto op = static_cast<expr::Op>(code);
            EXPECT_EQ(seen.count(op) == 1, expr::PrimitiveSet::Get(set).Allows(op))
                << expr::Info(op).name;
        }
    }
}

TEST(MutateTest, ChangesTheFormulaWithinLimitsForEveryKind) {
    const VariationLimits limits{12, 48};
    for (SetKind set : kSets) {
        const expr::Formula initial = expr::InitialLoss(set).Parsed();
        for (int k = 0; k < kMutationKindCount; ++k) {
            const auto kind = static_cast<MutationKind>(k);
            Rng rng(100 + k);
            int applied = 0;
            for (int i = 0; i < 200; ++i) {
                const auto mutated = Mutate(initial, kind, limits, rng);
                if (!mutated) {
                    continue;
                }
                ++applied;
                EXPECT_NE(*mutated, initial);
                EXPECT_LE(mutated->size(), limits.max_size);
                EXPECT_LE(mutated->Depth(), limits.max_depth);
                EXPECT_EQ(mutated->set(), set);
            }
            // Every kind has a place in every initial loss, except a constant to change in
            // CEI, which has none.
            const bool has_constant = std::any_of(
                initial.nodes().begin(), initial.nodes().end(),
                [](const expr::Node& node) { return node.op == expr::Op::kConstant; });
            if (kind == MutationKind::kChangeConstant && !has_constant) {
                EXPECT_EQ(applied, 0);
                continue;
            }
            EXPECT_GT(applied, 100) << MutationName(kind) << " in "
                                    << expr::PrimitiveSet::Get(set).name();
        }
    }
}

TEST(MutateTest, KeepsTheSizeOfAnOperatorReplacement) {
    Rng rng(5);
    const expr::Formula giou = expr::InitialLoss(SetKind::kReg).Parsed();
    for (int i = 0; i < 100; ++i) {
        const auto mutated = Mutate(giou, MutationKind::kReplaceOperator, {12, 48}, rng);
        ASSERT_TRUE(mutated);
        EXPECT_EQ(mutated->size(), giou.size());
    }
}

TEST(MutateTest, ShrinksWhenHoisting) {
    Rng rng(6);
    const expr::Formula giou = expr::InitialLoss(SetKind::kReg).Parsed();
    for (int i = 0; i < 100; ++i) {
        const auto mutated = Mutate(giou, MutationKind::kHoist, {12, 48}, rng);
        ASSERT_TRUE(mutated);
        EXPECT_LT(mutated->size(), giou.size());
    }
}

TEST(MutateTest, RefusesWhenTheResultBreaksTheLimits) {
    Rng rng(7);
    const expr::Formula giou = expr::InitialLoss(SetKind::kReg).Parsed();
    const VariationLimits tight{giou.Depth(), giou.size()};
    for (int i = 0; i < 100; ++i) {
        EXPECT_FALSE(Mutate(giou, MutationKind::kInsertUnary, tight, rng));
    }
}

TEST(MutateTest, ReturnsNothingWhenTheFormulaHasNoConstant) {
    Rng rng(8);
    const expr::Formula x = expr::Formula::Input(SetKind::kClsMulti, 0);
    EXPECT_FALSE(Mutate(x, MutationKind::kChangeConstant, {12, 48}, rng));
    EXPECT_FALSE(Mutate(x, MutationKind::kHoist, {12, 48}, rng));
}

TEST(CrossoverTest, ExchangesSubtreesAndKeepsTheNodeCount) {
    Rng rng(9);
    const expr::Formula a = expr::FindKnownLoss("giou")->Parsed();
    const expr::Formula b = expr::FindKnownLoss("cse-autoloss-a-reg")->Parsed();
    int changed = 0;
    for (int i = 0; i < 200; ++i) {
        const auto [c, d] = Crossover(a, b, {12, 48}, rng);
        EXPECT_EQ(c.size() + d.size(), a.size() + b.size());
        EXPECT_LE(c.size(), 48);
        changed += c != a;
    }
    EXPECT_GT(changed, 150);
}

TEST(CrossoverTest, ReturnsTheParentsWhenNothingFits) {
    Rng rng(10);
    const expr::Formula a = expr::FindKnownLoss("giou")->Parsed();
    const expr::Formula b = expr::FindKnownLoss("cse-autoloss-b-reg")->Parsed();
    const auto [c, d] = Crossover(a, b, {2, 3}, rng);
    EXPECT_EQ(c, a);
    EXPECT_EQ(d, b);
}

}  // namespace
}  // namespace autoloss::search
