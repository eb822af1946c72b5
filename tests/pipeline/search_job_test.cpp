// `autoloss search --preset smoke` end to end: the record accounts for every candidate, best.json
// reads back into the discovered formula, and a run killed in the middle of a training stage
// resumes to the uninterrupted run's result.

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/run_cli.h"
#include "expr/parse.h"
#include "expr/print.h"
#include "search/record.h"

namespace autoloss::pipeline {
namespace {

namespace fs = std::filesystem;
using search::CandidateRow;

// The reproducible content of a record: every candidate column but the timings, and the
// generations.
std::vector<std::string> RecordContent(const fs::path& path) {
    search::Record record(path.string());
    std::vector<std::string> lines;
    auto number = [](const std::optional<double>& value) {
        return value ? std::to_string(*value) : std::string("-");
    };
    for (const CandidateRow& row : record.LoadAllCandidates()) {
        lines.push_back(std::to_string(row.id) + " " + row.prefix + " " + row.stage + " " +
                        row.reason + " " + row.fingerprint + " " + number(row.simulation_score) +
                        " " + row.simulation_failure + " " + number(row.proxy_score) + " " +
                        row.proxy_failure + " " + std::to_string(row.duplicate_of));
    }
    for (const auto& generation : record.LoadAllGenerations()) {
        lines.push_back("generation " + std::to_string(generation.generation) + " " +
                        std::to_string(generation.best_id) + " " + number(generation.best_score));
    }
    return lines;
}

std::string ReadFile(const fs::path& path) {
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

// One uninterrupted smoke search, then one killed and resumed, in a single test: each test of
// a GoogleTest binary runs in its own process under CTest, and a smoke search takes about half
// a minute.
class SearchJobTest : public ::testing::Test {
  protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("autoloss_search_job_" + std::to_string(::getpid()));
        fs::create_directories(root_);
    }
    void TearDown() override { fs::remove_all(root_); }

    fs::path root_;
};

// The record accounts for every candidate of the uninterrupted run in `out`.
void ExpectCompleteRecord(const fs::path& out) {
    for (const char* file : {"config.yaml",
                             "record.sqlite",
                             "log.txt",
                             "best.json",
                             "final_check.json",
                             "summary.txt"}) {
        EXPECT_TRUE(fs::exists(out / file)) << file;
    }
    search::Record record((out / "record.sqlite").string());
    const auto rows = record.LoadAllCandidates();
    // smoke: 2 generations of 24.
    ASSERT_EQ(rows.size(), 48u);
    std::map<std::string, int> stages;
    int simulated = 0;
    int proxied = 0;
    for (const CandidateRow& row : rows) {
        ++stages[row.stage];
        // Every candidate either stopped at a stage with a reason, or went all the way.
        EXPECT_TRUE(!row.reason.empty() || row.stage == "proxy") << row.prefix;
        if (row.stage == "validity" || row.stage == "convergence") {
            EXPECT_TRUE(row.fingerprint.empty()) << row.prefix;
        }
        simulated += row.simulation_seconds.has_value();
        proxied += row.proxy_seconds.has_value();
    }
    // Every stage saw candidates and the counts add up.
    for (const char* stage : {"validity", "convergence", "equivalence", "simulation", "proxy"}) {
        EXPECT_GT(stages[stage], 0) << stage;
    }
    int total = 0;
    for (const auto& [stage, count] : stages) {
        total += count;
    }
    EXPECT_EQ(total, 48);
    EXPECT_GE(simulated, 2);  // at most max_simulations_per_generation = 2 each generation
    EXPECT_LE(simulated, 4);
    EXPECT_GE(proxied, 1);
    EXPECT_EQ(record.LoadAllGenerations().size(), 2u);
}

// best.json in `out` reads back into the discovered formula.
void ExpectBestJsonReadsBack(const fs::path& out) {
    const auto best = nlohmann::json::parse(ReadFile(out / "best.json"));
    const std::string prefix = best["formula"]["prefix"];
    const expr::Formula formula = expr::Parse(prefix, expr::SetKind::kReg);
    EXPECT_EQ(expr::Parse(best["formula"]["infix"].get<std::string>(), expr::SetKind::kReg),
              formula);
    EXPECT_EQ(best["formula"]["hash"], expr::HashHex(formula.Hash()));
    EXPECT_NE(best["formula"]["pytorch"].get<std::string>().find("def discovered_loss(u, i, e)"),
              std::string::npos);
    ASSERT_EQ(best["final_check"].size(), 2u);
    EXPECT_EQ(best["final_check"][0]["formula"], prefix);
    EXPECT_EQ(best["final_check"][1]["formula"], "Add(Sub(1,Div(I,U)),Div(Sub(E,U),E))");
    EXPECT_FALSE(best["lineage"].empty());
}

TEST_F(SearchJobTest, SmokeRunIsRecordedAndResumesAfterAKillInATrainingStage) {
    const fs::path whole = root_ / "whole";
    const auto result = testing::RunCli("search --preset smoke --out " + whole.string());
    ASSERT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("final check"), std::string::npos);
    ExpectCompleteRecord(whole);
    ExpectBestJsonReadsBack(whole);

