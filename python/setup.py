"""Build and install the roster module with Debian's setuptools, offline:

    /usr/bin/python3 -m venv --system-site-packages venv
    venv/bin/python -m pip install --no-build-isolation --no-index ./python

(Debian 12's own /usr/bin/python3 is externally managed, PEP 668: pip
refuses to install into it outside a virtual environment.)

The library's sources are compiled into the extension itself (one .so, no
libroster to install beside it), with the flags the CMake build uses.
"""
import glob
import os

from setuptools import Extension, setup

here = os.path.dirname(os.path.abspath(__file__))
top = os.path.dirname(here)


def rel(*parts):
    # setuptools wants paths relative to this directory.
    return os.path.relpath(os.path.join(top, *parts), here)


lib = sorted(rel("src", os.path.basename(p))
             for p in glob.glob(os.path.join(top, "src", "*.c")))

setup(
    name="roster",
    version="0.2.0",
    description="Millions of records of a declared class at close to the "
                "raw size of their data (libroster)",
    ext_modules=[Extension(
        "roster",
        sources=["module.c", "class.c", "query.c", "record.c"] + lib,
        include_dirs=[rel("include"), rel("src")],
        define_macros=[("_POSIX_C_SOURCE", "200809L")],
        extra_compile_args=["-std=c11", "-O2", "-fvisibility=hidden"],
        # PyInit_roster alone is exported (CMakeLists.txt says why).
        extra_link_args=["-Wl,--version-script=" +
                         os.path.join(here, "exports.map")],
    )],
    # PEP 561: a stub-only package beside the module, for editors.
    packages=["roster-stubs"],
    package_data={"roster-stubs": ["__init__.pyi"]},
)
