"""Offline stand-in for rules_cc: Bazel 4.2.3 loads @rules_cc//cc:defs.bzl, and Debian's bazel-rules-cc is too new.

It re-exports the native C++ rules, which is all Bazel 4 needs.
"""

cc_binary = native.cc_binary
cc_import = native.cc_import
cc_library = native.cc_library
cc_proto_library = native.cc_proto_library
cc_test = native.cc_test
cc_toolchain = native.cc_toolchain
cc_toolchain_suite = native.cc_toolchain_suite
objc_library = native.objc_library
objc_import = native.objc_import
