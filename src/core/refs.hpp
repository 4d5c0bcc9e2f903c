// refs.hpp: owned and borrowed references as distinct types.
//
// Rules (for walk/, vars/ and the rest above compat/):
//  - A new reference is an `Owned` from the moment it is received: `Owned::steal()` on what a C
//    API call returns as new (nullptr then means a Python error is set), `Owned::ref()` to take
//    one on a borrowed object. It releases the reference when destroyed, moves but never copies,
//    and `release()` hands it over where CPython takes it (a return value to the interpreter, a
//    stealing call such as PyTuple_SET_ITEM). Feature code does not call Py_INCREF/Py_DECREF.
//  - A `Borrowed` is a reference that someone else keeps alive: the comment beside it names who
//    (the frame, a dict, the caller's arguments). It never changes a reference count. A
//    borrowed reference that is handed on - returned, stored in a struct field or written to an
//    out-parameter - is a `Borrowed`, so that its type says it must not be released and must not
//    outlive its owner.
//  - A borrowed reference is never held across code that can run Python code (a call into the
//    interpreter, an allocation, which may start a collection and so run finalizers): take an
//    `Owned` first.
//  - Parameters stay plain pointers: a PyObject* parameter is borrowed for the call, as in
//    CPython's own API. The version-neutral accessors of compat/ also return plain pointers
//    (borrowed unless they say otherwise): they are the hot path of the walk, shared with the
//    jump code, and each says who keeps what it returns.
#pragma once

#include "compat/python.hpp"

#include <utility>

namespace fs {

template <class T = PyObject>
class Borrowed {
public:
    constexpr Borrowed() noexcept = default;
    constexpr explicit Borrowed(T* p) noexcept : p_(p) {}
    T* get() const noexcept { return p_; }
    PyObject* obj() const noexcept { return reinterpret_cast<PyObject*>(p_); }
    explicit operator bool() const noexcept { return p_ != nullptr; }

private:
    T* p_ = nullptr;
};

template <class T = PyObject>
class Owned {
public:
    constexpr Owned() noexcept = default;
    Owned(const Owned&) = delete;
    Owned& operator=(const Owned&) = delete;
    Owned(Owned&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
    Owned& operator=(Owned&& other) noexcept {
        if (this != &other) {
            reset();
            p_ = std::exchange(other.p_, nullptr);
        }
        return *this;
    }
    ~Owned() { reset(); }

    // Takes over a new reference (or nullptr, meaning a Python error is set).
    static Owned steal(T* p) noexcept { return Owned(p); }
    // Adds a reference to an object that someone else keeps alive.
    static Owned ref(T* p) noexcept {
        Py_XINCREF(reinterpret_cast<PyObject*>(p));
        return Owned(p);
    }
    static Owned ref(Borrowed<T> b) noexcept { return ref(b.get()); }

    T* get() const noexcept { return p_; }
    PyObject* obj() const noexcept { return reinterpret_cast<PyObject*>(p_); }
    Borrowed<T> borrow() const noexcept { return Borrowed<T>(p_); }
    explicit operator bool() const noexcept { return p_ != nullptr; }
    // Hands the reference to the caller (typically as a return value to CPython).
    [[nodiscard]] T* release() noexcept { return std::exchange(p_, nullptr); }
    void reset() noexcept {
        if (T* p = std::exchange(p_, nullptr)) {
            Py_DECREF(reinterpret_cast<PyObject*>(p));
        }
    }

private:
    constexpr explicit Owned(T* p) noexcept : p_(p) {}
    T* p_ = nullptr;
};

}  // namespace fs
