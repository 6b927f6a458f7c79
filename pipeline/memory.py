"""How the process hands memory back: kept for the next page instead of returned at once.

Every page passes through a dozen arrays of its own size (a 300 dpi A4 page is 26 MB in colour,
9 MB in grey). glibc's malloc serves blocks that size by mapping fresh pages from the kernel and
unmaps them when freed, so each page's arrays are faulted in again, one 4 KB page at a time: on
this project's 2-core machine 430,000 faults and 2 s of system time for 30 PDF pages, against
27,000 and 1.1 s with the blocks kept (docs/benchmarks.md, twenty-first session). The readings
are the same either way; the process keeps what its largest page needed, which it needs again
for the next.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("shinsei.memory")

# mallopt(3) parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# Blocks under this are served from the heap, not mapped each time: above a colour page (26 MB);
# glibc accepts up to 32 MB on 64-bit systems.
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 1 << 30  # free memory at the heap's top is kept up to this much


def keep_freed_pages() -> bool:
    """Tell glibc's malloc to keep page-sized blocks for reuse (see the module docstring). True
    when it took the settings; False where the C library is not glibc (nothing changes there)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    log.debug("malloc keeps freed pages: %s", ok)
    return ok
