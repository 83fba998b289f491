#!/usr/bin/env python3
"""Embedding crm from Python with ctypes only: compile a script, feed customers from memory
(JSON), evaluate each one as of a date and print the actions.

Usage: embed.py LIBCRM SCRIPT CUSTOMERS.json DATE   (LIBCRM: path to libcrm.so)
"""
import ctypes
import json
import sys


class Crm:
    """A thin wrapper over crm.h: every call checks its status and frees returned strings."""

    def __init__(self, path):
        lib = ctypes.CDLL(path)
        c_char_pp = ctypes.POINTER(ctypes.c_char_p)
        lib.crm_version.restype = ctypes.c_char_p
        lib.crm_last_error.restype = ctypes.c_char_p
        lib.crm_free.argtypes = [ctypes.c_void_p]
        lib.crm_store_from_json.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
        lib.crm_script_compile_file.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p),
                                                ctypes.POINTER(ctypes.c_void_p)]
        lib.crm_evaluate.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_char_p,
                                     ctypes.POINTER(ctypes.c_void_p)]
        lib.crm_script_free.argtypes = [ctypes.c_void_p]
        lib.crm_store_free.argtypes = [ctypes.c_void_p]
        self.lib = lib

    def version(self):
        return self.lib.crm_version().decode()

    def _take(self, p):
        """The text of a string the library returned, freed with crm_free."""
        if not p.value:
            return None
        text = ctypes.string_at(p.value).decode()
        self.lib.crm_free(p)
        return text

    def _check(self, status, what):
        if status != 0:
            raise RuntimeError(f"{what}: {self.lib.crm_last_error().decode()}")

    def store_from_json(self, data):
        store = ctypes.c_void_p()
        self._check(self.lib.crm_store_from_json(json.dumps(data).encode(), None, ctypes.byref(store)), "customers")
        return store

    def compile_file(self, path, store):
        script, diags = ctypes.c_void_p(), ctypes.c_void_p()
        status = self.lib.crm_script_compile_file(path.encode(), store, ctypes.byref(script), ctypes.byref(diags))
        diagnostics = json.loads(self._take(diags) or "[]")
        if status != 0:
            raise RuntimeError("\n".join(d["rendered"] for d in diagnostics) or self.lib.crm_last_error().decode())
        return script

    def evaluate(self, store, script, customer, date):
        out = ctypes.c_void_p()
        self._check(self.lib.crm_evaluate(store, script, customer, date.encode(), ctypes.byref(out)),
                    f"customer {customer}")
        return self._take(out)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    libpath, script_path, customers_path, date = sys.argv[1:]
    crm = Crm(libpath)
    with open(customers_path) as f:
        data = json.load(f)  # any dict of the same shape will do: customers come from memory
    store = crm.store_from_json(data)
    script = crm.compile_file(script_path, store)
    try:
        for customer in (1, 2, 3):
            for action in json.loads(crm.evaluate(store, script, customer, date)):
                print(f"customer {customer}: {json.dumps(action, separators=(',', ':'), ensure_ascii=False)}")
    finally:
        crm.lib.crm_script_free(script)
        crm.lib.crm_store_free(store)


if __name__ == "__main__":
    main()
