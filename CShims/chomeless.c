// The shim is header-only (static inline); this file gives SwiftPM a C
// translation unit for the target.
#include "chomeless.h"
