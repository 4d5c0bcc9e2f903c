// binding.cpp: framescope._remote, the Python face of the remote reader.
//
// A module of its own rather than part of framescope._core: the reader does not include
// CPython's headers for the target (it reads any version, whatever Python runs it), it links
// libelf, and `import framescope` should not load either. Results are plain dicts and lists;
// framescope/remote.py turns them into records and errors into its exception classes.
#include "dump.hpp"
#include "format.hpp"
#include "error.hpp"
#include "process.hpp"

#include <nanobind/nanobind.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/string.h>

#include <cstring>

namespace nb = nanobind;
using namespace fs::remote;

namespace {

PyObject* error_type = nullptr;

// Text from the target as a str. The decoder produces UTF-8, but a thread name from /proc or a
// type name from remote memory may be any bytes: undecodable ones become U+FFFD.
nb::object text(const std::string& s) {
    PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
    if (o == nullptr) {
        throw nb::python_error();
    }
    return nb::steal(o);
}

const char* kind_name(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::no_such_process: return "no_such_process";
        case ErrorKind::not_python: return "not_python";
        case ErrorKind::unsupported: return "unsupported";
        case ErrorKind::permission: return "permission";
        case ErrorKind::exited: return "exited";
        case ErrorKind::changed: return "changed";
        case ErrorKind::os: return "os";
    }
    return "os";
}

nb::list threads_to_python(const std::vector<ThreadRecord>& threads, bool locals) {
    nb::list out;
    for (const ThreadRecord& t : threads) {
        nb::list frames;
        for (const FrameRecord& f : t.frames) {
            nb::dict frame;
            frame["filename"] = text(f.filename);
            frame["lineno"] = f.lineno < 0 ? nb::none() : nb::object(nb::int_(f.lineno));
            frame["function"] = text(f.function);
            if (locals) {
                nb::dict vars;
                for (const auto& [name, repr] : f.locals) {
                    vars[text(name)] = text(repr);
                }
                frame["locals"] = vars;
            }
            frames.append(frame);
        }
        nb::dict thread;
        thread["thread_id"] = nb::int_(t.thread_id);
        thread["native_id"] = t.native_id < 0 ? nb::none() : nb::object(nb::int_(t.native_id));
        thread["name"] = t.name.empty() ? nb::none() : text(t.name);
        thread["frames"] = frames;
        thread["truncated"] = t.truncated;
        out.append(thread);
    }
    return out;
}

nb::dict target_to_python(const Target& t) {
    nb::dict d;
    d["pid"] = t.pid;
    d["runtime"] = t.runtime;
    d["version_hex"] = t.version_hex;
    d["binary"] = t.binary;
    const TypeAddresses& ty = t.types;
    nb::dict types;
#define FS_TYPE(name) types[#name] = ty.name;
    FS_TYPE(long_type) FS_TYPE(bool_type) FS_TYPE(float_type) FS_TYPE(str_type)
    FS_TYPE(bytes_type) FS_TYPE(tuple_type) FS_TYPE(list_type) FS_TYPE(dict_type)
    FS_TYPE(set_type) FS_TYPE(frozenset_type) FS_TYPE(none_type) FS_TYPE(code_type)
    FS_TYPE(cell_type) FS_TYPE(none) FS_TYPE(true_) FS_TYPE(false_) FS_TYPE(set_dummy)
#undef FS_TYPE
    d["types"] = types;
    return d;
}

Target target_from_python(const nb::dict& d) {
    Target t;
    t.pid = nb::cast<int>(d["pid"]);
    t.runtime = nb::cast<uint64_t>(d["runtime"]);
    t.version_hex = nb::cast<uint32_t>(d["version_hex"]);
    t.binary = nb::cast<std::string>(d["binary"]);
    nb::dict types = nb::cast<nb::dict>(d["types"]);
    TypeAddresses& ty = t.types;
#define FS_TYPE(name) ty.name = nb::cast<uint64_t>(types[#name]);
    FS_TYPE(long_type) FS_TYPE(bool_type) FS_TYPE(float_type) FS_TYPE(str_type)
    FS_TYPE(bytes_type) FS_TYPE(tuple_type) FS_TYPE(list_type) FS_TYPE(dict_type)
    FS_TYPE(set_type) FS_TYPE(frozenset_type) FS_TYPE(none_type) FS_TYPE(code_type)
    FS_TYPE(cell_type) FS_TYPE(none) FS_TYPE(true_) FS_TYPE(false_) FS_TYPE(set_dummy)
#undef FS_TYPE
    return t;
}

}  // namespace

