{
  "targets": [
    {
      "target_name": "fastspawn",
      "sources": ["native/fastspawn.c", "native/bindtest.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
