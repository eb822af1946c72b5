#include "search/search.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "check/screener.h"
#include "expr/known_losses.h"
#include "expr/parse.h"
#include "expr/print.h"
#include "util/error.h"

namespace autoloss::search {
namespace {

using expr::SetKind;

// A cheap stand-in for the detector stages: the closer a formula's values are to a target
// loss's on fixed box pairs, the higher its score, in (0, 1] like AP (1 for the target itself).
// As with a trained detector's AP, a constant added to the loss changes nothing: values are
// compared relative to the first pair's. Simulation and proxy use different box pairs, as
// D_verify and the proxy set differ.
class TargetScorer : public CostlyStages {
public:
    TargetScorer(const std::string& target, SetKind set, int sleep_us = 0,
                 std::string log_path = "")
        : target_(expr::Parse(target, set)), sleep_us_(sleep_us), log_path_(std::move(log_path)) {}

    CostlyResult Simulate(const expr::Formula& formula) override { return Score(formula, 1); }
    CostlyResult Proxy(const expr::Formula& formula) override { return Score(formula, 2); }

private:
    CostlyResult Score(const expr::Formula& formula, int salt) {
        if (sleep_us_ > 0) {
            std::this_thread::sleep_for(std::chrono::microseconds(sleep_us_));
        }
        std::vector<double> u, i, e;
        for (int k = 0; k < 32; ++k) {
            const double inter = (k * 7 + salt * 3) % 23;
            const double uni = inter + 1 + (k * 5 + salt) % 17;
            i.push_back(inter);
            u.push_back(uni);
            e.push_back(uni + (k * 3 + salt) % 11);
        }
        expr::Batch<double> batch;
        batch.rows = 32;
        batch.inputs = {u.data(), i.data(), e.data()};
        const std::vector<double> got = expr::Evaluate(formula, batch);
        const std::vector<double> want = expr::Evaluate(target_, batch);
        double distance = 0;
        for (std::size_t k = 0; k < got.size(); ++k) {
            const double want_k = want[k] - want[0];
            distance += std::abs(got[k] - got[0] - want_k) / (1 + std::abs(want_k));
        }
        if (!std::isfinite(distance)) {
            return CostlyResult::Failure("non_finite");
        }
        if (!log_path_.empty()) {
            std::ofstream(log_path_, std::ios::app) << "call\n";
        }
        return CostlyResult::Score(1.0 / (1.0 + distance / got.size()));
    }

