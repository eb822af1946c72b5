// `autoloss formula show|eval` end to end.

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_cli.h"

namespace autoloss {
namespace {

using testing::RunCli;

class FormulaCliTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("autoloss_cli_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string Write(const std::string& name, const std::string& content) {
        const auto path = dir_ / name;
        std::ofstream(path) << content;
        return path.string();
    }

    std::filesystem::path dir_;
};

TEST_F(FormulaCliTest, ShowPrintsEveryFormAsJson) {
    const auto result = RunCli("formula show cse-autoloss-a-cls --json");
    ASSERT_EQ(result.exit_code, 0) << result.output;
    const auto json = nlohmann::json::parse(result.output);
    EXPECT_EQ(json["set"], "cls-multi");
    EXPECT_EQ(json["prefix"], "Neg(Dot(Mul(Y,Add(1,Sin(Z))),Log(Softmax(X))))");
    EXPECT_EQ(json["infix"], "-dot(y * (1 + sin(w)), log(softmax(x)))");
    EXPECT_EQ(json["size"], 11);
    EXPECT_EQ(json["depth"], 6);
    EXPECT_EQ(json["hash"].get<std::string>().size(), 16u);
    EXPECT_NE(json["pytorch"].get<std::string>().find("def autoloss_loss(x, y, w):"),
              std::string::npos);
    EXPECT_NE(json["latex"].get<std::string>().find("\\sin"), std::string::npos);
}

TEST_F(FormulaCliTest, EvalPrintsValuesAndGradient) {
    const auto inputs = Write("in.json", R"({"U": [4, 8], "I": [2, 2], "E": [8, 8]})");
    const auto result =
        RunCli("formula eval giou --set reg --inputs " + inputs + " --grad I --json");
    ASSERT_EQ(result.exit_code, 0) << result.output;
    const auto json = nlohmann::json::parse(result.output);
    // GIoU = 1 - i/u + (e - u)/e.
    EXPECT_DOUBLE_EQ(json["value"][0].get<double>(), 1 - 0.5 + 0.5);
    EXPECT_DOUBLE_EQ(json["value"][1].get<double>(), 1 - 0.25);
    EXPECT_DOUBLE_EQ(json["grad"][0].get<double>(), -1.0 / 4);
    EXPECT_DOUBLE_EQ(json["grad"][1].get<double>(), -1.0 / 8);
    // The readable form of a formula works as well as a name.
    const auto infix = RunCli("formula eval '1 - i / u' --inputs " + inputs + " --json");
    ASSERT_EQ(infix.exit_code, 0) << infix.output;
    EXPECT_EQ(nlohmann::json::parse(infix.output)["value"], nlohmann::json::parse("[0.5, 0.75]"));
}

TEST_F(FormulaCliTest, BadInputExitsNonZeroWithTheReason) {
    const auto good = Write("good.json", R"({"X": [[1, 2]], "Y": [[0, 1]]})");
    const auto malformed = Write("bad.json", R"({"X": [[1, 2]], )");
    const auto shape = Write("shape.json", R"({"X": [[1, 2], [3]], "Y": [[0, 1], [1, 0]]})");
    const struct {
        std::string arguments;
        std::string expected;
    } cases[] = {
        {"formula show 'Add(X'", "error: formula 'Add(X' at character 6: expected ','"},
        {"formula show 'Frob(X)'", "unknown operator 'Frob'"},
        {"formula show ''", "empty formula"},
        {"formula show giou --set cls-multi", "belongs to the reg set"},
        {"formula show ce --set nope", "error: --set nope: expected cls-multi, cls-binary or reg"},
        {"formula eval ce --inputs " + dir_.string() + "/missing.json", "cannot open"},
        {"formula eval ce --inputs " + malformed, "malformed JSON"},
        {"formula eval ce --inputs " + shape, "X[1] has 1 classes, expected 2"},
        {"formula eval ce --inputs " + good + " --grad Q", "error: --grad Q: not an input"},
        {"formula eval ce", "--inputs is required"},
        {"formula", "A subcommand is required"},
    };
    for (const auto& c : cases) {
        const auto result = RunCli(c.arguments);
        EXPECT_NE(result.exit_code, 0) << c.arguments;
        EXPECT_NE(result.output.find(c.expected), std::string::npos)
            << c.arguments << " printed: " << result.output;
    }
}

TEST_F(FormulaCliTest, HelpDescribesEveryFormulaCommand) {
    for (const char* command : {"formula show --help", "formula eval --help", "--help"}) {
        const auto result = RunCli(command);
        EXPECT_EQ(result.exit_code, 0) << command;
        EXPECT_NE(result.output.find("Usage"), std::string::npos) << command;
    }
}

}  // namespace
}  // namespace autoloss
