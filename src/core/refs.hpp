// refs.hpp: owned and borrowed references as distinct types.
//
// Rules:
//  - An `Owned` holds one strong reference and releases it when destroyed. It can be moved, not
//    copied; `release()` hands the reference to CPython (e.g. as a function's return value).
//  - A `Borrowed` is a plain pointer that documents "someone else keeps this alive for as long as
//    I use it". It never changes a reference count.
//  - Feature code does not call Py_INCREF/Py_DECREF; it makes an Owned with `Owned::steal()` from
//    a C API call that returns a new reference, or `Owned::ref()` from a borrowed one.
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
