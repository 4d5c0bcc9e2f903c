// value_repr.cpp: a value's repr as Python would print it, from the target's memory (ints,
// floats, str, bytes, containers) and from plain data (the pure parts, tested against repr()).
#include "decoder.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace fs::remote {

namespace {

// What str.isprintable() says for a non-ASCII character, for the characters that matter in
// practice: control (Cc), format (Cf), separators other than the space (Zs, Zl, Zp), surrogates
// (Cs) and private use (Co) are not printable; other characters are taken as printable (this
// misses unassigned code points, which need Unicode's database).
bool printable_non_ascii(char32_t c) {
    if (c <= 0xA0 || c == 0xAD) {
        return false;  // C1 controls, NO-BREAK SPACE, SOFT HYPHEN
    }
    struct Range {
        char32_t lo, hi;
    };
    static constexpr Range not_printable[] = {
        {0x0600, 0x0605}, {0x061C, 0x061C}, {0x06DD, 0x06DD}, {0x070F, 0x070F},
        {0x0890, 0x0891}, {0x08E2, 0x08E2}, {0x1680, 0x1680}, {0x180E, 0x180E},
        {0x2000, 0x200F}, {0x2028, 0x202F}, {0x205F, 0x2064}, {0x2066, 0x206F},
        {0x3000, 0x3000}, {0xD800, 0xF8FF}, {0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFB},
        {0x110BD, 0x110BD}, {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3},
        {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF},
    };
    for (const Range& r : not_printable) {
        if (c >= r.lo && c <= r.hi) {
            return false;
        }
    }
    return true;
}

void append_hex_escape(std::string& out, const char* prefix, uint32_t value, int digits) {
    static const char hex[] = "0123456789abcdef";
    out += prefix;
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
        out += hex[(value >> shift) & 0xF];
    }
}

}  // namespace

std::string to_utf8(const std::u32string& s) {
    std::string out;
    out.reserve(s.size());
    for (char32_t c : s) {
        append_utf8(out, c);
    }
    return out;
}

std::string Decoder::repr_checked(uint64_t obj) {
    try {
        return repr(obj, 0);
    } catch (const InvalidMemory&) {
        repr_path_.clear();
        return "<unreadable at " + hex_address(obj) + ">";
    }
}

std::string Decoder::repr(uint64_t obj, int depth) {
    const TypeAddresses& ty = t_.types;
    if (obj == ty.none) {
        return "None";
    }
    if (obj == ty.true_) {
        return "True";
    }
    if (obj == ty.false_) {
        return "False";
    }
    uint64_t type = type_of(obj);
    if (type == ty.long_type) {
        return int_repr(obj);
    }
    if (type == ty.float_type) {
        return float_repr(at<double>(obj, l_.float_value));
    }
    if (type == ty.str_type) {
        bool cut = false;
        std::u32string s = text(obj, Limits::repr_chars, &cut);
        return str_repr(s, cut);
    }
    if (type == ty.bytes_type) {
        bool cut = false;
        std::string b = bytes(obj, Limits::repr_chars, &cut);
        return bytes_repr(b, cut);
    }
    if (type == ty.tuple_type || type == ty.list_type || type == ty.dict_type ||
        type == ty.set_type || type == ty.frozenset_type) {
        if (std::find(repr_path_.begin(), repr_path_.end(), obj) != repr_path_.end()) {
            // A container inside itself: Python shows these as [...], {...}, (...).
            return type == ty.list_type ? "[...]" : type == ty.tuple_type ? "(...)" : "{...}";
        }
        if (depth < Limits::repr_depth) {
            repr_path_.push_back(obj);
            std::string s = items_repr(obj, type, depth + 1);
            repr_path_.pop_back();
            return s;
        }
    }
    // Appended piece by piece: GCC 12 warns (-Wrestrict, a known false positive of GCC 12's
    // libstdc++) about `"literal" + std::string&&` once this is inlined as it is here.
    std::string out = "<";
    out += type_name(type);
    out += " at ";
    out += hex_address(obj);
    out += '>';
    return out;
}

