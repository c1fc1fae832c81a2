"""What the scenarios that write an in-process truth share: reading a code
object's members the way the tool does, naming types as the contract does,
and writing the truth file without making objects the core would show.
Imported by heap_scenario.py and leaks_scenario.py (sys.path[0] is this
directory); it runs on CPython 3.6-3.13, so no 3.7+ syntax."""

import ctypes
import os
import sys
import types

HAS_CO_QUALNAME = hasattr(types.CodeType, "co_qualname")   # 3.11+
HAS_LOCALSPLUS = HAS_CO_QUALNAME                           # 3.11+: co_localsplusnames
# 3.10 keeps co_linetable as the member (co_lnotab is computed); 3.6-3.9 co_lnotab.
HAS_CO_LINETABLE_MEMBER = sys.version_info[:2] == (3, 10)
TYPE_QUALNAME = type.__dict__["__qualname__"].__get__
TYPE_NAME = type.__dict__["__name__"].__get__
TYPE_MODULE = type.__dict__["__module__"].__get__


def _find_localsplus_offset():
    """3.11+ keep a code object's local names and kinds in co_localsplusnames
    and co_localspluskinds, which Python does not expose (co_varnames is a
    new tuple each time); they sit just before co_filename in PyCodeObject
    (3.11-3.13). Find co_filename's offset by its address, once."""
    def sample(a, b=1):
        c = a + b
        return lambda: c
    co = sample.__code__
    for off in range(16, 512, 8):
        if ctypes.c_void_p.from_address(id(co) + off).value == id(co.co_filename):
            return off - 16
    raise SystemExit("co_filename not found in a code object")


LOCALSPLUS_OFFSET = _find_localsplus_offset() if HAS_LOCALSPLUS else None


def code_members(co):
    """The objects a code object holds beyond co_consts/co_names/co_filename/
    co_name/co_qualname: what the tool follows (all its PyObject members)."""
    if not HAS_LOCALSPLUS:
        out = [co.co_code, co.co_varnames, co.co_freevars, co.co_cellvars]
        out.append(co.co_linetable if HAS_CO_LINETABLE_MEMBER else co.co_lnotab)
        return out
    # py_object.from_address reads the PyObject * member itself; ctypes.cast
    # would leave reference cycles behind (the collector is off).
    base = id(co) + LOCALSPLUS_OFFSET
    return [co.co_linetable, co.co_exceptiontable,
            ctypes.py_object.from_address(base).value,
            ctypes.py_object.from_address(base + 8).value]


def type_name(t):
    """module.qualname, builtins without module (contract: Type name)."""
    try:
        qual = TYPE_QUALNAME(t)
    except Exception:
        qual = None
    if not isinstance(qual, str):
        qual = TYPE_NAME(t)
    try:
        mod = TYPE_MODULE(t)
    except Exception:
        mod = None
    if isinstance(mod, str) and mod != "builtins":
        return mod + "." + qual
    return qual


def write_file(path, data):
    """Write DATA to PATH atomically (the test never sees half a truth), with
    os calls only: no io objects, no encoding lookup."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        while data:
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)
    os.rename(tmp, path)


def ready_line():
    sys.stdout.write("ready\n")
    sys.stdout.flush()
