#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace autoloss::search {

// One candidate as the record stores it. `stage` is the furthest stage the candidate reached
// (validity, convergence, equivalence, simulation, proxy) and `reason` why it stopped there
// (empty when it passed everything it was given). Ids are generation · N + index, so they are
// the same in every run of one configuration.
struct CandidateRow {
    std::int64_t id = 0;
    int generation = 0;
    int index = 0;
    std::string prefix;
    std::string infix;
    std::string hash;              // structural hash, 16 hex digits
    std::string origin;            // how it was made: "init:hoist+replace_leaf", "crossover", ...
    std::int64_t parent_a = -1;    // -1: L_I (or none)
    std::int64_t parent_b = -1;
    std::string stage;
    std::string reason;
    std::string fingerprint;       // 16 hex digits, empty unless it passed the cheap stages
    std::int64_t duplicate_of = -1;  // candidate whose costly results it reused, -1 if none
    std::optional<double> simulation_score;
    std::string simulation_failure;  // the interface's failure code
    std::optional<double> proxy_score;
    std::string proxy_failure;
    // Timings (differ between runs; everything else is reproducible):
    double screen_us = 0;                       // cheap stages, microseconds
    std::optional<double> simulation_seconds;   // set when Simulate ran for this candidate
    std::optional<double> proxy_seconds;        // set when Proxy ran for this candidate

    bool HasSimulation() const { return simulation_score || !simulation_failure.empty(); }
    bool HasProxy() const { return proxy_score || !proxy_failure.empty(); }
};

// One finished generation.
struct GenerationRow {
    int generation = 0;
    std::optional<double> threshold;  // simulation score a candidate had to reach
    std::int64_t best_id = -1;        // best proxy score of this generation, -1 if none
    std::optional<double> best_score;
    std::vector<std::int64_t> parents;  // ids of the parents chosen for the next generation
    double seconds = 0;               // wall time of the generation (not reproducible)
};

// The SQLite record of a search: every candidate ever seen, its stages, reasons, scores and
// timings, and every finished generation. WAL journal with full sync and one transaction per
// result, so a process killed at any moment (kill -9) leaves every committed result and no
// partial one. Throws InputError when the file cannot be opened or is not a record.
class Record {
public:
    // Opens `path`, creating the file and its tables when missing.
    explicit Record(const std::string& path);
    ~Record();
    Record(const Record&) = delete;
    Record& operator=(const Record&) = delete;

    const std::string& path() const { return path_; }

    // A value of the key-value meta table (the configuration, the stop reason).
    std::optional<std::string> Meta(const std::string& key);
    void SetMeta(const std::string& key, const std::string& value);

    // Whether the record holds any candidate.
    bool Empty();

    // Inserts the screened candidates of one generation, all in one transaction.
    void InsertCandidates(const std::vector<CandidateRow>& rows);

    // Rewrites the mutable columns (stage onwards) of one candidate in one transaction: one
    // costly result.
    void UpdateCandidate(const CandidateRow& row);

    // Rewrites several candidates and stores the generation, in one transaction.
    void FinishGeneration(const std::vector<CandidateRow>& rows, const GenerationRow& generation);

    // The candidates of `generation`, by index (empty when none were recorded).
    std::vector<CandidateRow> LoadCandidates(int generation);

    // Every candidate, by id.
    std::vector<CandidateRow> LoadAllCandidates();

    // The stored generation `generation`, if it finished.
    std::optional<GenerationRow> LoadGeneration(int generation);

    // Every stored generation, in order.
    std::vector<GenerationRow> LoadAllGenerations();

private:
    void Execute(const std::string& sql);
    void WriteCandidate(const CandidateRow& row, bool insert);
    std::vector<CandidateRow> Query(const std::string& where);

    std::string path_;
    sqlite3* db_ = nullptr;
};

}  // namespace autoloss::search
