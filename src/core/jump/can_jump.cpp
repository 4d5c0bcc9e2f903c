// jump/can_jump.cpp: the jump checker, as the f_lineno setter runs it.
//
// CPython decides whether `frame.f_lineno = n` is allowed by modelling the frame at every
// instruction: 3.10 models the block stack (block_model.cpp), 3.11 and later the kinds of the
// values on the evaluation stack (stack_model.cpp). A jump is allowed when the model at some
// instruction of the target line can be reached from the model at the current instruction by
// popping entries. The steps below are the setter's, in its order, so that the verdict and the
// message are CPython's; then framescope's own refusals (rules.cpp) of the jumps CPython accepts
// and does not survive.
#include "jump/can_jump.hpp"

#include "compat/bytecode.hpp"
#include "jump/block_model.hpp"
#include "jump/code.hpp"
#include "jump/rules.hpp"
#include "jump/stack_model.hpp"

#include <algorithm>
#include <climits>

namespace fs::jump {
namespace {

// `co`'s code, with `offset` (named `what` in the error) checked to be one of its code units.
bool read_code_at(PyCodeObject* co, long offset, const char* what, Code& c) {
    if (!read_code(co, c)) {
        return false;
    }
    if (offset < 0 || offset % 2 != 0 || offset / 2 >= c.len()) {
        PyErr_Format(PyExc_ValueError,
                     "%s must be the offset of an instruction of %U (an even number from 0 to "
                     "%d), got %ld",
                     what, co->co_name, 2 * (c.len() - 1), offset);
        return false;
    }
    return true;
}

// CPython's verdict from the version's model.
Decision decide(PyCodeObject* co, const Code& c, const std::vector<int>& lines, int from,
                int new_lineno) {
    if constexpr (compat::kHasBlockStack) {
        return blocks::decide(c, lines, from, new_lineno);
    }
    return stacks::decide(co, c, lines, from, new_lineno);
}

// framescope's refusal, after CPython's model accepts the jump; empty if none.
std::string our_refusal(PyCodeObject* co, const Code& c, int from, const Decision& d,
                        int new_lineno) {
    if constexpr (compat::kHasBlockStack) {
        return rules::real_state(co, c, from, d, new_lineno);
    }
    return rules::untagged(d, new_lineno);
}

}  // namespace

std::optional<std::vector<ModelRow>> model(PyCodeObject* co) {
    Code c;
    std::vector<int> lines;
    if (!read_code(co, c) || !line_starts(co, c.len(), lines)) {
        return std::nullopt;
    }
    std::vector<ModelRow> rows;
    if constexpr (compat::kHasBlockStack) {
        std::vector<int64_t> model = blocks::mark_blocks(c);
        std::vector<std::string> real = rules::real_stacks(co, c);
        for (int i = 0; i < c.len(); i++) {
            std::string text = model[i] < 0 ? "-" : "[";
            if (model[i] >= 0) {
                text.append(blocks::describe(model[i])).append("] ").append(real[i]);
            }
            rows.push_back({2 * i, lines[i], text});
        }
    } else {
        std::vector<int64_t> model;
        stacks::mark_stacks(co, c, model);
        for (int i = 0; i < c.len(); i++) {
            rows.push_back({2 * i, lines[i], stacks::describe(model[i])});
        }
    }
    return rows;
}

std::optional<Verdict> check(PyCodeObject* co, long from_lasti, long to_lineno) {
    Code c;
    if (!read_code_at(co, from_lasti, "from_lasti", c)) {
        return std::nullopt;
    }
    Verdict v;
    if (to_lineno > INT_MAX || to_lineno < INT_MIN) {
        v.message = "lineno out of range";
        return v;
    }
    if (to_lineno < co->co_firstlineno) {
        v.message = format("line %d comes before the current code block", to_lineno);
        return v;
    }
    std::vector<int> lines;
    if (!line_starts(co, c.len(), lines)) {
        return std::nullopt;
    }
    int new_lineno = first_line_not_before(lines, static_cast<int>(to_lineno));
    if (new_lineno < 0) {
        v.message = format("line %d comes after the current code block", to_lineno);
        return v;
    }
    // A debug build's setter checks its own model as it builds it, and aborts the interpreter
    // where that model is inconsistent — before any verdict, whatever the target.
    v.message = rules::setter_assertion(co, c);
    if (!v.message.empty()) {
        v.ours = true;
        return v;
    }
    int from = static_cast<int>(from_lasti / 2);
    Decision d = decide(co, c, lines, from, new_lineno);
    if (d.refusal != nullptr) {
        v.message = d.refusal;
        return v;
    }
    v.message = our_refusal(co, c, from, d, new_lineno);
    if (v.message.empty()) {
        v.message = rules::prologue(co, c, d, new_lineno);
    }
    if (!v.message.empty()) {
        v.ours = true;
        return v;
    }
    v.ok = true;
    v.line = new_lineno;
    v.landing = d.best_addr;
    if constexpr (!compat::kHasBlockStack) {
        stacks::pops(d.start, d.best, v.popped, v.start_depth);
    }
    return v;
}

std::optional<std::vector<int>> successors(PyCodeObject* co, long offset) {
    Code c;
    if (!read_code_at(co, offset, "offset", c)) {
        return std::nullopt;
    }
    std::vector<int> out;
    for (int64_t unit : successors(c, static_cast<int>(offset / 2))) {
        out.push_back(static_cast<int>(std::clamp<int64_t>(2 * unit, INT_MIN, INT_MAX)));
    }
    return out;
}

}  // namespace fs::jump
