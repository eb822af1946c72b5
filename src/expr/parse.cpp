#include "expr/parse.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include "expr/known_losses.h"
#include "util/error.h"

namespace autoloss::expr {

namespace {

enum class TokenKind {
    kIdentifier,
    kNumber,
    kOpen,
    kClose,
    kComma,
    kPlus,
    kMinus,
    kStar,
    kSlash,
    kEnd
};

struct Token {
    TokenKind kind;
    std::string_view text;
    int position;  // 1-based character position of the token's first character
};

std::string Quote(std::string_view text) {
    constexpr std::size_t kShown = 80;
    std::string shown(text.substr(0, kShown));
    if (text.size() > kShown) {
        shown += "...";
    }
    return "'" + shown + "'";
}

// A parse error that remembers where it happened, so ParseAnySet can report the set in which
// parsing got furthest.
class ParseError : public InputError {
  public:
    ParseError(std::string_view text, int position, const std::string& message)
        : InputError("formula " + Quote(text) + " at character " + std::to_string(position),
                     message),
          position_(position) {}

    int position() const { return position_; }

  private:
    int position_;
};

[[noreturn]] void Fail(std::string_view text, int position, const std::string& message) {
    throw ParseError(text, position, message);
}

// Guards the parser's own recursion (several calls per nesting level in the infix grammar);
// the formula's depth is bounded separately, by kMaxDepth, once it is parsed.
constexpr int kMaxRecursion = 8 * kMaxDepth;

std::vector<Token> Tokenize(std::string_view text) {
    std::vector<Token> tokens;
    std::size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        const int position = static_cast<int>(i) + 1;
        if (std::isspace(static_cast<unsigned char>(c))) {
            ++i;
            continue;
        }
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            std::size_t end = i + 1;
            while (end < text.size() &&
                   (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) {
                ++end;
            }
            tokens.push_back({TokenKind::kIdentifier, text.substr(i, end - i), position});
            i = end;
            continue;
        }
        if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
            std::size_t end = i;
            while (end < text.size() &&
                   (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) {
                ++end;
            }
            // An exponent: 1e-05, 2.5E+3.
            if (end < text.size() && (text[end] == 'e' || text[end] == 'E')) {
                std::size_t digits = end + 1;
                if (digits < text.size() && (text[digits] == '+' || text[digits] == '-')) {
                    ++digits;
                }
                if (digits < text.size() &&
                    std::isdigit(static_cast<unsigned char>(text[digits]))) {
                    end = digits;
                    while (end < text.size() &&
                           std::isdigit(static_cast<unsigned char>(text[end]))) {
                        ++end;
                    }
                }
            }
            tokens.push_back({TokenKind::kNumber, text.substr(i, end - i), position});
            i = end;
            continue;
        }
        TokenKind kind;
        switch (c) {
            case '(':
                kind = TokenKind::kOpen;
                break;
            case ')':
                kind = TokenKind::kClose;
                break;
            case ',':
                kind = TokenKind::kComma;
                break;
            case '+':
                kind = TokenKind::kPlus;
                break;
            case '-':
                kind = TokenKind::kMinus;
                break;
            case '*':
                kind = TokenKind::kStar;
                break;
            case '/':
                kind = TokenKind::kSlash;
                break;
            default:
                Fail(text, position, std::string("unexpected character '") + c + "'");
        }
        tokens.push_back({kind, text.substr(i, 1), position});
        ++i;
    }
    tokens.push_back({TokenKind::kEnd, "", static_cast<int>(text.size()) + 1});
    return tokens;
}

std::string Describe(const Token& token) {
    return token.kind == TokenKind::kEnd ? "end of text" : "'" + std::string(token.text) + "'";
}

// Recursive-descent parser shared by both forms; the grammar differs only in ParseOperand().
class Parser {
  public:
    Parser(std::string_view text, SetKind set, const ParseOptions& options, bool infix)
        : text_(text),
          set_(PrimitiveSet::Get(set)),
          options_(options),
          infix_(infix),
          tokens_(Tokenize(text)) {}

    Formula Run() {
        if (tokens_.front().kind == TokenKind::kEnd) {
            Fail(text_, 1, "empty formula");
        }
        infix_ ? ParseSum(1) : ParsePrefixTerm(1);
        if (Peek().kind != TokenKind::kEnd) {
            Fail(text_, Peek().position, "unexpected " + Describe(Peek()) + " after the formula");
        }
        const std::string problem = Validate(set_.kind(), nodes_);
        if (!problem.empty()) {
            Fail(text_, 1, problem);
        }
        return Formula(set_.kind(), std::move(nodes_));
    }

