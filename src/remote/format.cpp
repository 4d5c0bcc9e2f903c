// format.cpp: the text and JSON forms of a dump (see format.hpp).
#include "format.hpp"

#include "decode.hpp"

#include <cstdio>

namespace fs::remote {
namespace {

// Decodes UTF-8 (invalid bytes as U+FFFD, as the Python side decodes with errors="replace").
std::u32string decode_utf8(const std::string& s) {
    std::u32string out;
    for (size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
        bool ok = len > 0 && i + static_cast<size_t>(len) <= s.size();
        for (int k = 1; ok && k < len; ++k) {
            auto cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
            ok = (cc >> 6) == 2;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (!ok) {
            out += U'\uFFFD';
            i += 1;
            continue;
        }
        out += cp;
        i += static_cast<size_t>(len);
    }
    return out;
}

void utf8_replace(std::string& out, const std::string& s) {
    for (char32_t c : decode_utf8(s)) {
        append_utf8(out, c);
    }
}

// A JSON string as Python's json.dumps writes it (ensure_ascii).
void json_string(std::string& out, const std::string& s) {
    out += '"';
    char buf[16];
    for (char32_t c : decode_utf8(s)) {
        switch (c) {
            case U'"': out += "\\\""; continue;
            case U'\\': out += "\\\\"; continue;
            case U'\n': out += "\\n"; continue;
            case U'\r': out += "\\r"; continue;
            case U'\t': out += "\\t"; continue;
            case U'\b': out += "\\b"; continue;
            case U'\f': out += "\\f"; continue;
            default: break;
        }
        if (c >= 0x20 && c < 0x7F) {
            out += static_cast<char>(c);
        } else if (c < 0x10000) {
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            out += buf;
        } else {
            char32_t v = c - 0x10000;
            std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (v >> 10)),
                          static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
            out += buf;
        }
    }
    out += '"';
}

std::string number_or_null(int64_t n) { return n < 0 ? std::string("null") : std::to_string(n); }

// Begins the member `key` of a JSON object whose members stand `indent` spaces in; a comma
// before it unless it is the object's first.
void json_key(std::string& out, size_t indent, const char* key, bool first = false) {
    out += first ? "\n" : ",\n";
    out.append(indent, ' ');
    out += '"';
    out += key;
    out += "\": ";
}

// A member whose value is already JSON text.
void json_member(std::string& out, size_t indent, const char* key, const std::string& value,
                 bool first = false) {
    json_key(out, indent, key, first);
    out += value;
}

std::string quoted(const std::string& s) {
    std::string out;
    json_string(out, s);
    return out;
}

// One frame of a thread's "frames" list.
void frame_json(std::string& o, const FrameRecord& fr, bool first, bool locals) {
    o += first ? "\n        {" : ",\n        {";
    json_member(o, 10, "filename", quoted(fr.filename), true);
    json_member(o, 10, "lineno", number_or_null(fr.lineno));
    json_member(o, 10, "function", quoted(fr.function));
    if (locals) {
        json_key(o, 10, "locals");
        if (fr.locals.empty()) {
            o += "{}";
        } else {
            o += "{";
            for (size_t v = 0; v < fr.locals.size(); ++v) {
                o += v ? ",\n            " : "\n            ";
                json_string(o, fr.locals[v].first);
                o += ": ";
                json_string(o, fr.locals[v].second);
            }
            o += "\n          }";
        }
    }
    o += "\n        }";
}

}  // namespace

std::string to_json(const DumpResult& r, bool locals) {
    // The layout of json.dumps(document, indent=2).
    std::string o = "{";
    json_member(o, 2, "pid", std::to_string(r.pid), true);
    json_member(o, 2, "python_version", quoted(r.python_version));
    json_key(o, 2, "threads");
    o += "[";
    for (size_t t = 0; t < r.threads.size(); ++t) {
        const ThreadRecord& th = r.threads[t];
        o += t ? ",\n    {" : "\n    {";
        json_member(o, 6, "thread_id", std::to_string(th.thread_id), true);
        json_member(o, 6, "native_id", number_or_null(th.native_id));
        json_member(o, 6, "name", th.name.empty() ? std::string("null") : quoted(th.name));
        json_key(o, 6, "frames");
        o += "[";
        for (size_t f = 0; f < th.frames.size(); ++f) {
            frame_json(o, th.frames[f], f == 0, locals);
        }
        o += th.frames.empty() ? "]" : "\n      ]";
        o += "\n    }";
    }
    o += r.threads.empty() ? "]\n}\n" : "\n  ]\n}\n";
    return o;
}

std::string to_text(const DumpResult& r, bool locals) {
    std::string o = "Process ";
    o += std::to_string(r.pid);
    o += ": Python ";
    o += r.python_version;
    o += ", ";
    o += std::to_string(r.threads.size());
    o += r.threads.size() == 1 ? " thread\n" : " threads\n";
    for (const ThreadRecord& th : r.threads) {
        o += "\nThread ";
        o += std::to_string(th.thread_id);
        if (th.native_id >= 0) {
            o += ", native id ";
            o += std::to_string(th.native_id);
        }
        if (!th.name.empty()) {
            o += " \"";
            utf8_replace(o, th.name);
            o += "\"";
        }
        o += "\n";
        if (th.frames.empty()) {
            o += "    (no Python frames)\n";
        }
        for (const FrameRecord& fr : th.frames) {
            o += "    ";
            utf8_replace(o, fr.function);
            o += "  (";
            utf8_replace(o, fr.filename);
            o += ":";
            o += fr.lineno < 0 ? std::string("?") : std::to_string(fr.lineno);
            o += ")\n";
            if (locals) {
                for (const auto& [name, value] : fr.locals) {
                    o += "        ";
                    utf8_replace(o, name);
                    o += " = ";
                    utf8_replace(o, value);
                    o += "\n";
                }
            }
        }
    }
    return o;
}


std::string stats_line(const DumpResult& r) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "framescope dump: target stopped %.3f ms; %d snapshot(s), %zu read system "
                  "calls, %zu pages\n",
                  static_cast<double>(r.stopped_ns) / 1e6, r.attempts, r.read_syscalls, r.pages);
    return buf;
}

}  // namespace fs::remote
