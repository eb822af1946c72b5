// Reading evaluation inputs from JSON: shapes checked, every error names input and index.

#include "expr/batch_json.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "expr/parse.h"
#include "util/error.h"

namespace autoloss::expr {
namespace {

std::string ReadError(const char* json, const char* formula, SetKind set) {
    try {
        ReadBatchJson(nlohmann::json::parse(json), Parse(formula, set), "in.json");
    } catch (const InputError& error) {
        return error.what();
    }
    return "";
}

TEST(BatchJsonTest, ReadsNestedArraysOfTheSetsShape) {
    const auto data =
        ReadBatchJson(nlohmann::json::parse(R"({"X": [[1, 2], [3, 4]], "Y": [[0, 1], [1, 0]]})"),
                      Parse("Dot(X,Y)", SetKind::kClsMulti),
                      "in.json");
    EXPECT_EQ(data.rows, 2);
    EXPECT_EQ(data.classes, 2);
    EXPECT_EQ(data.inputs[0], (std::vector<double>{1, 2, 3, 4}));
    EXPECT_TRUE(data.inputs[2].empty());
    EXPECT_EQ(Evaluate(Parse("Dot(X,Y)", SetKind::kClsMulti), data.View()),
              (std::vector<double>{2, 3}));
    const auto reg = ReadBatchJson(nlohmann::json::parse(R"({"U": [2, 4], "I": [1, 1]})"),
                                   Parse("Sub(1,Div(I,U))", SetKind::kReg),
                                   "in.json");
    EXPECT_EQ(reg.rows, 2);
    EXPECT_EQ(reg.classes, 1);
    EXPECT_EQ(ToJson(std::vector<double>{1, 2, 3, 4}, Extent::kFull, 2, 2).dump(),
              "[[1.0,2.0],[3.0,4.0]]");
}

TEST(BatchJsonTest, BadShapesNameTheInputAndIndex) {
    const SetKind multi = SetKind::kClsMulti;
    EXPECT_NE(ReadError("[1, 2]", "X", multi).find("expected one object"), std::string::npos);
    EXPECT_NE(ReadError(R"({"W": [[1]]})", "X", multi).find("'W' is not an input"),
              std::string::npos);
    EXPECT_NE(ReadError(R"({"X": [1, 2]})", "X", multi).find("X[0] must be a non-empty array"),
              std::string::npos);
    EXPECT_NE(
        ReadError(R"({"X": [[1, 2], [3]]})", "X", multi).find("X[1] has 1 classes, expected 2"),
        std::string::npos);
    EXPECT_NE(ReadError(R"({"X": [[1, "a"]]})", "X", multi).find("X[0][1] must be a number"),
              std::string::npos);
    EXPECT_NE(ReadError(R"({"X": [[1]], "Y": [[1], [2]]})", "X", multi).find("has 2 rows"),
              std::string::npos);
    EXPECT_NE(
        ReadError(R"({"X": [[1]]})", "Dot(X,Y)", multi).find("reads input Y, which is missing"),
        std::string::npos);
    EXPECT_NE(ReadError(R"({"X": []})", "X", multi).find("non-empty array"), std::string::npos);
    EXPECT_NE(ReadError(R"({"U": [[1]]})", "U", SetKind::kReg).find("U[0] must be a number"),
              std::string::npos);
}

}  // namespace
}  // namespace autoloss::expr