NB_MODULE(_remote, m) {
    m.doc() = "framescope's reader of other processes. Use framescope.remote, not this module.";

    error_type = PyErr_NewException("framescope._remote.Error", nullptr, nullptr);
    if (error_type == nullptr) {
        throw nb::python_error();
    }
    m.attr("Error") = nb::handle(error_type);
    nb::register_exception_translator([](const std::exception_ptr& p, void*) {
        try {
            std::rethrow_exception(p);
        } catch (const Error& e) {
            nb::object args = nb::make_tuple(kind_name(e.kind()), e.what());
            PyErr_SetObject(error_type, args.ptr());
        } catch (const InvalidMemory& e) {
            nb::object args = nb::make_tuple("changed", e.what());
            PyErr_SetObject(error_type, args.ptr());
        }
    });

    m.def(
        "dump",
        [](int pid, bool locals, bool block, int attempts, double hold_stopped) {
            DumpOptions options;
            options.locals = locals;
            options.block = block;
            options.attempts = attempts;
            options.hold_stopped_ns = static_cast<uint64_t>(hold_stopped * 1e9);
            DumpResult r;
            {
                nb::gil_scoped_release no_gil;
                r = dump(pid, options);
            }
            nb::dict d;
            d["pid"] = r.pid;
            d["python_version"] = r.python_version;
            d["threads"] = threads_to_python(r.threads, locals);
            nb::dict stats;
            stats["stopped_ns"] = r.stopped_ns;
            stats["stopping_ns"] = r.stopping_ns;
            stats["attempts"] = r.attempts;
            stats["read_syscalls"] = r.read_syscalls;
            stats["pages"] = r.pages;
            d["stats"] = stats;
            return d;
        },
        nb::arg("pid"), nb::arg("locals") = false, nb::arg("block") = true,
        nb::arg("attempts") = 3, nb::arg("hold_stopped") = 0.0);

    // `framescope dump` through Python: the same formatter as the native command.
    m.def(
        "dump_formatted",
        [](int pid, bool locals, bool block, bool json) {
            DumpOptions options;
            options.locals = locals;
            options.block = block;
            DumpResult r;
            {
                nb::gil_scoped_release no_gil;
                r = dump(pid, options);
            }
            std::string out = json ? to_json(r, locals) : to_text(r, locals);
            std::string stats = stats_line(r);
            return nb::make_tuple(nb::bytes(out.data(), out.size()),
                                  nb::bytes(stats.data(), stats.size()));
        },
        nb::arg("pid"), nb::arg("locals") = false, nb::arg("block") = true,
        nb::arg("json") = false);

    m.def(
        "capture",
        [](int pid, bool locals) {
            Capture c;
            {
                nb::gil_scoped_release no_gil;
                c = capture(pid, locals);
            }
            nb::dict pages;
            for (const auto& [addr, data] : c.pages) {
                pages[nb::int_(addr)] = nb::bytes(data.data(), data.size());
            }
            return nb::make_tuple(target_to_python(c.target), pages);
        },
        nb::arg("pid"), nb::arg("locals") = true);

    m.def(
        "decode",
        [](const nb::dict& target, const nb::dict& pages, bool locals) {
            Target t = target_from_python(target);
            std::map<uint64_t, std::string> image;
            for (auto [addr, data] : pages) {
                nb::bytes b = nb::cast<nb::bytes>(data);
                image.emplace(nb::cast<uint64_t>(addr), std::string(b.c_str(), b.size()));
            }
            std::vector<ThreadRecord> threads;
            {
                nb::gil_scoped_release no_gil;
                threads = decode_capture(t, std::move(image), locals);
            }
            return threads_to_python(threads, locals);
        },
        nb::arg("target"), nb::arg("pages"), nb::arg("locals") = true);

    m.def("layout", [](int minor) {
        const Layout* l = compiled_layout(minor);
        nb::dict d;
        if (l != nullptr) {
            for (const auto& [name, value] : l->fields()) {
                d[nb::str(name.c_str())] = value;
            }
        }
        return d;
    });

    m.def("target_layout", [](int pid) {
        Layout l;
        {
            nb::gil_scoped_release no_gil;
            l = effective_layout(pid);
        }
        nb::dict d;
        for (const auto& [name, value] : l.fields()) {
            d[nb::str(name.c_str())] = value;
        }
        return d;
    });

    m.def("process_state", [](int pid) {
        char s = process_state(pid);
        return s == 0 ? std::string() : std::string(1, s);
    });
    m.def("float_repr", &float_repr);
    m.def("str_repr", [](nb::bytes utf32le, bool cut) {
        std::u32string text(utf32le.size() / 4, U'\0');
        std::memcpy(text.data(), utf32le.c_str(), text.size() * 4);
        return str_repr(text, cut);
    });
    m.def("bytes_repr", [](nb::bytes data, bool cut) {
        return bytes_repr(std::string(data.c_str(), data.size()), cut);
    });
    m.def("line_from_location_table", [](nb::bytes table, int first, int64_t index) {
        return line_from_location_table(std::string_view(table.c_str(), table.size()), first, index);
    });
    m.def("line_from_310_table", [](nb::bytes table, int first, int64_t addr) {
        return line_from_310_table(std::string_view(table.c_str(), table.size()), first, addr);
    });
}
