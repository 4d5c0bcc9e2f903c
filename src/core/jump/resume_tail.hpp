// jump/resume_tail.hpp: on 3.11, a suspended generator jumps as it resumes, by itself.
//
// 3.11 tells nobody that a generator resumes except a thread-wide trace or profile function or
// the interpreter's frame-evaluation function (PEP 523), and each of those costs every other
// frame of the program something while the jump waits (the evaluation function alone stops 3.11
// from inlining Python-to-Python calls: Python/ceval.c, CALL inlines a call only while
// interp->eval_frame is NULL). So the jump is placed in the generator instead: its frame
// is given a copy of its code object with a short tail appended, and its resumption point is moved
// onto that tail. Resumed with send() or next(), the generator runs the tail, which drops what
// CPython's f_lineno setter would drop (the value sent in, values of the blocks it leaves, handled
// exceptions, restoring the previous one) and jumps to the instruction the setter would choose.
// Nothing else runs differently, and nothing is left to remove: the jump is a jump instruction.
//
// The copy is the original bytecode, unchanged, plus the tail; its location and exception tables
// are the original's plus entries for the tail: the tail reports the yield's line, and an exception
// thrown in at the resumption point (throw(), close()) goes to the yield's own handler, so a thrown
// exception behaves as if no jump were pending (the jump is then not made). The tail starts with
// the yield's own RESUME: trace and profile functions get the resumption's 'call' event, and a
// generator suspended in `yield from` or `await` still delegates throw() and close() (3.11's
// Objects/genobject.c, _PyGen_yf(), tells a delegating generator by the argument of the RESUME
// after its resumption point; a SEND before the resumption point gives 3.11 the way back into
// the delegation loop that a delegated throw() needs, _gen_throw()). The frame keeps the copy for the rest of its life (offsets into the tail may
// live on in tracebacks and in handlers' re-raise locations); a later jump extends it. The record
// of each jump lets it be cancelled exactly.
#pragma once

#include "compat/python.hpp"

namespace fs::jump {

// Arms a jump of the suspended generator frame `frame` to `lineno`. Returns a new reference: the
// record settle() takes, or None when the jump cannot be placed this way (another version, or a
// frame in a state the tail does not handle); nullptr with ValueError set, and can_jump()'s
// message, when the jump is refused.
PyObject* arm_resume_tail(PyFrameObject* frame, long lineno);

// Whether the jump `record` describes is still waiting on `frame` (1) or not any more (0: made,
// bypassed by a thrown exception, or the frame has finished); -1 with an exception set for a
// record that is not one. With `cancel`, a waiting jump is undone: the frame is put back exactly as
// it was.
int settle_resume_tail(PyFrameObject* frame, PyObject* record, bool cancel);

}  // namespace fs::jump
