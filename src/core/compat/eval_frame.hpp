// compat/eval_frame.hpp: the interpreter's frame-evaluation function (PEP 523).
//
// An interpreter runs every Python frame through one function, which a tool may replace. Before
// 3.12 framescope replaces it for a while to see a suspended generator resume
// (compat/tracing.hpp); the test helpers install one as "another tool" would. The function's
// frame argument is an IFrame: a PyFrameObject on 3.10, a _PyInterpreterFrame from 3.11. These
// accessors have the same meaning on every supported version.
#pragma once

#include "compat/frames.hpp"

namespace fs::compat {

using EvalFrameFunction = _PyFrameEvalFunction;

// The interpreter's own evaluation function, the one that runs frames when no tool replaced it.
inline EvalFrameFunction default_eval_frame() noexcept {
    return _PyEval_EvalFrameDefault;
}

// The evaluation function `interp` runs frames with now; the default one where none is set
// (3.12+ store the default as nullptr).
inline EvalFrameFunction eval_frame_function(PyInterpreterState* interp) noexcept {
    EvalFrameFunction f = _PyInterpreterState_GetEvalFrameFunc(interp);
    return f != nullptr ? f : default_eval_frame();
}

inline void set_eval_frame_function(PyInterpreterState* interp, EvalFrameFunction f) noexcept {
    _PyInterpreterState_SetEvalFrameFunc(interp, f);
}

}  // namespace fs::compat
