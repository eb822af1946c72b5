#pragma once

// A strict, streaming JSON reader (RFC 8259) that calls a handler for every token, like
// nlohmann's SAX interface but several times faster on large detection files: numbers go through
// std::from_chars (correctly rounded, as Python's json), strings without escapes are copied once,
// and nesting uses an explicit stack, so deep documents cannot overflow the call stack.
//
// Handler methods: null(), boolean(bool), number_integer(int64_t), number_unsigned(uint64_t),
// number_float(double), string(std::string&), key(std::string&), start_object(),
// end_object(), start_array(), end_array(), and syntax_error(size_t offset, const char* reason),
// which must throw.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace autoloss::metrics {

template <typename Handler>
class JsonSaxParser {
  public:
    JsonSaxParser(std::string_view text, Handler& handler)
        : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), h_(handler) {}

    // Parses the whole text; the handler's syntax_error throws on the first error.
    void Parse() {
        bool need_value = true;
        while (true) {
            if (need_value) {
                need_value = Value();
                continue;
            }
            SkipSpace();
            if (stack_.empty()) {
                if (p_ != end_) {
                    Fail("unexpected content after the JSON document");
                }
                return;
            }
            if (p_ == end_) {
                Fail("unexpected end of input");
            }
            const char c = *p_;
            if (stack_.back() == '{') {
                if (c == ',') {
                    ++p_;
                    Key();
                    need_value = true;
                } else if (c == '}') {
                    ++p_;
                    stack_.pop_back();
                    h_.end_object();
                } else {
                    Fail("expected ',' or '}' after an object member");
                }
            } else {
                if (c == ',') {
                    ++p_;
                    need_value = true;
                } else if (c == ']') {
                    ++p_;
                    stack_.pop_back();
                    h_.end_array();
                } else {
                    Fail("expected ',' or ']' after an array element");
                }
            }
        }
    }

  private:
    void SkipSpace() {
        while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\t' || *p_ == '\r')) {
            ++p_;
        }
    }

    [[noreturn]] void Fail(const char* reason) {
        h_.syntax_error(static_cast<size_t>(p_ - begin_), reason);
        std::abort();  // unreachable: syntax_error throws
    }

    void Key() {
        SkipSpace();
        if (p_ == end_ || *p_ != '"') {
            Fail(p_ == end_ ? "unexpected end of input" : "expected a string as object key");
        }
        String();
        h_.key(buffer_);
        SkipSpace();
        if (p_ == end_ || *p_ != ':') {
            Fail("expected ':' after an object key");
        }
        ++p_;
    }

    // Reads one value, or opens a container (closing it at once when empty); returns true when
    // the container now expects its first value. Parse() loops instead of recursing.
    bool Value() {
        SkipSpace();
        if (p_ == end_) {
            Fail("unexpected end of input");
        }
        switch (*p_) {
            case '{':
                ++p_;
                h_.start_object();
                SkipSpace();
                if (p_ != end_ && *p_ == '}') {
                    ++p_;
                    h_.end_object();
                    return false;
                }
                stack_.push_back('{');
                Key();
                return true;
            case '[':
                ++p_;
                h_.start_array();
                SkipSpace();
                if (p_ != end_ && *p_ == ']') {
                    ++p_;
                    h_.end_array();
                    return false;
                }
                stack_.push_back('[');
                return true;
            case '"':
                String();
                h_.string(buffer_);
                return false;
            case 't':
                Literal("true");
                h_.boolean(true);
                return false;
            case 'f':
                Literal("false");
                h_.boolean(false);
                return false;
            case 'n':
                Literal("null");
                h_.null();
                return false;
            default:
                Number();
                return false;
        }
    }

    void Literal(std::string_view word) {
        if (static_cast<size_t>(end_ - p_) < word.size() ||
            std::string_view(p_, word.size()) != word) {
            Fail("invalid literal");
        }
        p_ += word.size();
    }

    static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

    void Number() {
        const char* start = p_;
        if (p_ != end_ && *p_ == '-') {
            ++p_;
        }
        if (p_ == end_ || !IsDigit(*p_)) {
            p_ = start;
            Fail("unexpected character");
        }
        if (*p_ == '0') {
            ++p_;
            if (p_ != end_ && IsDigit(*p_)) {
                Fail("leading zero in a number");
            }
        } else {
            while (p_ != end_ && IsDigit(*p_)) {
                ++p_;
            }
        }
        bool integral = true;
        if (p_ != end_ && *p_ == '.') {
            integral = false;
            ++p_;
            if (p_ == end_ || !IsDigit(*p_)) {
                Fail("expected a digit after the decimal point");
            }
            while (p_ != end_ && IsDigit(*p_)) {
                ++p_;
            }
        }
        if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
            integral = false;
            ++p_;
            if (p_ != end_ && (*p_ == '+' || *p_ == '-')) {
                ++p_;
            }
            if (p_ == end_ || !IsDigit(*p_)) {
                Fail("expected a digit in the exponent");
            }
            while (p_ != end_ && IsDigit(*p_)) {
                ++p_;
            }
        }
        if (integral) {
            int64_t value = 0;
            if (std::from_chars(start, p_, value).ec == std::errc()) {
                h_.number_integer(value);
                return;
            }
            uint64_t unsigned_value = 0;
            if (*start != '-' && std::from_chars(start, p_, unsigned_value).ec == std::errc()) {
                h_.number_unsigned(unsigned_value);
                return;
            }
        }
        double value = 0.0;
        const auto result = std::from_chars(start, p_, value);
        if (result.ec == std::errc::result_out_of_range) {
            // Underflow reads as strtod's (sub)normal or zero, as in Python; overflow is refused.
            value = std::strtod(std::string(start, p_).c_str(), nullptr);
            if (std::isinf(value)) {
                p_ = start;
                Fail("number overflow");
            }
        }
        h_.number_float(value);
    }

    static void AppendUtf8(std::string& out, uint32_t code) {
        if (code < 0x80) {
            out += static_cast<char>(code);
        } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else if (code < 0x10000) {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (code >> 18));
            out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        }
    }

    uint32_t Hex4() {
        if (end_ - p_ < 4) {
            Fail("unexpected end of input in a \\u escape");
        }
        uint32_t code = 0;
        for (int n = 0; n < 4; ++n, ++p_) {
            const char c = *p_;
            code <<= 4;
            if (IsDigit(c)) {
                code |= static_cast<uint32_t>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                code |= static_cast<uint32_t>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                code |= static_cast<uint32_t>(c - 'A' + 10);
            } else {
                Fail("invalid \\u escape");
            }
        }
        return code;
    }

    // Reads a string at p_ (on its opening quote) into buffer_.
    void String() {
        ++p_;
        buffer_.clear();
        while (true) {
            const char* run = p_;
            while (p_ != end_ && *p_ != '"' && *p_ != '\\' &&
                   static_cast<unsigned char>(*p_) >= 0x20) {
                ++p_;
            }
            buffer_.append(run, p_);
            if (p_ == end_) {
                Fail("unexpected end of input in a string");
            }
            if (*p_ == '"') {
                ++p_;
                return;
            }
            if (*p_ != '\\') {
                Fail("control character in a string");
            }
            ++p_;
            if (p_ == end_) {
                Fail("unexpected end of input in a string");
            }
            const char c = *p_++;
            switch (c) {
                case '"':
                case '\\':
                case '/':
                    buffer_ += c;
                    break;
                case 'b':
                    buffer_ += '\b';
                    break;
                case 'f':
                    buffer_ += '\f';
                    break;
                case 'n':
                    buffer_ += '\n';
                    break;
                case 'r':
                    buffer_ += '\r';
                    break;
                case 't':
                    buffer_ += '\t';
                    break;
                case 'u': {
                    uint32_t code = Hex4();
                    if (code >= 0xD800 && code <= 0xDBFF) {
                        if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
                            Fail("unpaired surrogate in a \\u escape");
                        }
                        p_ += 2;
                        const uint32_t low = Hex4();
                        if (low < 0xDC00 || low > 0xDFFF) {
                            Fail("invalid low surrogate in a \\u escape");
                        }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                    } else if (code >= 0xDC00 && code <= 0xDFFF) {
                        Fail("unpaired surrogate in a \\u escape");
                    }
                    AppendUtf8(buffer_, code);
                    break;
                }
                default:
                    --p_;
                    Fail("invalid escape in a string");
            }
        }
    }

    const char* begin_;
    const char* p_;
    const char* end_;
    Handler& h_;
    std::vector<char> stack_;
    std::string buffer_;
};

}  // namespace autoloss::metrics
