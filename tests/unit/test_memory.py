"""The process keeps page-sized blocks for the next page (pipeline/memory.py)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

# In a fresh process: is a 26 MB block (a 300 dpi colour page) served from the heap, below the
# program break, where a freed one is reused, or from a mapping of its own, faulted in afresh?
PROBE = """
import ctypes, sys, numpy as np
if sys.argv[1] == "keep":
    from pipeline.memory import keep_freed_pages
    assert keep_freed_pages()
libc = ctypes.CDLL(None)
libc.sbrk.restype = ctypes.c_void_p
page = np.empty(26 * 1024 * 1024, np.uint8)
print("heap" if page.ctypes.data < libc.sbrk(0) else "mapped")
"""


def probe(mode: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return done.stdout.strip()


def test_a_page_sized_block_comes_from_the_heap_once_kept() -> None:
    assert probe("default") == "mapped"  # glibc's own choice: mapped, and unmapped when freed
    assert probe("keep") == "heap"