    expr::Formula target_;
    int sleep_us_;
    std::string log_path_;
};

// `Sub(1,Div(I,E))`: two variations from GIoU (hoist the IoU term, then replace U by E).
constexpr const char* kTarget = "Sub(1,Div(I,E))";

SearchConfig SmallConfig(std::uint64_t seed) {
    SearchConfig config;
    config.set = SetKind::kReg;
    config.population = 64;
    config.generations = 10;
    config.parents = 8;
    config.proxy_candidates = 8;
    config.crossover_probability = 0.5;
    config.mutation_probability = 0.9;
    config.seed = seed;
    config.limits = {10, 32};
    return config;
}

std::string TempRecord(const std::string& name) {
    const std::string path = ::testing::TempDir() + "autoloss_search_" +
                             std::to_string(getpid()) + "_" + name + ".db";
    for (const char* suffix : {"", "-wal", "-shm", ".calls"}) {
        std::remove((path + suffix).c_str());
    }
    return path;
}

// The reproducible content of a record: every column but the timings.
std::vector<std::string> Dump(const std::string& path) {
    Record record(path);
    std::vector<std::string> lines;
    for (const CandidateRow& row : record.LoadAllCandidates()) {
        auto number = [](const std::optional<double>& value) {
            return value ? std::to_string(*value) : std::string("null");
        };
        lines.push_back(std::to_string(row.id) + "|" + row.prefix + "|" + row.infix + "|" +
                        row.hash + "|" + row.origin + "|" + std::to_string(row.parent_a) + "|" +
                        std::to_string(row.parent_b) + "|" + row.stage + "|" + row.reason + "|" +
                        row.fingerprint + "|" + std::to_string(row.duplicate_of) + "|" +
                        number(row.simulation_score) + "|" + row.simulation_failure + "|" +
                        number(row.proxy_score) + "|" + row.proxy_failure);
    }
    for (const GenerationRow& generation : record.LoadAllGenerations()) {
        std::string parents;
        for (std::int64_t id : generation.parents) {
            parents += std::to_string(id) + ",";
        }
        lines.push_back("generation " + std::to_string(generation.generation) + "|" +
                        (generation.threshold ? std::to_string(*generation.threshold) : "null") +
                        "|" + std::to_string(generation.best_id) + "|" + parents);
    }
    return lines;
}

SearchResult RunToRecord(const SearchConfig& config, const std::string& path, bool resume,
                         CostlyStages& stages) {
    std::unique_ptr<Record> record = OpenRecord(path, config, resume);
    Search search(config, stages, record.get());
    return search.Run();
}

check::Fingerprint FingerprintOf(const std::string& text, SetKind set) {
    check::Screener screener(set);
    check::Fingerprint fingerprint = 0;
    screener.Equivalence(expr::Program(expr::Parse(text, set)), &fingerprint);
    return fingerprint;
}

TEST(SearchTest, RediscoversTheTargetWithinTwentyGenerationsOf128) {
    // The stated budget: 20 generations of 128 candidates (2560 in all), 8 parents, 8 proxy
    // evaluations per generation, p1 = 0.3, p2 = 0.9; every one of eight seeds must end with the
    // target as its best loss. (Measured over seeds 1-20: 20 of 20; with 10 generations of 64,
    // 11 of 20.)
    const check::Fingerprint target = FingerprintOf(kTarget, SetKind::kReg);
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
        SearchConfig config = SmallConfig(seed);
        config.population = 128;
        config.generations = 20;
        config.crossover_probability = 0.3;
        // The target lies past a valley (its neighbours score below GIoU), which a generation 0
        // held to GIoU's own score rarely crosses: thresholds start with generation 1 here.
        config.threshold_from_initial_loss = false;
        TargetScorer scorer(kTarget, SetKind::kReg);
        Search search(config, scorer, nullptr);
        const SearchResult result = search.Run();
        ASSERT_FALSE(result.parents.empty());
        EXPECT_EQ(result.parents.front().fingerprint, target)
            << "seed " << seed << " ended with "
            << expr::PrintPrefix(result.parents.front().formula) << " scoring "
            << result.parents.front().proxy_score.value_or(-1);
        EXPECT_EQ(result.stop_reason, "generations");
        EXPECT_EQ(result.generations_completed, 20);
        // The cheap stages spare the costly ones most candidates.
        EXPECT_LT(result.stats.simulations, result.stats.candidates / 2);
    }
}

TEST(SearchTest, HoldsGenerationZeroToAFractionOfTheInitialLossesScore) {
    SearchConfig config = SmallConfig(3);
    config.generations = 1;
    config.threshold_fraction = 0.95;
    TargetScorer scorer(kTarget, SetKind::kReg);
    const std::string path = TempRecord("initial_threshold");
    const SearchResult result = RunToRecord(config, path, false, scorer);
    ASSERT_TRUE(result.initial_simulation.has_value());
    ASSERT_TRUE(result.initial_simulation->ok);
    Record record(path);
    const auto generation = record.LoadGeneration(0);
    ASSERT_TRUE(generation.has_value());
    ASSERT_TRUE(generation->threshold.has_value());
    EXPECT_DOUBLE_EQ(*generation->threshold, 0.95 * result.initial_simulation->score);
    int below = 0;
    int above = 0;
    for (const CandidateRow& row : record.LoadCandidates(0)) {
        if (!row.simulation_score || row.duplicate_of >= 0) {
            continue;
        }
        if (*row.simulation_score < *generation->threshold) {
            EXPECT_EQ(row.reason, "below_threshold") << row.prefix;
            ++below;
        } else {
            EXPECT_NE(row.reason, "below_threshold") << row.prefix;
            ++above;
        }
    }
    EXPECT_GT(below, 0);
    EXPECT_GT(above, 0);
    // Resuming the finished search replays everything, L_I's simulation included.
    const SearchResult resumed = RunToRecord(config, path, true, scorer);
    EXPECT_EQ(resumed.stats.fresh_evaluations, 0);
    ASSERT_TRUE(resumed.initial_simulation.has_value());
    EXPECT_EQ(resumed.initial_simulation->score, result.initial_simulation->score);
}

TEST(SearchTest, WritesTheSameRecordOnOneAndTwoThreads) {
    const std::string one = TempRecord("threads1");
    const std::string two = TempRecord("threads2");
    SearchConfig config = SmallConfig(3);
    config.generations = 5;
    TargetScorer scorer(kTarget, SetKind::kReg);
    config.threads = 1;
    RunToRecord(config, one, false, scorer);
    config.threads = 2;
    RunToRecord(config, two, false, scorer);
    const std::vector<std::string> a = Dump(one);
    EXPECT_EQ(a.size(), 5u * 64u + 5u);
    EXPECT_EQ(a, Dump(two));
}

TEST(SearchTest, ResumesToTheUninterruptedResultWhenStoppedByTheEvaluationBudget) {
    const std::string whole = TempRecord("whole");
    const std::string parts = TempRecord("parts");
    SearchConfig config = SmallConfig(4);
    config.generations = 6;
    TargetScorer scorer(kTarget, SetKind::kReg);
    const SearchResult uninterrupted = RunToRecord(config, whole, false, scorer);

    // Stop after 7, then 30 results, then run to the end.
    TargetScorer counted(kTarget, SetKind::kReg);
    std::int64_t fresh = 0;
    bool first = true;
    for (std::int64_t budget : {7, 30, 0}) {
        config.max_evaluations = budget;
        const SearchResult partial = RunToRecord(config, parts, !first, counted);
        first = false;
        fresh += partial.stats.fresh_evaluations;
        if (budget > 0) {
            EXPECT_EQ(partial.stop_reason, "evaluations");
        }
    }
    EXPECT_EQ(Dump(parts), Dump(whole));
    // Nothing was evaluated twice.
    EXPECT_EQ(fresh, uninterrupted.stats.fresh_evaluations);
}

TEST(SearchTest, MatchesTheUninterruptedRecordWhenKilledAtRandomPointsAndResumed) {
    const std::string whole = TempRecord("unkilled");
    const std::string killed = TempRecord("killed");
    const std::string calls = killed + ".calls";
    SearchConfig config = SmallConfig(5);
    config.generations = 6;
    TargetScorer plain(kTarget, SetKind::kReg);
    const SearchResult uninterrupted = RunToRecord(config, whole, false, plain);

    Rng rng(2024);
    int kills = 0;
    bool finished = false;
    for (int attempt = 0; attempt < 40 && !finished; ++attempt) {
        const pid_t child = fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            // The child: resume (or start) the search, with slow costly stages so the parent's
            // kill lands mid-run; every finished call is logged to count re-evaluations.
            try {
                TargetScorer slow(kTarget, SetKind::kReg, 300, calls);
                RunToRecord(config, killed, true, slow);
                _exit(0);
            } catch (...) {
                _exit(2);
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2 + rng.Below(40)));
        kill(child, SIGKILL);
        int status = 0;
        waitpid(child, &status, 0);
        if (WIFEXITED(status)) {
            ASSERT_EQ(WEXITSTATUS(status), 0) << "the resumed search failed";
            finished = true;
        } else {
            ++kills;
        }
    }
    if (!finished) {
        TargetScorer slow(kTarget, SetKind::kReg, 0, calls);
        RunToRecord(config, killed, true, slow);
    }
    EXPECT_GE(kills, 3);
    EXPECT_EQ(Dump(killed), Dump(whole));

