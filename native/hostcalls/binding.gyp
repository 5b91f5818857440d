{
  "targets": [
    {
      "target_name": "hostcalls",
      "sources": ["hostcalls.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
