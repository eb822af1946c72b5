#include "search/record.h"

#include <sqlite3.h>

#include <sstream>

#include "util/check.h"
#include "util/error.h"

namespace autoloss::search {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS candidates(
    id INTEGER PRIMARY KEY,
    generation INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    prefix TEXT NOT NULL,
    infix TEXT NOT NULL,
    hash TEXT NOT NULL,
    origin TEXT NOT NULL,
    parent_a INTEGER NOT NULL,
    parent_b INTEGER NOT NULL,
    stage TEXT NOT NULL,
    reason TEXT,
    fingerprint TEXT,
    duplicate_of INTEGER,
    simulation_score REAL,
    simulation_failure TEXT,
    proxy_score REAL,
    proxy_failure TEXT,
    screen_us REAL NOT NULL,
    simulation_seconds REAL,
    proxy_seconds REAL);
CREATE INDEX IF NOT EXISTS candidates_generation ON candidates(generation, idx);
CREATE INDEX IF NOT EXISTS candidates_fingerprint ON candidates(fingerprint);
CREATE TABLE IF NOT EXISTS generations(
    generation INTEGER PRIMARY KEY,
    threshold REAL,
    best_id INTEGER NOT NULL,
    best_score REAL,
    parents TEXT NOT NULL,
    seconds REAL NOT NULL);
)sql";

constexpr const char* kColumns =
    "id, generation, idx, prefix, infix, hash, origin, parent_a, parent_b, stage, reason, "
    "fingerprint, duplicate_of, simulation_score, simulation_failure, proxy_score, "
    "proxy_failure, screen_us, simulation_seconds, proxy_seconds";

// A prepared statement, finalised on scope exit; errors are the record's, never the user's
// input, except opening a file that is not a record.
class Statement {
public:
    Statement(sqlite3* db, const std::string& sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement_, nullptr) != SQLITE_OK) {
            throw InputError("search record", std::string("SQL error: ") + sqlite3_errmsg(db));
        }
    }
    ~Statement() { sqlite3_finalize(statement_); }

    void Bind(int index, std::int64_t value) { sqlite3_bind_int64(statement_, index, value); }
    void Bind(int index, double value) { sqlite3_bind_double(statement_, index, value); }
    void Bind(int index, const std::string& value) {
        sqlite3_bind_text(statement_, index, value.c_str(), -1, SQLITE_TRANSIENT);
    }
    // Empty text and missing numbers are stored as NULL.
    void BindText(int index, const std::string& value) {
        if (value.empty()) {
            sqlite3_bind_null(statement_, index);
        } else {
            Bind(index, value);
        }
    }
    void BindOptional(int index, const std::optional<double>& value) {
        if (value) {
            Bind(index, *value);
        } else {
            sqlite3_bind_null(statement_, index);
        }
    }

    // Steps once; true while rows come.
    bool Step() {
        const int rc = sqlite3_step(statement_);
        if (rc == SQLITE_ROW) {
            return true;
        }
        if (rc != SQLITE_DONE) {
            throw InputError("search record", std::string("SQL error: ") + sqlite3_errmsg(db_));
        }
        return false;
    }

    std::int64_t Int(int column) { return sqlite3_column_int64(statement_, column); }
    double Double(int column) { return sqlite3_column_double(statement_, column); }
    bool Null(int column) { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }
    std::string Text(int column) {
        const auto* text = sqlite3_column_text(statement_, column);
        return text == nullptr ? std::string() : reinterpret_cast<const char*>(text);
    }
    std::optional<double> OptionalDouble(int column) {
        return Null(column) ? std::nullopt : std::optional<double>(Double(column));
    }

private:
    sqlite3* db_;
    sqlite3_stmt* statement_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back if the body throws.
class Transaction {
public:
    explicit Transaction(sqlite3* db) : db_(db) { Run("BEGIN IMMEDIATE"); }
    ~Transaction() {
        if (!committed_) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        }
    }
    void Commit() {
        Run("COMMIT");
        committed_ = true;
    }

