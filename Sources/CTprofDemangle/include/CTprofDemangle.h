#ifndef CTPROFDEMANGLE_H
#define CTPROFDEMANGLE_H

#include <stddef.h>

/// Demangles C++ (Itanium) and Rust (legacy, without the hash, and v0) names with libiberty.
/// Returns malloc'd text for the caller to free, or NULL when `name` is not such a mangled name.
char *CTprofDemangle_native(const char *name);

/// Demangles a Swift name as swift-demangle prints it (T?, [T], [K : V]) with the toolchain's libswiftDemangle,
/// or with the runtime's swift_demangle (no sugar) when that library is not found. Returns malloc'd text or NULL.
char *CTprofDemangle_swift(const char *name, size_t length);

#endif