  private:
    const Token& Peek() const { return tokens_[next_]; }
    const Token& Take() { return tokens_[next_ < tokens_.size() - 1 ? next_++ : next_]; }

    void Expect(TokenKind kind, const char* what) {
        if (Peek().kind != kind) {
            Fail(text_,
                 Peek().position,
                 std::string("expected ") + what + ", found " + Describe(Peek()));
        }
        Take();
    }

    void CheckDepth(int depth, const Token& at) {
        if (depth > kMaxRecursion) {
            Fail(text_,
                 at.position,
                 "formula nested deeper than " + std::to_string(kMaxDepth) + " levels");
        }
    }

    // Emits an operator node; its operands follow in prefix order.
    std::size_t EmitOp(Op op, const Token& at) {
        if (!set_.Allows(op)) {
            Fail(text_,
                 at.position,
                 "operator '" + std::string(at.text) + "' is not in the " +
                     std::string(set_.name()) + " set");
        }
        nodes_.push_back(OpNode(op));
        return nodes_.size() - 1;
    }

    void EmitNumber(const Token& token) {
        double value = 0.0;
        const auto result =
            std::from_chars(token.text.data(), token.text.data() + token.text.size(), value);
        if (result.ec != std::errc() || result.ptr != token.text.data() + token.text.size() ||
            !std::isfinite(value)) {
            Fail(text_, token.position, "malformed number '" + std::string(token.text) + "'");
        }
        if (!options_.any_constant && value != 1.0 && value != 2.0 && value != 3.0) {
            Fail(text_,
                 token.position,
                 "constant '" + std::string(token.text) +
                     "' is not in the search space (only 1, 2 and 3)");
        }
        nodes_.push_back(ConstantNode(value));
    }

    void EmitInput(const Token& token) {
        const auto index = set_.FindInput(token.text, infix_);
        if (!index && FindOp(token.text, infix_)) {
            Fail(text_,
                 token.position,
                 "operator '" + std::string(token.text) + "' needs its operands in parentheses");
        }
        if (!index) {
            std::string known;
            for (const InputInfo& input : set_.inputs()) {
                known +=
                    (known.empty() ? "" : ", ") + std::string(infix_ ? input.letter : input.name);
            }
            Fail(text_,
                 token.position,
                 "'" + std::string(token.text) + "' is not an input of the " +
                     std::string(set_.name()) + " set (inputs: " + known + ")");
        }
        nodes_.push_back(InputNode(*index));
    }

    // Parses "(" operand ("," operand)* ")" for an operator of `arity` named by `name`.
    void ParseArguments(const Token& name, int arity, int depth) {
        Expect(TokenKind::kOpen, "'('");
        for (int k = 0; k < arity; ++k) {
            if (k > 0) {
                if (Peek().kind == TokenKind::kClose) {
                    Fail(text_,
                         Peek().position,
                         "'" + std::string(name.text) + "' takes " + std::to_string(arity) +
                             " operands, got " + std::to_string(k));
                }
                Expect(TokenKind::kComma, "','");
            }
            infix_ ? ParseSum(depth + 1) : ParsePrefixTerm(depth + 1);
        }
        if (Peek().kind == TokenKind::kComma) {
            Fail(text_,
                 Peek().position,
                 "'" + std::string(name.text) + "' takes " + std::to_string(arity) + " operand" +
                     (arity == 1 ? "" : "s") + ", got more");
        }
        Expect(TokenKind::kClose, "')'");
    }

    // A call `Name(args)` or, without parentheses, an input name.
    void ParseNamed(const Token& name, int depth) {
        if (Peek().kind != TokenKind::kOpen) {
            EmitInput(name);
            return;
        }
        const auto op = FindOp(name.text, infix_);
        if (!op) {
            Fail(text_, name.position, "unknown operator '" + std::string(name.text) + "'");
        }
        EmitOp(*op, name);
        ParseArguments(name, Arity(*op), depth);
    }

    // Prefix form: number | input | Name(operand, ...).
    void ParsePrefixTerm(int depth) {
        const Token& token = Take();
        CheckDepth(depth, token);
        switch (token.kind) {
            case TokenKind::kNumber:
                EmitNumber(token);
                return;
            case TokenKind::kIdentifier:
                ParseNamed(token, depth);
                return;
            default:
                Fail(text_,
                     token.position,
                     "expected an operator, input or constant, found " + Describe(token));
        }
    }

