#define _GNU_SOURCE /* dladdr */
#include "CTprofDemangle.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libiberty/demangle.h>

/* Exported by libswiftCore, which every Swift program links. Flags must be 0. It prints types without sugar
   (Swift.Optional<T>, Swift.Array<T>), unlike swift-demangle. */
extern char *swift_demangle(const char *mangledName, size_t mangledNameLength, char *outputBuffer,
                            size_t *outputBufferSize, uint32_t flags);

/* libswiftDemangle's entry point, with the options swift-demangle prints with by default (type sugar: T?, [T],
   [K : V]). It copies the name into the buffer like strlcpy and returns its full length, or 0 when the name is not a
   Swift symbol. */
typedef size_t (*SugaredDemangle)(const char *mangledName, char *outputBuffer, size_t length);

static SugaredDemangle sugaredDemangle;
static pthread_once_t sugaredDemangleOnce = PTHREAD_ONCE_INIT;

/* libswiftDemangle.so ships with the toolchain in usr/lib, two directories above the runtime's libswiftCore.so
   (usr/lib/swift/linux); the dynamic loader's own search comes first. */
static void loadSugaredDemangle(void) {
    void *library = dlopen("libswiftDemangle.so", RTLD_NOW | RTLD_LOCAL);
    Dl_info runtime;
    if (library == NULL && dladdr((void *)swift_demangle, &runtime) != 0 && runtime.dli_fname != NULL) {
        const char *slash = strrchr(runtime.dli_fname, '/');
        char path[PATH_MAX];
        if (slash != NULL && snprintf(path, sizeof path, "%.*s/../../libswiftDemangle.so",
                                      (int)(slash - runtime.dli_fname), runtime.dli_fname) < (int)sizeof path) {
            library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        }
    }
    if (library != NULL) {
        sugaredDemangle = (SugaredDemangle)dlsym(library, "swift_demangle_getDemangledName");
    }
}

char *CTprofDemangle_native(const char *name) {
    return cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
}

char *CTprofDemangle_swift(const char *name, size_t length) {
    pthread_once(&sugaredDemangleOnce, loadSugaredDemangle);
    if (sugaredDemangle == NULL || strlen(name) != length) {
        return swift_demangle(name, length, NULL, NULL, 0);
    }
    size_t size = 256;
    for (int attempt = 0; attempt < 2; attempt++) {
        char *text = malloc(size);
        if (text == NULL) return NULL;
        size_t full = sugaredDemangle(name, text, size);
        if (full == 0) {
            free(text);
            return NULL;
        }
        if (full < size) return text;
        free(text);
        size = full + 1;
    }
    return NULL;
}
