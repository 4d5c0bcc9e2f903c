// format.hpp: a dump as `framescope dump` prints it, for the native command and for
// `python -m framescope dump` alike (one formatter, so the two cannot drift apart).
#pragma once

#include "dump.hpp"

#include <string>

namespace fs::remote {

// The text form: a header line, then each thread with its frames (and, with `locals`, each
// frame's variables). Strings are UTF-8, invalid bytes replaced.
std::string to_text(const DumpResult& r, bool locals);
// The JSON form, laid out as Python's json.dumps(document, indent=2) lays it out.
std::string to_json(const DumpResult& r, bool locals);
// The line --stats prints on stderr.
std::string stats_line(const DumpResult& r);

}  // namespace fs::remote
