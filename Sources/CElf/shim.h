#include <libelf.h>
#include <gelf.h>
#include <elfutils/libdw.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <elfutils/debuginfod.h>
