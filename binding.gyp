{
  "variables": {
    # Which platform file implements keepalive.h; overridable (for example
    # -Dkeepalive_platform=none) to build and test the unsupported path on Linux.
    "keepalive_platform%": "<(OS)"
  },
  "targets": [
    {
      "target_name": "tcp_keepalive",
      "sources": ["src/binding.cc"],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api"
      ],
      "defines": ["NAPI_VERSION=8"],
      # Hidden visibility: the addon exports only its N-API registration, so
      # its own functions are neither called through the PLT nor able to
      # clash with another library's. Link-time optimization then inlines
      # the platform file's syscalls into the N-API entry points, as if they
      # were one file. Together measured about 1 % of a whole configuration.
      "cflags_cc": ["-Wall", "-Wextra", "-fvisibility=hidden", "-flto"],
      "ldflags": ["-flto"],
      "conditions": [
        ["keepalive_platform=='linux'", {"sources": ["src/keepalive_linux.cc"]}],
        # macOS: prebuilt on the release workflow's macOS runners, else
        # built from source. Xcode's settings carry the flags there; LTO is
        # left out, as no macOS build of it has been measured. The oldest
        # macOS Node 20 runs on (arm64 Macs start at 11.0 whatever is asked):
        # scripts/check-tarball.cjs checks it.
        ["keepalive_platform=='mac'", {
          "sources": ["src/keepalive_darwin.cc"],
          "xcode_settings": {
            "MACOSX_DEPLOYMENT_TARGET": "10.15",
            "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
            "WARNING_CFLAGS": ["-Wall", "-Wextra"]
          }
        }],
        ["keepalive_platform not in ('linux', 'mac')", {"sources": ["src/keepalive_unsupported.cc"]}]
      ]
    }
  ]
}