private:
    void Run(const char* sql) {
        char* error = nullptr;
        if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
            const std::string message = error != nullptr ? error : "unknown";
            sqlite3_free(error);
            throw InputError("search record", "SQL error: " + message);
        }
    }

    sqlite3* db_;
    bool committed_ = false;
};

std::string JoinIds(const std::vector<std::int64_t>& ids) {
    std::ostringstream text;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        text << (i ? "," : "") << ids[i];
    }
    return text.str();
}

std::vector<std::int64_t> SplitIds(const std::string& text) {
    std::vector<std::int64_t> ids;
    std::istringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) {
        ids.push_back(std::stoll(item));
    }
    return ids;
}

GenerationRow ReadGeneration(Statement& statement) {
    GenerationRow row;
    row.generation = static_cast<int>(statement.Int(0));
    row.threshold = statement.OptionalDouble(1);
    row.best_id = statement.Int(2);
    row.best_score = statement.OptionalDouble(3);
    row.parents = SplitIds(statement.Text(4));
    row.seconds = statement.Double(5);
    return row;
}

}  // namespace

Record::Record(const std::string& path) : path_(path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        nullptr) != SQLITE_OK) {
        const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw InputError(path, "cannot open the search record: " + message);
    }
    try {
        // WAL: a crash mid-commit leaves the last committed state; FULL sync makes each commit
        // durable before the search moves on, so a finished training run is never repeated.
        Execute("PRAGMA journal_mode=WAL");
        Execute("PRAGMA synchronous=FULL");
        sqlite3_busy_timeout(db_, 10000);
        Execute(kSchema);
    } catch (const InputError& error) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw InputError(path, "not a search record: " + error.message());
    }
}

Record::~Record() { sqlite3_close(db_); }

void Record::Execute(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
        const std::string message = error != nullptr ? error : sqlite3_errmsg(db_);
        sqlite3_free(error);
        throw InputError("search record", "SQL error: " + message);
    }
}

std::optional<std::string> Record::Meta(const std::string& key) {
    Statement statement(db_, "SELECT value FROM meta WHERE key = ?");
    statement.Bind(1, key);
    if (!statement.Step()) {
        return std::nullopt;
    }
    return statement.Text(0);
}

void Record::SetMeta(const std::string& key, const std::string& value) {
    Transaction transaction(db_);
    Statement statement(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)");
    statement.Bind(1, key);
    statement.Bind(2, value);
    statement.Step();
    transaction.Commit();
}

bool Record::Empty() {
    Statement statement(db_, "SELECT COUNT(*) FROM candidates");
    statement.Step();
    return statement.Int(0) == 0;
}

void Record::WriteCandidate(const CandidateRow& row, bool insert) {
    Statement statement(
        db_, insert ? std::string("INSERT INTO candidates(") + kColumns +
                          ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                    : "UPDATE candidates SET stage=?10, reason=?11, fingerprint=?12, "
                      "duplicate_of=?13, simulation_score=?14, simulation_failure=?15, "
                      "proxy_score=?16, proxy_failure=?17, screen_us=?18, "
                      "simulation_seconds=?19, proxy_seconds=?20 WHERE id=?1");
    statement.Bind(1, row.id);
    if (insert) {
        statement.Bind(2, static_cast<std::int64_t>(row.generation));
        statement.Bind(3, static_cast<std::int64_t>(row.index));
        statement.Bind(4, row.prefix);
        statement.Bind(5, row.infix);
        statement.Bind(6, row.hash);
        statement.Bind(7, row.origin);
        statement.Bind(8, row.parent_a);
        statement.Bind(9, row.parent_b);
    }
    statement.Bind(10, row.stage);
    statement.BindText(11, row.reason);
    statement.BindText(12, row.fingerprint);
    statement.BindOptional(13, row.duplicate_of < 0 ? std::nullopt
                                                    : std::optional<double>(row.duplicate_of));
    statement.BindOptional(14, row.simulation_score);
    statement.BindText(15, row.simulation_failure);
    statement.BindOptional(16, row.proxy_score);
    statement.BindText(17, row.proxy_failure);
    statement.Bind(18, row.screen_us);
    statement.BindOptional(19, row.simulation_seconds);
    statement.BindOptional(20, row.proxy_seconds);
    statement.Step();
}