    // Each kill can lose at most the one call in flight (finished but not yet committed).
    std::ifstream log(calls);
    std::int64_t made = 0;
    for (std::string line; std::getline(log, line);) {
        ++made;
    }
    EXPECT_GE(made, uninterrupted.stats.fresh_evaluations);
    EXPECT_LE(made, uninterrupted.stats.fresh_evaluations + kills);
}

TEST(SearchTest, RefusesARecordOfAnotherSearchWhenResuming) {
    const std::string path = TempRecord("other");
    SearchConfig config = SmallConfig(6);
    config.generations = 1;
    TargetScorer scorer(kTarget, SetKind::kReg);
    RunToRecord(config, path, false, scorer);
    EXPECT_THROW(OpenRecord(path, config, false), InputError);
    config.seed = 7;
    EXPECT_THROW(OpenRecord(path, config, true), InputError);
}

TEST(SearchTest, ExtendsAFinishedSearchWhenResumedWithMoreGenerations) {
    const std::string whole = TempRecord("extend_whole");
    const std::string grown = TempRecord("extend_grown");
    SearchConfig config = SmallConfig(8);
    TargetScorer scorer(kTarget, SetKind::kReg);
    config.generations = 4;
    RunToRecord(config, whole, false, scorer);
    config.generations = 2;
    RunToRecord(config, grown, false, scorer);
    config.generations = 4;
    const SearchResult result = RunToRecord(config, grown, true, scorer);
    EXPECT_EQ(result.generations_completed, 4);
    EXPECT_EQ(Dump(grown), Dump(whole));
}

TEST(SearchTest, RejectsAnInvalidConfiguration) {
    TargetScorer scorer(kTarget, SetKind::kReg);
    SearchConfig config = SmallConfig(1);
    config.population = 1;
    EXPECT_THROW(Search(config, scorer, nullptr), InputError);
    config = SmallConfig(1);
    config.crossover_probability = 1.5;
    EXPECT_THROW(Search(config, scorer, nullptr), InputError);
    config = SmallConfig(1);
    config.initial_loss = "ce";  // a classification loss in a regression search
    EXPECT_THROW(Search(config, scorer, nullptr), InputError);
}

TEST(SearchTest, SurvivesCostlyStagesThatAlwaysFail) {
    class Failing : public CostlyStages {
    public:
        CostlyResult Simulate(const expr::Formula&) override {
            return CostlyResult::Failure("diverged");
        }
        CostlyResult Proxy(const expr::Formula&) override { return CostlyResult::Failure("x"); }
    } failing;
    SearchConfig config = SmallConfig(2);
    config.generations = 3;
    Search search(config, failing, nullptr);
    const SearchResult result = search.Run();
    EXPECT_EQ(result.generations_completed, 3);
    ASSERT_EQ(result.parents.size(), 1u);
    EXPECT_EQ(result.parents.front().id, -1);  // still L_I
    EXPECT_EQ(result.stats.proxies, 0);
}

}  // namespace
}  // namespace autoloss::search