    const fs::path out = root_ / "killed";
    const fs::path log = out / "log.txt";
    // Start the search and kill it -9 right after its third simulation has finished, while the
    // next training run is under way.
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        const int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        execl(AUTOLOSS_BINARY,
              AUTOLOSS_BINARY,
              "search",
              "--preset",
              "smoke",
              "--out",
              out.c_str(),
              static_cast<char*>(nullptr));
        _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    bool killed = false;
    while (std::chrono::steady_clock::now() < deadline) {
        const std::string text = ReadFile(log);
        std::size_t simulations = 0;
        for (std::size_t at = text.find("event=simulate "); at != std::string::npos;
             at = text.find("event=simulate ", at + 1)) {
            ++simulations;
        }
        if (simulations >= 3) {
            kill(child, SIGKILL);
            killed = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(killed) << "the search never reached its third simulation";
    ASSERT_TRUE(WIFSIGNALED(status));
    EXPECT_FALSE(fs::exists(out / "best.json"));

    // Without --resume the folder is refused; with it, the search finishes.
    const auto refused = testing::RunCli("search --preset smoke --out " + out.string());
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.output.find("pass --resume"), std::string::npos) << refused.output;
    const auto resumed = testing::RunCli("search --preset smoke --resume --out " + out.string());
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;

    EXPECT_EQ(RecordContent(out / "record.sqlite"), RecordContent(whole / "record.sqlite"));
    const auto best = nlohmann::json::parse(ReadFile(out / "best.json"));
    const auto whole_best = nlohmann::json::parse(ReadFile(whole / "best.json"));
    EXPECT_EQ(best["formula"]["prefix"], whole_best["formula"]["prefix"]);
    EXPECT_EQ(best["final_check"][0]["ap"], whole_best["final_check"][0]["ap"]);
}

TEST_F(SearchJobTest, BadCommandLinesAreErrors) {
    const std::string out = (root_ / "bad").string();
    const struct {
        std::string arguments;
        std::string expected;
    } cases[] = {
        {"search", "give exactly one of --config FILE or --preset NAME"},
        {"search --preset smoke --config x.yaml", "give exactly one"},
        {"search --preset nope", "error: --preset nope: no such preset"},
        {"search --config " + out + "/missing.yaml", "missing.yaml"},
        {"search --preset smoke --resume --out " + out, "holds no search to resume"},
    };
    for (const auto& c : cases) {
        const auto result = testing::RunCli(c.arguments);
        EXPECT_NE(result.exit_code, 0) << c.arguments;
        EXPECT_NE(result.output.find(c.expected), std::string::npos)
            << c.arguments << " printed: " << result.output;
    }
}

}  // namespace
}  // namespace autoloss::pipeline