std::string Decoder::items_repr(uint64_t obj, uint64_t type, int depth) {
    // Hash tables may hold long runs of empty slots: look at this many at most.
    constexpr int64_t scan_limit = 1 << 16;
    const TypeAddresses& ty = t_.types;
    std::vector<std::string> parts;
    bool more = false;
    auto add = [&](std::string s) {
        if (parts.size() >= Limits::repr_items) {
            more = true;
            return false;
        }
        parts.push_back(std::move(s));
        return true;
    };
    auto join = [&](const char* open, const char* close) {
        std::string s = open;
        for (size_t i = 0; i < parts.size(); ++i) {
            s += i ? ", " : "";
            s += parts[i];
        }
        if (more) {
            s += ", ...";
        }
        return s + close;
    };
    if (type == ty.tuple_type || type == ty.list_type) {
        size_t n = static_cast<size_t>(size_of(obj, int64_t{1} << 40));
        uint64_t items = type == ty.tuple_type ? obj + static_cast<uint64_t>(l_.tuple_items)
                                               : ptr(obj, l_.list_items);
        for (size_t i = 0; i < n; ++i) {
            if (!add(repr(at<uint64_t>(items, static_cast<int64_t>(8 * i)), depth))) {
                break;
            }
        }
        if (type == ty.list_type) {
            return join("[", "]");
        }
        return n == 1 ? join("(", ",)") : join("(", ")");
    }
    if (type == ty.dict_type) {
        bool cut = false;
        for (const auto& [key, value] : dict_items(obj, Limits::repr_items, &cut)) {
            parts.push_back(repr(key, depth) + ": " + repr(value, depth));
        }
        more = cut;
        return join("{", "}");
    }
    // set, frozenset: a hash table of (key, hash) entries; empty and deleted slots skipped.
    int64_t mask = at<int64_t>(obj, l_.set_mask);
    uint64_t table = ptr(obj, l_.set_table);
    if (mask < 0 || mask > (int64_t{1} << 40)) {
        throw InvalidMemory("implausible set");
    }
    uint64_t dummy = ty.set_dummy != 0 ? at<uint64_t>(ty.set_dummy, 0) : 0;
    for (int64_t i = 0; i <= std::min<int64_t>(mask, scan_limit); ++i) {
        uint64_t key = at<uint64_t>(table, 16 * i);
        if (key == 0 || key == dummy) {
            continue;
        }
        if (!add(repr(key, depth))) {
            break;
        }
    }
    bool frozen = type == ty.frozenset_type;
    if (parts.empty()) {
        return frozen ? "frozenset()" : "set()";
    }
    return frozen ? join("frozenset({", "})") : join("{", "}");
}

std::string Decoder::int_repr(uint64_t obj) {
    size_t ndigits;
    bool negative;
    if (l_.long_has_tag()) {
        // 3.12+ (gh-101291): lv_tag = digit count << 3 | sign (0: positive, 1: zero, 2: negative).
        uint64_t tag = at<uint64_t>(obj, l_.long_tag);
        unsigned sign = tag & 3;
        if (sign == 1) {
            return "0";
        }
        if (sign == 3) {
            throw InvalidMemory("implausible int");
        }
        negative = sign == 2;
        ndigits = static_cast<size_t>(tag >> 3);
    } else {
        int64_t size = at<int64_t>(obj, l_.var_size);
        negative = size < 0;
        ndigits = static_cast<size_t>(size < 0 ? -size : size);
    }
    if (ndigits == 0) {
        return "0";
    }
    if (ndigits > Limits::int_digits) {
        return "<int of " + std::to_string(ndigits * 30) + " bits at " + hex_address(obj) + ">";
    }
    std::vector<uint32_t> digits(ndigits);  // base 2**30, least significant first
    raw(obj + static_cast<uint64_t>(l_.long_digits), digits.data(), ndigits * 4);
    // To base 10**9, most significant 30-bit digit first.
    std::vector<uint32_t> out;  // base 10**9, least significant first
    for (size_t i = ndigits; i-- > 0;) {
        if (digits[i] >= (1u << 30)) {
            throw InvalidMemory("implausible int digit");
        }
        uint64_t carry = digits[i];
        for (uint32_t& limb : out) {
            uint64_t v = (uint64_t{limb} << 30) + carry;
            limb = static_cast<uint32_t>(v % 1000000000u);
            carry = v / 1000000000u;
        }
        while (carry != 0) {
            out.push_back(static_cast<uint32_t>(carry % 1000000000u));
            carry /= 1000000000u;
        }
    }
    if (out.empty()) {
        return "0";
    }
    std::string s = negative ? "-" : "";
    s += std::to_string(out.back());
    for (size_t i = out.size() - 1; i-- > 0;) {
        std::string part = std::to_string(out[i]);
        s += std::string(9 - part.size(), '0') + part;
    }
    return s;
}

