{
  "targets": [
    {
      "target_name": "kernels",
      "sources": ["kernels.c"],
      "include_dirs": ["/usr/include/openblas"],
      "libraries": ["-lopenblas", "-lm"],
      "cflags": ["-O3", "-march=native", "-fno-math-errno", "-std=c11", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
