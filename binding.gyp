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
      "cflags_cc": ["-Wall", "-Wextra"],
      "conditions": [
        ["keepalive_platform=='linux'", {"sources": ["src/keepalive_linux.cc"]}],
        ["keepalive_platform!='linux'", {"sources": ["src/keepalive_unsupported.cc"]}]
      ]
    }
  ]
}