void Record::InsertCandidates(const std::vector<CandidateRow>& rows) {
    Transaction transaction(db_);
    for (const CandidateRow& row : rows) {
        WriteCandidate(row, true);
    }
    transaction.Commit();
}

void Record::UpdateCandidate(const CandidateRow& row) {
    Transaction transaction(db_);
    WriteCandidate(row, false);
    transaction.Commit();
}

void Record::FinishGeneration(const std::vector<CandidateRow>& rows,
                              const GenerationRow& generation) {
    Transaction transaction(db_);
    for (const CandidateRow& row : rows) {
        WriteCandidate(row, false);
    }
    Statement statement(db_,
                        "INSERT OR REPLACE INTO generations(generation, threshold, best_id, "
                        "best_score, parents, seconds) VALUES (?,?,?,?,?,?)");
    statement.Bind(1, static_cast<std::int64_t>(generation.generation));
    statement.BindOptional(2, generation.threshold);
    statement.Bind(3, generation.best_id);
    statement.BindOptional(4, generation.best_score);
    statement.Bind(5, JoinIds(generation.parents));
    statement.Bind(6, generation.seconds);
    statement.Step();
    transaction.Commit();
}

std::vector<CandidateRow> Record::Query(const std::string& where) {
    Statement statement(db_, std::string("SELECT ") + kColumns + " FROM candidates " + where);
    std::vector<CandidateRow> rows;
    while (statement.Step()) {
        CandidateRow row;
        row.id = statement.Int(0);
        row.generation = static_cast<int>(statement.Int(1));
        row.index = static_cast<int>(statement.Int(2));
        row.prefix = statement.Text(3);
        row.infix = statement.Text(4);
        row.hash = statement.Text(5);
        row.origin = statement.Text(6);
        row.parent_a = statement.Int(7);
        row.parent_b = statement.Int(8);
        row.stage = statement.Text(9);
        row.reason = statement.Text(10);
        row.fingerprint = statement.Text(11);
        row.duplicate_of = statement.Null(12) ? -1 : statement.Int(12);
        row.simulation_score = statement.OptionalDouble(13);
        row.simulation_failure = statement.Text(14);
        row.proxy_score = statement.OptionalDouble(15);
        row.proxy_failure = statement.Text(16);
        row.screen_us = statement.Double(17);
        row.simulation_seconds = statement.OptionalDouble(18);
        row.proxy_seconds = statement.OptionalDouble(19);
        rows.push_back(std::move(row));
    }
    return rows;
}

std::vector<CandidateRow> Record::LoadCandidates(int generation) {
    return Query("WHERE generation = " + std::to_string(generation) + " ORDER BY idx");
}

std::vector<CandidateRow> Record::LoadAllCandidates() { return Query("ORDER BY id"); }

std::optional<GenerationRow> Record::LoadGeneration(int generation) {
    Statement statement(db_,
                        "SELECT generation, threshold, best_id, best_score, parents, seconds "
                        "FROM generations WHERE generation = ?");
    statement.Bind(1, static_cast<std::int64_t>(generation));
    if (!statement.Step()) {
        return std::nullopt;
    }
    return ReadGeneration(statement);
}

std::vector<GenerationRow> Record::LoadAllGenerations() {
    Statement statement(db_,
                        "SELECT generation, threshold, best_id, best_score, parents, seconds "
                        "FROM generations ORDER BY generation");
    std::vector<GenerationRow> rows;
    while (statement.Step()) {
        rows.push_back(ReadGeneration(statement));
    }
    return rows;
}

}  // namespace autoloss::search
