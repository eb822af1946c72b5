// Parsers and printers: exact round trips and an error naming every kind of bad text.

#include <random>
#include <string>

#include <gtest/gtest.h>

#include "expr/known_losses.h"
#include "expr/parse.h"
#include "expr/print.h"
#include "expr/random_formula.h"
#include "expr/simplify.h"
#include "util/error.h"

namespace autoloss::expr {
namespace {

using testing::kAllSets;
using testing::RandomFormula;

// The InputError text of parsing `text` in `set`, or "" when it parses.
std::string ParseError(const std::string& text, SetKind set, ParseOptions options = {}) {
    try {
        Parse(text, set, options);
    } catch (const InputError& error) {
        return error.what();
    }
    return "";
}

TEST(ParsePrintTest, PublishedStringsRoundTripExactly) {
    for (const KnownLoss& loss : KnownLosses()) {
        const Formula formula = loss.Parsed();
        EXPECT_EQ(PrintPrefix(formula), loss.prefix) << loss.name;
        const Formula from_infix = Parse(PrintInfix(formula), loss.set);
        EXPECT_EQ(from_infix, formula) << loss.name << ": " << PrintInfix(formula);
    }
}

TEST(ParsePrintTest, ReadableFormUsesThePapersLetters) {
    const Formula a = FindKnownLoss("cse-autoloss-a-cls")->Parsed();
    EXPECT_EQ(PrintInfix(a), "-dot(y * (1 + sin(w)), log(softmax(x)))");
    EXPECT_EQ(Parse("-dot((1 + sin(w)) * y, log(softmax(x)))", SetKind::kClsMulti),
              Parse("Neg(Dot(Mul(Add(1,Sin(Z)),Y),Log(Softmax(X))))", SetKind::kClsMulti));
    EXPECT_EQ(PrintInfix(FindKnownLoss("giou")->Parsed()), "1 - i / u + (e - u) / e");
    EXPECT_EQ(PrintLatex(FindKnownLoss("ce")->Parsed()),
              "-\\left\\langle y, \\log\\left(\\operatorname{softmax}\\left(x\\right)\\right) "
              "\\right\\rangle");
    EXPECT_EQ(PrintLatex(FindKnownLoss("iou")->Parsed()), "1 - \\frac{i}{u}");
}

TEST(ParsePrintTest, InfixKeepsTheTreeShape) {
    // Same-precedence right operands keep their parentheses; unary minus binds tightest.
    const char* cases[][2] = {
        {"Sub(X,Sub(Y,Z))", "x - (y - w)"},
        {"Sub(Sub(X,Y),Z)", "x - y - w"},
        {"Div(X,Mul(Y,Z))", "x / (y * w)"},
        {"Mul(Neg(X),Y)", "-x * y"},
        {"Neg(Mul(X,Y))", "-(x * y)"},
        {"Neg(Neg(X))", "-(-x)"},
        {"Add(X,Neg(Y))", "x + -y"},
        {"Mul(Add(X,1),Y)", "(x + 1) * y"},
    };
    for (const auto& [prefix, infix] : cases) {
        const Formula formula = Parse(prefix, SetKind::kClsMulti);
        EXPECT_EQ(PrintInfix(formula), infix);
        EXPECT_EQ(Parse(infix, SetKind::kClsMulti), formula) << infix;
    }
}

TEST(ParsePrintTest, TenThousandRandomFormulasRoundTripInEveryForm) {
    std::mt19937_64 rng(7);
    for (SetKind set : kAllSets) {
        for (int i = 0; i < 10000; ++i) {
            const Formula formula = RandomFormula(set, 1 + static_cast<int>(rng() % 8), rng);
            const std::string prefix = PrintPrefix(formula);
            const std::string infix = PrintInfix(formula);
            ASSERT_EQ(Parse(prefix, set).Hash(), formula.Hash()) << prefix;
            ASSERT_EQ(Parse(infix, set).Hash(), formula.Hash()) << infix << " from " << prefix;
            ASSERT_EQ(Parse(prefix, set, {TextForm::kPrefix}), formula);
            ASSERT_EQ(Parse(infix, set, {TextForm::kInfix}), formula);
            // Simplified formulas may hold folded constants: they read back with any_constant.
            const Formula simple = Simplify(formula);
            const ParseOptions any{TextForm::kAuto, /*any_constant=*/true};
            ASSERT_EQ(Parse(PrintPrefix(simple), set, any), simple) << PrintPrefix(simple);
            ASSERT_EQ(Parse(PrintInfix(simple), set, any), simple) << PrintInfix(simple);
        }
    }
}

TEST(ParsePrintTest, SizeDepthAndHashDescribeTheTree) {
    const Formula ce = FindKnownLoss("ce")->Parsed();
    EXPECT_EQ(ce.size(), 6);
    EXPECT_EQ(ce.Depth(), 5);
    EXPECT_EQ(Formula::Input(SetKind::kReg, 0).Depth(), 1);
    EXPECT_NE(ce.Hash(), FindKnownLoss("cei")->Parsed().Hash());
    EXPECT_NE(Parse("Add(X,Y)", SetKind::kClsMulti).Hash(),
              Parse("Add(Y,X)", SetKind::kClsMulti).Hash());
    // The same text in another set is another formula.
    EXPECT_NE(Parse("Neg(X)", SetKind::kClsMulti).Hash(),
              Parse("Neg(X)", SetKind::kClsBinary).Hash());
    EXPECT_EQ(HashHex(0x1234), "0000000000001234");
}

TEST(ParsePrintTest, SubtreeEditingKeepsTheTreeValid) {
    const Formula giou = FindKnownLoss("giou")->Parsed();  // Add(Sub(1,Div(I,U)),Div(Sub(E,U),E))
    EXPECT_EQ(giou.SubtreeEnd(1), 6);
    EXPECT_EQ(PrintPrefix(giou.Subtree(6)), "Div(Sub(E,U),E)");
    const Formula replaced = giou.ReplaceSubtree(6, Formula::Input(SetKind::kReg, 1));
    EXPECT_EQ(PrintPrefix(replaced), "Add(Sub(1,Div(I,U)),I)");
    EXPECT_TRUE(replaced.Uses(1));
    EXPECT_FALSE(Formula::Input(SetKind::kReg, 1).Uses(0));
}

TEST(ParsePrintTest, SetIsInferredWhenNotGiven) {
    EXPECT_EQ(ParseAnySet("Neg(Dot(Y,Log(Softmax(X))))").set(), SetKind::kClsMulti);
    EXPECT_EQ(ParseAnySet("Mul(Q,Log(Sig(X)))").set(), SetKind::kClsBinary);
    EXPECT_EQ(ParseAnySet("1 - i / u").set(), SetKind::kReg);
    EXPECT_EQ(ResolveFormula("GIoU").set(), SetKind::kReg);
    EXPECT_EQ(ResolveFormula("cse-autoloss-b-cls"), FindKnownLoss("cse-autoloss-b-cls")->Parsed());
    EXPECT_THROW(ResolveFormula("giou", SetKind::kClsMulti), InputError);
    // With no set accepting it, the error is the one of the set understanding most of it.
    try {
        ParseAnySet("Add(U,Q)");
        FAIL() << "expected an error";
    } catch (const InputError& error) {
        EXPECT_NE(std::string(error.what()).find("'Q' is not an input"), std::string::npos)
            << error.what();
    }
}

TEST(ParsePrintTest, BadTextGetsAnErrorNamingWhatAndWhere) {
    const SetKind multi = SetKind::kClsMulti;
    struct Case {
        const char* text;
        SetKind set;
        const char* expected;
    };
    const Case cases[] = {
        {"", multi, "at character 1: empty formula"},
        {"   ", multi, "empty formula"},
        {"Neg(X", multi, "at character 6: expected ')', found end of text"},
        {"Neg(X))", multi, "at character 7: unexpected ')' after the formula"},
        {"Foo(X)", multi, "at character 1: unknown operator 'Foo'"},
        {"Add(X)", multi, "at character 6: 'Add' takes 2 operands, got 1"},
        {"Neg(X,Y)", multi, "at character 6: 'Neg' takes 1 operand, got more"},
        {"Add(X,Q)",
         multi,
         "at character 7: 'Q' is not an input of the cls-multi set (inputs: X, Y, Z)"},
        {"Dot(X,Q)", SetKind::kClsBinary, "operator 'Dot' is not in the cls-binary set"},
        {"Softmax(U)", SetKind::kReg, "operator 'Softmax' is not in the reg set"},
        {"Add(X,4)", multi, "at character 7: constant '4' is not in the search space"},
        {"Add(X,0.5)", multi, "constant '0.5' is not in the search space"},
        {"Add(X,1.2.3)", multi, "at character 7: malformed number '1.2.3'"},
        {"Add(X,#)", multi, "at character 7: unexpected character '#'"},
        {"x +", multi, "at character 4: expected an operand, found end of text"},
        {"(x + y", multi, "expected ')'"},
        {"sin x", multi, "at character 1: operator 'sin' needs its operands in parentheses"},
        {"dot(x)", multi, "'dot' takes 2 operands, got 1"},
        {"z * x", multi, "'z' is not an input of the cls-multi set (inputs: x, y, w)"},
    };
    for (const Case& c : cases) {
        const std::string error = ParseError(c.text, c.set);
        EXPECT_NE(error.find(c.expected), std::string::npos)
            << "text: '" << c.text << "' gave: " << error;
    }
    // Any finite non-negative constant is fine when asked for.
    EXPECT_EQ(ParseError("Add(X,0.5)", multi, {TextForm::kAuto, true}), "");
}

TEST(ParsePrintTest, AbsurdNestingIsAnErrorNotAStackOverflow) {
    std::string prefix;
    std::string infix;
    for (int i = 0; i < 100000; ++i) {
        prefix += "Neg(";
        infix += "(";
    }
    prefix += "X";
    infix += "x";
    for (int i = 0; i < 100000; ++i) {
        prefix += ")";
        infix += ")";
    }
    EXPECT_NE(ParseError(prefix, SetKind::kClsMulti).find("nested deeper than 200 levels"),
              std::string::npos);
    EXPECT_NE(ParseError(infix, SetKind::kClsMulti).find("nested deeper than 200 levels"),
              std::string::npos);
    EXPECT_NE(ParseError(std::string(100000, '-') + "x", SetKind::kClsMulti).find("deeper than"),
              std::string::npos);
    // A long flat chain nests too: 300 additions make a tree 300 levels deep.
    std::string chain = "x";
    for (int i = 0; i < 300; ++i) {
        chain += " + x";
    }
    EXPECT_NE(ParseError(chain, SetKind::kClsMulti).find("deeper than 200 levels"),
              std::string::npos);
}

}  // namespace
}  // namespace autoloss::expr
