// walk/frame_info.cpp: the FrameInfo record, how it is filled from a frame, and its cache.
//
// Most stack walks meet the same (code, instruction) pairs again and again: a program's call
// paths repeat. A FrameInfo depends only on the code object, the instruction (which fixes the
// line) and the module name, so the records are kept in a small direct-mapped cache and shared.
// An entry holds strong references to its code object and record: a code object's address cannot
// be reused by another while it is cached. A hit re-checks the module name and the code's
// filename and name by identity, so a changed __name__ or a re-pointed co_filename
// (importlib's _fix_co_filename) is never served stale.
#include "walk/frame_info.hpp"

#include <array>
#include <cstdint>

namespace fs::walk {
namespace {

PyStructSequence_Field frame_info_fields[] = {
    {"filename", "the file name of the frame's code (code.co_filename)"},
    {"lineno", "the line the frame is at (frame.f_lineno); None when the instruction has none"},
    {"function",
     "the function's qualified name (code.co_qualname; code.co_name on 3.10, which has no other)"},
    {"module", "the module the code runs in (__name__ in its globals), or None"},
    {nullptr, nullptr},
};

PyStructSequence_Desc frame_info_desc = {
    "framescope.FrameInfo",
    "FrameInfo(filename, lineno, function, module)\n\n"
    "One frame of a stack, innermost first, as framescope.stack() and framescope.threads()\n"
    "return it. Immutable; built without creating a frame object.",
    frame_info_fields,
    4,
};

enum Field : Py_ssize_t { kFilename = 0, kLineno = 1, kFunction = 2, kModule = 3 };

// Process-wide, created once: the type must outlive every FrameInfo, whichever module object
// made it.
PyTypeObject* frame_info_type = nullptr;
PyObject* str_name = nullptr;  // interned "__name__"

struct CacheEntry {
    PyCodeObject* code = nullptr;  // strong
    int offset = -1;
    PyObject* info = nullptr;  // strong
};
// 1024 entries: enough for the distinct call sites of a large program's hot paths; at most this
// many code objects are kept alive by the cache.
constexpr std::size_t kCacheSize = 1024;
std::array<CacheEntry, kCacheSize> cache;

std::size_t cache_slot(PyCodeObject* co, int offset) noexcept {
    auto h = reinterpret_cast<std::uintptr_t>(co) >> 4;
    h ^= static_cast<std::uintptr_t>(static_cast<unsigned>(offset)) * 0x9E3779B1u;
    h ^= h >> 15;
    return h & (kCacheSize - 1);
}

Owned<> build(PyCodeObject* co, int line, PyObject* module) {
    auto lineno = line < 0 ? Owned<>::ref(Py_None) : Owned<>::steal(PyLong_FromLong(line));
    if (!lineno) {
        return {};
    }
    auto info = Owned<>::steal(PyStructSequence_New(frame_info_type));
    if (!info) {
        return {};
    }
    // PyStructSequence_SetItem steals each reference.
    PyStructSequence_SetItem(info.get(), kFilename, Owned<>::ref(co->co_filename).release());
    PyStructSequence_SetItem(info.get(), kLineno, lineno.release());
    PyStructSequence_SetItem(info.get(), kFunction,
                             Owned<>::ref(compat::function_name(co)).release());
    PyStructSequence_SetItem(info.get(), kModule, Owned<>::ref(module).release());
    return info;
}

}  // namespace

int add_frame_info_type(PyObject* module) {
    if (frame_info_type == nullptr) {
        frame_info_type = PyStructSequence_NewType(&frame_info_desc);
        if (frame_info_type == nullptr) {
            return -1;
        }
        str_name = PyUnicode_InternFromString("__name__");
        if (str_name == nullptr) {
            return -1;
        }
    }
    auto ref = Owned<PyTypeObject>::ref(frame_info_type);
    if (PyModule_AddObject(module, "FrameInfo", ref.obj()) < 0) {
        return -1;
    }
    (void)ref.release();  // PyModule_AddObject stole it
    return 0;
}

Owned<> make_frame_info(compat::IFrame* f) {
    PyCodeObject* co = compat::code(f);
    PyObject* module = PyDict_GetItemWithError(compat::globals(f), str_name);
    if (module == nullptr) {
        if (PyErr_Occurred()) {
            return {};
        }
        module = Py_None;
    }
    if (compat::line_set_on_object(f)) {
        return build(co, compat::lineno(f), module);
    }
    int offset = compat::instruction_offset(f);
    CacheEntry& entry = cache[cache_slot(co, offset)];
    if (entry.code == co && entry.offset == offset) {
        PyObject* info = entry.info;
        if (PyStructSequence_GET_ITEM(info, kModule) == module &&
            PyStructSequence_GET_ITEM(info, kFilename) == co->co_filename &&
            PyStructSequence_GET_ITEM(info, kFunction) == compat::function_name(co)) {
            return Owned<>::ref(info);
        }
    }
    auto info = build(co, compat::lineno(f), module);
    if (!info) {
        return {};
    }
    // Replace the entry first and release the old references last: releasing them can run
    // arbitrary code (a finalizer) that walks the stack and uses the cache again.
    auto old_code = Owned<PyCodeObject>::steal(entry.code);
    auto old_info = Owned<>::steal(entry.info);
    entry.code = Owned<PyCodeObject>::ref(co).release();
    entry.offset = offset;
    entry.info = Owned<>::ref(info.get()).release();
    return info;
}

}  // namespace fs::walk
