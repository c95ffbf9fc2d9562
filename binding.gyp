{
  "target_defaults": {
    "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
  },
  "targets": [
    {"target_name": "fastspawn", "sources": ["native/fastspawn.c"]},
    {"target_name": "bindtest", "sources": ["native/bindtest.c"]},
    {"target_name": "trap", "sources": ["native/trapaccept.c", "native/trapalert.c"]},
    {"target_name": "peercred", "sources": ["native/peercred.c"]}
  ]
}
