// error.hpp: what can go wrong when reading another process, as one exception type with a kind.
//
// The binding turns each kind into its own Python exception (framescope.remote); the command
// line prints the message as one line.
#pragma once

#include <stdexcept>
#include <string>

namespace fs::remote {

enum class ErrorKind {
    no_such_process,    // no process with that id
    not_python,         // a process, but no CPython interpreter in it
    unsupported,        // a CPython we do not read (the message says which)
    permission,         // ptrace or memory access refused
    exited,             // the process went away while we read it
    changed,            // the memory kept changing under us (or is not what a CPython holds)
    os,                 // any other system error
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const noexcept { return kind_; }

private:
    ErrorKind kind_;
};

// Thrown by the decoder when remote memory cannot be read or does not hold what the layout says
// it should. Caught by the dump loop, which retries on a fresh snapshot and, after a few
// attempts, reports ErrorKind::changed (or exited, when the process is gone).
class InvalidMemory : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace fs::remote
