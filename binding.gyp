{
  "targets": [
    {
      "target_name": "fastspawn",
      "sources": ["native/fastspawn.c", "native/bindtest.c", "native/trapaccept.c", "native/trapalert.c",
                  "native/peercred.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