    // Infix form, by precedence: sum := product (('+'|'-') product)*.
    void ParseSum(int depth) { ParseBinaryChain(depth, /*additive=*/true); }

    // Left-associative chain of one precedence level. Operands are parsed into their own
    // node lists first, because in prefix order the operator precedes its left operand.
    void ParseBinaryChain(int depth, bool additive) {
        CheckDepth(depth, Peek());
        const std::size_t start = nodes_.size();
        additive ? ParseBinaryChain(depth + 1, false) : ParseUnary(depth + 1);
        while (true) {
            const TokenKind kind = Peek().kind;
            Op op;
            if (additive && kind == TokenKind::kPlus) {
                op = Op::kAdd;
            } else if (additive && kind == TokenKind::kMinus) {
                op = Op::kSub;
            } else if (!additive && kind == TokenKind::kStar) {
                op = Op::kMul;
            } else if (!additive && kind == TokenKind::kSlash) {
                op = Op::kDiv;
            } else {
                return;
            }
            const Token& symbol = Take();
            // The chain so far becomes the left operand: insert the operator before it.
            nodes_.insert(nodes_.begin() + static_cast<std::ptrdiff_t>(start), OpNode(op));
            // Each further link nests the chain one level deeper.
            ++depth;
            CheckDepth(depth, symbol);
            additive ? ParseBinaryChain(depth + 1, false) : ParseUnary(depth + 1);
        }
    }

    // unary := '-' unary | primary
    void ParseUnary(int depth) {
        CheckDepth(depth, Peek());
        if (Peek().kind == TokenKind::kMinus) {
            EmitOp(Op::kNeg, Take());
            ParseUnary(depth + 1);
            return;
        }
        const Token& token = Take();
        switch (token.kind) {
            case TokenKind::kNumber:
                EmitNumber(token);
                return;
            case TokenKind::kIdentifier:
                ParseNamed(token, depth);
                return;
            case TokenKind::kOpen:
                ParseSum(depth + 1);
                Expect(TokenKind::kClose, "')'");
                return;
            default:
                Fail(text_, token.position, "expected an operand, found " + Describe(token));
        }
    }

    std::string_view text_;
    const PrimitiveSet& set_;
    ParseOptions options_;
    bool infix_;
    std::vector<Token> tokens_;
    std::size_t next_ = 0;
    std::vector<Node> nodes_;
};

// Prefix when the first token names a release operator or input and no infix operator
// appears; everything else is read as infix.
bool LooksPrefix(std::string_view text) {
    std::vector<Token> tokens;
    try {
        tokens = Tokenize(text);
    } catch (const InputError&) {
        return true;  // either parser reports the bad character the same way
    }
    for (const Token& token : tokens) {
        if (token.kind == TokenKind::kPlus || token.kind == TokenKind::kMinus ||
            token.kind == TokenKind::kStar || token.kind == TokenKind::kSlash) {
            return false;
        }
    }
    const Token& first = tokens.front();
    return first.kind == TokenKind::kNumber ||
           (first.kind == TokenKind::kIdentifier &&
            std::isupper(static_cast<unsigned char>(first.text.front())));
}

}  // namespace

Formula Parse(std::string_view text, SetKind set, const ParseOptions& options) {
    const bool infix =
        options.form == TextForm::kInfix || (options.form == TextForm::kAuto && !LooksPrefix(text));
    return Parser(text, set, options, infix).Run();
}

Formula ParseAnySet(std::string_view text, const ParseOptions& options) {
    std::optional<ParseError> furthest;
    for (SetKind set : {SetKind::kClsMulti, SetKind::kClsBinary, SetKind::kReg}) {
        try {
            return Parse(text, set, options);
        } catch (const ParseError& error) {
            if (!furthest || error.position() > furthest->position()) {
                furthest = error;
            }
        }
    }
    throw *furthest;
}

Formula ResolveFormula(std::string_view text,
                       std::optional<SetKind> set,
                       const ParseOptions& options) {
    if (const KnownLoss* known = FindKnownLoss(text)) {
        if (set && *set != known->set) {
            throw InputError("formula '" + std::string(text) + "'",
                             "the known loss belongs to the " +
                                 std::string(PrimitiveSet::Get(known->set).name()) + " set, not " +
                                 std::string(PrimitiveSet::Get(*set).name()));
        }
        return known->Parsed();
    }
    return set ? Parse(text, *set, options) : ParseAnySet(text, options);
}

}  // namespace autoloss::expr
