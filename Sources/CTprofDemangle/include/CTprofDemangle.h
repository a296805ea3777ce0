#ifndef CTPROFDEMANGLE_H
#define CTPROFDEMANGLE_H

#include <stddef.h>

/// Demangles C++ (Itanium) and Rust (legacy, without the hash, and v0) names with libiberty.
/// Returns malloc'd text for the caller to free, or NULL when `name` is not such a mangled name.
char *CTprofDemangle_native(const char *name);

/// Demangles a Swift name with the Swift runtime's demangler. Returns malloc'd text or NULL.
char *CTprofDemangle_swift(const char *name, size_t length);

#endif
