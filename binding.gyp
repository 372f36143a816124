{
  "targets": [
    {
      "target_name": "xvpc",
      "sources": ["native/addon/addon.cc", "native/addon/errors.cc", "native/addon/bpf_object.cc",
                  "native/addon/maps.cc", "native/addon/map_batch.cc", "native/addon/fds.cc",
                  "native/addon/attach.cc", "native/addon/test_run.cc",
                  "native/addon/capture.cc", "native/addon/pcap.cc", "native/addon/netlink.cc",
                  "native/addon/netns.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wno-missing-field-initializers"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-lbpf", "-lelf", "-lz", "-lpcap"]
    }
  ]
}
