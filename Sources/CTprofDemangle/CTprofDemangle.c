#include "CTprofDemangle.h"

#include <stdint.h>
#include <libiberty/demangle.h>

/* Exported by libswiftCore, which every Swift program links. Flags must be 0. */
extern char *swift_demangle(const char *mangledName, size_t mangledNameLength, char *outputBuffer,
                            size_t *outputBufferSize, uint32_t flags);

char *CTprofDemangle_native(const char *name) {
    return cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
}

char *CTprofDemangle_swift(const char *name, size_t length) {
    return swift_demangle(name, length, NULL, NULL, 0);
}