void append_utf8(std::string& out, char32_t c) {
    if (c >= 0xD800 && c <= 0xDFFF) {
        c = 0xFFFD;  // a lone surrogate has no UTF-8 form
    }
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

std::string float_repr(double value) {
    // repr(float): the shortest digits that read back as the same double (std::to_chars gives
    // those), laid out as Python does: scientific when the exponent is < -4 or >= 16, with a
    // sign and at least two exponent digits; otherwise positional, with ".0" when integral.
    if (std::isnan(value)) {
        return "nan";
    }
    if (std::isinf(value)) {
        return value > 0 ? "inf" : "-inf";
    }
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
    (void)ec;
    std::string sci(buf, end);  // e.g. "-1.2345e+02"
    size_t e = sci.find('e');
    int exponent = std::stoi(sci.substr(e + 1));
    std::string mantissa = sci.substr(0, e);
    bool negative = mantissa[0] == '-';
    if (negative) {
        mantissa.erase(0, 1);
    }
    std::string digits;
    for (char c : mantissa) {
        if (c != '.') {
            digits += c;
        }
    }
    std::string out = negative ? "-" : "";
    if (exponent < -4 || exponent >= 16) {
        out += digits.substr(0, 1);
        if (digits.size() > 1) {
            out += '.';  // not `"." + ...`: GCC 12's -Wrestrict false positive (see repr())
            out += digits.substr(1);
        }
        std::string exp = std::to_string(exponent < 0 ? -exponent : exponent);
        if (exp.size() < 2) {
            exp = "0" + exp;
        }
        out += (exponent < 0 ? "e-" : "e+") + exp;
    } else if (exponent < 0) {
        out += "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    } else {
        auto point = static_cast<size_t>(exponent + 1);
        if (digits.size() <= point) {
            out += digits + std::string(point - digits.size(), '0') + ".0";
        } else {
            out += digits.substr(0, point) + "." + digits.substr(point);
        }
    }
    return out;
}

std::string str_repr(const std::u32string& text, bool cut) {
    // As unicode_repr: single quotes unless the text has a ' and no ".
    bool has_single = text.find(U'\'') != std::u32string::npos;
    bool has_double = text.find(U'"') != std::u32string::npos;
    char quote = has_single && !has_double ? '"' : '\'';
    std::string out(1, quote);
    for (char32_t c : text) {
        if (c == static_cast<char32_t>(quote) || c == U'\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == U'\t') {
            out += "\\t";
        } else if (c == U'\n') {
            out += "\\n";
        } else if (c == U'\r') {
            out += "\\r";
        } else if (c < 0x20 || c == 0x7F) {
            append_hex_escape(out, "\\x", c, 2);
        } else if (c < 0x7F) {
            out += static_cast<char>(c);
        } else if (printable_non_ascii(c)) {
            append_utf8(out, c);
        } else if (c <= 0xFF) {
            append_hex_escape(out, "\\x", c, 2);
        } else if (c <= 0xFFFF) {
            append_hex_escape(out, "\\u", c, 4);
        } else {
            append_hex_escape(out, "\\U", c, 8);
        }
    }
    out += quote;
    if (cut) {
        out += "...";
    }
    return out;
}

std::string bytes_repr(const std::string& data, bool cut) {
    bool has_single = data.find('\'') != std::string::npos;
    bool has_double = data.find('"') != std::string::npos;
    char quote = has_single && !has_double ? '"' : '\'';
    std::string out = "b";
    out += quote;
    for (char ch : data) {
        auto c = static_cast<unsigned char>(ch);
        if (c == static_cast<unsigned char>(quote) || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c < 0x20 || c >= 0x7F) {
            append_hex_escape(out, "\\x", c, 2);
        } else {
            out += ch;
        }
    }
    out += quote;
    if (cut) {
        out += "...";
    }
    return out;
}

}  // namespace fs::remote
