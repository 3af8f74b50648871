{
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
        ["OS=='linux'", {"sources": ["src/keepalive_linux.cc"]}],
        ["OS!='linux'", {"sources": ["src/keepalive_unsupported.cc"]}]
      ]
    }
  ]
}
