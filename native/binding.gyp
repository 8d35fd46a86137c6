{
  "variables": {
    "dnnl_include%": "/usr/include",
    "dnnl_lib%": "/usr/lib/x86_64-linux-gnu"
  },
  "targets": [
    {
      "target_name": "mrcl_native",
      "sources": [
        "src/addon.cc",
        "src/conv3d.cc",
        "src/layout.cc",
        "src/elementwise.cc",
        "src/reduce.cc",
        "src/matmul.cc",
        "src/pool3d.cc",
        "src/fused.cc",
        "src/transformer.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<(dnnl_include)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fexceptions", "-fno-trapping-math"],
      "ldflags": ["-fopenmp", "-Wl,-rpath,<(dnnl_lib)"],
      "libraries": ["-L<(dnnl_lib)", "-ldnnl"],
      "conditions": [
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "OTHER_CPLUSPLUSFLAGS": ["-O3", "-Xpreprocessor", "-fopenmp"],
            "OTHER_LDFLAGS": ["-lomp", "-Wl,-rpath,<(dnnl_lib)"]
          }
        }]
      ]
    }
  ]
}
